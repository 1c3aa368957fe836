"""Telling a database outage from a bug, and saying so in the log once, not once a request.

An outage is the database not being there: it cannot be connected to, or a
connection was dropped (a restart, a failover, a network cut). Then vern answers
503 with ``Retry-After`` and keeps what it must not lose (beacons, consent
choices) in a spool. Everything else a database can raise (an integrity error,
a syntax error, a lock that was not had in time) is a bug or a conflict, and
stays a 500 or is handled where it happens.

The log gets one line when the outage is first seen by a process, and then at
most one line a minute with how many requests it answered 503 meanwhile: no
traceback, and no text of the error, which may quote values (a server's
message can contain what was being written).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError

log = logging.getLogger("vern.outage")

RETRY_AFTER = 30  # seconds, in Retry-After: about how long a database restart or failover takes
REPEAT_SECONDS = 60  # at most one line a minute while it lasts

# PostgreSQL SQLSTATEs that mean "the server is not there for you now" (class 08: connection
# exception; 57P01–57P03: shut down, crashed, starting up; 53300: too many connections).
_PG_OUTAGE_STATES = ("57P01", "57P02", "57P03", "53300")
# SQLite's messages when the database file cannot be opened or read at all.
_SQLITE_OUTAGE_MESSAGES = ("unable to open database file", "disk i/o error", "database disk image is malformed")


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database cannot be reached."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if _is_outage_error(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _is_outage_error(error: BaseException) -> bool:
    if isinstance(error, InterfaceError):
        return True  # a closed or broken connection
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    state = getattr(cause, "sqlstate", None)
    module = type(cause).__module__ if cause is not None else ""
    if module.startswith("psycopg"):
        # No SQLSTATE: the client could not connect, or lost the connection, before the server said anything.
        return state is None or state.startswith("08") or state in _PG_OUTAGE_STATES
    if module.startswith("sqlite3") or cause is None:
        return str(error).lower().startswith(_SQLITE_OUTAGE_MESSAGES)
    return False


def describe(exc: BaseException) -> str:
    """What kind of error it was, without its text: ``OperationalError`` or ``OperationalError 08006``."""
    state = getattr(exc.__cause__, "sqlstate", None)
    return f"{type(exc).__name__} {state}" if state else type(exc).__name__


class _Reporter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None  # when this process last logged
        self._answered = 0

    def seen(self, exc: BaseException, where: str) -> None:
        """An outage was met ``where`` (a request, the beacon buffer, a consent choice)."""
        now = time.monotonic()
        with self._lock:
            self._answered += 1
            if self._since is not None and now - self._since < REPEAT_SECONDS:
                return
            first = self._since is None
            count, self._answered, self._since = self._answered, 0, now
        if first:
            log.warning(
                "the database is unavailable (%s, in %s): answering 503 with Retry-After and keeping beacons "
                "and consent choices to store later",
                describe(exc),
                where,
            )
        else:
            log.warning(
                "the database is still unavailable (%s): %d more times in the last minute", describe(exc), count
            )

    def recovered(self, where: str) -> None:
        """The database answered again (said once, if an outage had been logged)."""
        with self._lock:
            if self._since is None:
                return
            self._since, self._answered = None, 0
        log.warning("the database answers again (%s)", where)


REPORTER = _Reporter()


class MinuteWindow:
    """A count per key and minute in this process only: the stand-in for a shared rate limit while the
    database that holds the shared counters is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._minute = 0
        self._counts: dict[str, int] = {}

    def allow(self, key: str, limit: int) -> bool:
        minute = int(time.time() // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._counts = minute, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        return count <= limit
