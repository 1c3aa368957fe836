"""The personal-data registry: which models hold personal data, and how to find, export and erase it."""
