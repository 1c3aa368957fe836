"""The erasure journal: the keys of every erased person, in a database of its own.

A restored backup of vern's database brings back the rows of people erased since
it was taken, and an older ``Tombstone`` table with them. So every erasure also
writes the person's keys (blind indexes, a row for each form the person was
found under, and consent ids; never an address) into a journal kept apart,
before any data is touched, and ``vern rights replay-erasures`` erases them
again after a restore.

The journal is one table in its own database, named by ``ERASURE_JOURNAL_URL``:

- unset, it is the SQLite file ``erasure-journal.sqlite3`` in the data directory
  (mode 0600): right for one machine, where the worker that carries out erasures
  runs;
- with several machines, a PostgreSQL database that every worker reaches and that
  no restore of vern's own database overwrites (``docs/deploy.md``).

The table is only ever appended to. Connections are opened per call: erasures
are rare, and nothing is pooled that a forked worker could share by mistake.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

log = logging.getLogger(__name__)

JOURNAL_FILE = "erasure-journal.sqlite3"
TABLE = "vern_erasure_journal"
# Keys are blind indexes (hex) or consent ids (random, URL-safe); a row with anything else is
# not understood, skipped, and said so.
KINDS = ("email", "phone", "consent_id")
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_CREATE = {
    "sqlite": f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL, erased_at TEXT NOT NULL)",
    "postgres": f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, erased_at TEXT NOT NULL)",
}


class JournalUnavailable(RuntimeError):
    """The journal cannot be written or read: no erasure goes ahead without it."""


def journal_url() -> str:
    """The journal's database: ``ERASURE_JOURNAL_URL``, or a SQLite file in the data directory."""
    configured = str(getattr(settings, "ERASURE_JOURNAL_URL", "") or "")
    return configured or f"sqlite:///{Path(settings.DATA_DIR) / JOURNAL_FILE}"


def describe(url: str) -> str:
    """Where the journal is, for a person: the file, or the database without its password."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return str(_sqlite_path(url))
    host = parts.hostname or "localhost"
    return f"PostgreSQL database {parts.path.lstrip('/') or '?'} on {host}"


def _sqlite_path(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _kind_of(url: str) -> str:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    raise JournalUnavailable(f"the erasure journal's URL must be sqlite:///path or postgres://…, not {scheme}://")


@contextmanager
def _connect(url: str, *, create: bool) -> Iterator[tuple[Any, str]]:
    """A connection to the journal and its dialect ("sqlite" or "postgres"), the table made if asked."""
    kind = _kind_of(url)
    failures: tuple[type[Exception], ...] = (OSError, sqlite3.Error)
    try:
        if kind == "sqlite":
            path = _sqlite_path(url)
            if not create and not path.exists():
                raise JournalUnavailable(f"no erasure journal at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            # Made by us, readable by the owner only: it names (by keyed hash) everyone erased.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            connection: Any = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA synchronous=FULL")
        else:
            # Imported only where the journal is on PostgreSQL: libpq and its TLS libraries cost each
            # process of an installation on SQLite about 10 MiB it would never use.
            import psycopg

            failures = (OSError, sqlite3.Error, psycopg.Error)
            connection = psycopg.connect(url, connect_timeout=5, autocommit=True)
    except failures as exc:
        raise JournalUnavailable(f"the erasure journal ({describe(url)}) cannot be opened: {exc}") from None
    with closing(connection):
        try:
            if create:
                connection.execute(_CREATE[kind])
            yield connection, kind
        except failures as exc:
            raise JournalUnavailable(f"the erasure journal ({describe(url)}) failed: {exc}") from None


def utc_text(moment: dt.datetime) -> str:
    # To the microsecond: replay compares it with the rows' own times.
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def journal_append(keys: Iterable[tuple[str, str]], erased_at: dt.datetime, *, url: str | None = None) -> int:
    """Write the keys into the journal and return once they are durable there; how many were written."""
    rows = [(kind, key, utc_text(erased_at)) for kind, key in keys]
    if not rows:
        return 0
    for kind, key, _ in rows:
        if kind not in KINDS or not _KEY.match(key):
            raise ValueError(f"not a key for the erasure journal: {kind}")
    with _connect(url or journal_url(), create=True) as (connection, dialect):
        marker = "?" if dialect == "sqlite" else "%s"
        statement = f"INSERT INTO {TABLE} (kind, key, erased_at) VALUES ({marker}, {marker}, {marker})"  # noqa: S608 (constants only)
        if dialect == "sqlite":
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(statement, rows)
            connection.execute("COMMIT")
        else:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(statement, rows)
    return len(rows)


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def journal_read(url: str | None = None) -> dict[tuple[str, str], dt.datetime | None]:
    """The (kind, key) pairs of the journal, each with the latest time it was erased.

    A journal that does not exist yet holds nothing. Raises ``JournalUnavailable`` when it
    cannot be read: a replay must not pass over people it cannot see.
    """
    url = url or journal_url()
    if _kind_of(url) == "sqlite" and not _sqlite_path(url).exists():
        return {}
    found: dict[tuple[str, str], dt.datetime | None] = {}
    skipped = 0
    with _connect(url, create=True) as (connection, _dialect):
        rows = connection.execute(f"SELECT kind, key, erased_at FROM {TABLE} ORDER BY id").fetchall()  # noqa: S608
    for kind, key, when in rows:
        if kind not in KINDS or not isinstance(key, str) or not _KEY.match(key):
            skipped += 1
            continue
        moment = _parse_time(when)
        earlier = found.get((kind, key))
        found[(kind, key)] = moment if earlier is None or (moment is not None and moment > earlier) else earlier
    if skipped:
        log.warning("erasure journal: %d row(s) not understood and skipped", skipped)
    return found


# ------------------------------------------------------------------ the journal file of earlier versions

LEGACY_FILE = "erasure-journal.txt"
_LEGACY_LINE = re.compile(r"^(email|phone|consent_id)\t([A-Za-z0-9_\-]{1,64})(?:\t(\S+))?$")


def legacy_path() -> Path:
    """Where vern kept its journal before it had a database of its own: a text file in the data directory."""
    return Path(settings.DATA_DIR) / LEGACY_FILE


def is_legacy_file(path: Path) -> bool:
    """Whether ``path`` is a journal file of earlier versions (text), not a SQLite journal."""
    with path.open("rb") as file:
        return not file.read(16).startswith(b"SQLite format 3")


def legacy_read(path: Path | None = None) -> dict[tuple[str, str], dt.datetime | None]:
    """The (kind, key) pairs of a journal file of earlier versions (a line each: kind, key and time,
    separated by tabs), with the latest time each was erased; none if there is no such file.

    An installation that upgraded still has it: a backup from before the upgrade may bring back
    people erased before it, so a replay reads this file too.
    """
    path = path or legacy_path()
    found: dict[tuple[str, str], dt.datetime | None] = {}
    if not path.exists():
        return found
    skipped = 0
    with path.open(encoding="ascii", errors="replace") as journal:
        for raw in journal:
            match = _LEGACY_LINE.match(raw.rstrip("\n"))
            if match is None:
                skipped += raw.strip() != ""
                continue
            kind, key, when = match.groups()
            moment = _parse_time(when)
            earlier = found.get((kind, key))
            found[(kind, key)] = moment if earlier is None or (moment is not None and moment > earlier) else earlier
    if skipped:
        log.warning("erasure journal file: %d line(s) not understood and skipped", skipped)
    return found
