"""Turn ``DATABASE_URL`` and ``EMAIL_URL`` into Django settings, strictly."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url

from vern.lib.env import ConfigError
from vern.lib.private import private_file

EMAIL_SCHEMES = ("smtp", "smtp+starttls", "smtps", "console")
DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")


def database_settings(url: str, *, sqlite_timeout: int = 20) -> dict[str, Any]:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL uses {scheme or 'no'} scheme; vern runs on sqlite:///path or postgres://user@host/db"
        )
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL cannot be parsed: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = str(config["NAME"])
        if not name or name == ":memory:":
            raise ConfigError("DATABASE_URL for SQLite needs a file, e.g. sqlite:////srv/vern/vern.sqlite3")
        # Readable by vern's user only: it holds live staff sessions (its -wal and -shm follow its mode).
        private_file(Path(name))
        config["OPTIONS"] = {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the
            # write lock when a transaction starts, so two writers queue on the
            # busy timeout instead of failing with "database is locked" half-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": sqlite_timeout,
        }
        config["CONN_MAX_AGE"] = 0
    else:
        options = dict(config.get("OPTIONS") or {})
        options.setdefault("connect_timeout", 5)
        config["OPTIONS"] = options
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    return config


def email_settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in EMAIL_SCHEMES:
        wanted = ", ".join(f"{s}://" for s in EMAIL_SCHEMES)
        raise ConfigError(f"EMAIL_URL must start with one of {wanted}")
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "vern.mail.backends.ConsoleBackend"}
    if not parts.hostname:
        raise ConfigError("EMAIL_URL has no host; e.g. EMAIL_URL=smtp://127.0.0.1:1025")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("EMAIL_URL has a port that is not a number") from None
    query = parse_qs(parts.query)
    timeout_text = query.get("timeout", ["10"])[0]
    if not timeout_text.isdigit() or int(timeout_text) == 0:
        raise ConfigError("EMAIL_URL timeout= must be a whole number of seconds, e.g. ?timeout=10")
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+starttls",
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_TIMEOUT": int(timeout_text),
    }
