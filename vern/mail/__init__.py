"""Outgoing email: one function per email type, an outbox table, SMTP delivery by the worker."""
