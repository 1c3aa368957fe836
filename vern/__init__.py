"""vern: the privacy policy as a declaration that the software obeys."""

__version__ = "0.1.0"
