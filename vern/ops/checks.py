"""System checks: each misconfiguration explained in one line.

Parse errors of single variables stop start-up earlier, in ``vern.lib.env``;
these checks judge settings together (a public host that is not an allowed
host) and, with ``--deploy``, what is fine on a laptop but not in production.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from vern.lib.private import loose
from vern.ops.selectors import cache_answers


@register(Tags.security)
def check_public_url(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    host = settings.VERN_PUBLIC_HOST
    if "*" not in settings.ALLOWED_HOSTS and host not in settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                f"VERN_PUBLIC_URL's host {host!r} is not in ALLOWED_HOSTS, so every request to it is refused.",
                hint=f"Add {host} to ALLOWED_HOSTS or leave ALLOWED_HOSTS unset.",
                id="vern.E001",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, which allows host-header attacks.",
                hint="List the host names vern is served under.",
                id="vern.W001",
            )
        )
    return problems


@register(Tags.security)
def check_data_dir(app_configs: Any, **kwargs: Any) -> list[Error]:
    data_dir = settings.DATA_DIR
    if not os.access(data_dir, os.W_OK):
        return [
            Error(
                f"VERN_DATA_DIR {data_dir} is not writable, so the database, keys and static files cannot be kept.",
                hint="Point VERN_DATA_DIR at a directory the vern user owns.",
                id="vern.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problems: list[Warning] = []
    if not settings.HTTPS:
        problems.append(
            Warning(
                "VERN_PUBLIC_URL is http://: logins and personal data would travel unencrypted (P18).",
                hint="Serve vern behind TLS and set VERN_PUBLIC_URL=https://your.host",
                id="vern.W002",
            )
        )
    if settings.EMAIL_BACKEND == "vern.mail.backends.ConsoleBackend":
        problems.append(
            Warning(
                "EMAIL_URL is console://: mail is printed by the worker, never delivered.",
                hint="Set EMAIL_URL=smtp+starttls://user:password@smtp.example.com:587",
                id="vern.W003",
            )
        )
    if "@localhost" in settings.DEFAULT_FROM_EMAIL:
        problems.append(
            Warning(
                f"VERN_MAIL_FROM is {settings.DEFAULT_FROM_EMAIL!r}: receiving servers will reject or junk it.",
                hint="Set VERN_MAIL_FROM to an address of your own domain, e.g. 'Kaukus <support@kaukus.no>'.",
                id="vern.W004",
            )
        )
    return problems


def _same_database(first: str, second: str) -> bool:
    """Whether two database URLs name the same database (host, port and name; scheme aliases alike)."""
    a, b = urlsplit(first), urlsplit(second)
    if {a.scheme, b.scheme} <= {"postgres", "postgresql"}:
        return (a.hostname or "localhost", a.port or 5432, a.path) == (
            b.hostname or "localhost",
            b.port or 5432,
            b.path,
        )
    return a.scheme == b.scheme == "sqlite" and os.path.realpath(a.path) == os.path.realpath(b.path)


@register("vern")
def check_erasure_journal(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.ERASURE_JOURNAL_URL and _same_database(settings.ERASURE_JOURNAL_URL, settings.DATABASE_URL):
        return [
            Error(
                "ERASURE_JOURNAL_URL names vern's own database: restoring a backup of it would bring back "
                "erased people together with a journal that no longer names them.",
                hint="Give the journal a database of its own, e.g. postgres://…/vern_journal, backed up separately.",
                id="vern.E003",
            )
        ]
    return []


@register("vern", deploy=True)
def check_erasure_journal_shared(app_configs: Any, **kwargs: Any) -> list[Warning]:
    journal = settings.ERASURE_JOURNAL_URL
    if settings.DATABASE_URL.startswith("sqlite:") or journal.startswith(("postgres", "postgresql")):
        return []
    return [
        Warning(
            "vern's database is PostgreSQL but the erasure journal is a file on this machine: a worker on "
            "another machine would keep its own journal, and a replay after a restore would miss its erasures.",
            hint="With workers on several machines, set ERASURE_JOURNAL_URL=postgres://…/vern_journal "
            "(docs/deploy.md).",
            id="vern.W005",
        )
    ]


@register(Tags.security, deploy=True)
def check_data_at_rest(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The data directory, the SQLite database with its -wal and -shm, and the key files, private to vern's user."""
    data_dir = Path(settings.DATA_DIR)
    candidates = [data_dir]
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        name = Path(str(database["NAME"]))
        candidates += [name, name.with_name(name.name + "-wal"), name.with_name(name.name + "-shm")]
    candidates += sorted(data_dir.glob("*.key")) + sorted(data_dir.glob("*_key*")) + sorted(data_dir.glob("erasure-*"))
    found = [str(path) for path in dict.fromkeys(candidates) if loose(path)]
    if not found:
        return []
    return [
        Warning(
            f"Others than vern's user may read {', '.join(found)}: the database holds live staff sessions, "
            "so a local account could copy one and open the console.",
            hint="chmod 700 the data directory and chmod 600 the files in it, as vern creates them (P24).",
            id="vern.W006",
        )
    ]


@register("vern", deploy=True)
def check_redis(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """With ``REDIS_URL``, every rate limit (staff login too) counts in Redis: it must answer."""
    if not settings.REDIS_URL or cache_answers():
        return []
    return [
        Warning(
            "REDIS_URL is set, but Redis does not answer: every rate-limited page, staff login included, would fail.",
            hint="Start Redis or correct REDIS_URL; unset it to keep the counters in the database instead.",
            id="vern.W007",
        )
    ]
