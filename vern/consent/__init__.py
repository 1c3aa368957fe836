"""Cookie consent: the banner, the choice, the blocking of optional scripts, and proof of every decision."""
