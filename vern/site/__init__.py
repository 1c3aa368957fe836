"""The public site: pages, base templates, navigation and language."""
