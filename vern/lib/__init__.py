"""Framework-light helpers: no models, no imports from vern's apps."""
