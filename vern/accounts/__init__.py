"""Staff accounts, roles and the access checks every staff page goes through."""
