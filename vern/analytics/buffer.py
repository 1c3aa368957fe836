"""Hits and log lines wait in memory and are written in bulk, never one INSERT per request.

Each web process has one buffer. A request appends to it (a list append under a
lock) and returns; a background thread writes everything gathered once a second,
or sooner when ``FLUSH_ROWS`` are waiting, as one multi-row INSERT per table in
one transaction. Counts of dropped hits are added to their day's row.

Nothing accepted is lost when the process is stopped: gunicorn's ``worker_exit``
hook and ``atexit`` both write what is left before the process ends, and a
graceful stop (SIGTERM) waits for them. A SIGKILL or a power cut loses what came
in since the last write: while the database answers, at most ``INTERVAL`` seconds
of hits (and never more than ``FLUSH_ROWS`` plus what arrived while that write
ran). When the database is down (``vern.lib.outage``), the rows go to a spool file in the
private data directory, which is stored once the database answers again, by this
process or, if it was killed, by the next one that drains (``vern.jobs.spool``): a
SIGKILL then loses at most the last ``INTERVAL`` seconds, as at any other time. What
the spool cannot take (it is full, or cannot be written) is kept in memory and tried
again, up to ``MAX_PENDING``; beyond that the oldest are dropped and the loss is
logged as a count. A row the database
refuses (it should not happen: capture stores only checked text) is dropped on
its own, so it cannot hold back the others.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F

from vern.analytics.aggregate import unsettle
from vern.analytics.models import Dropped, Hit, LogEvent
from vern.jobs import spool
from vern.jobs.spool import Spool, stamp, unstamp
from vern.lib import partitions
from vern.lib.outage import REPORTER, is_outage

log = logging.getLogger("vern.analytics")

INTERVAL = 1.0  # seconds between writes, unless VERN_ANALYTICS_FLUSH_SECONDS says otherwise
FLUSH_ROWS = 2000  # write sooner when this many are waiting
LOOK_SECONDS = 1.0  # how often a hit checks that the writing thread runs
MAX_PENDING = 200_000  # kept while the database is unreachable; older ones are dropped beyond this


# The columns of a buffered hit, in the order ``capture`` fills them: plain tuples, not model
# instances, so a hit costs the request path next to nothing and the write is one bulk statement.
HIT_COLUMNS = (
    "at",
    "kind",
    "source",
    "visitor",
    "visitor_prev",
    "consent_id",
    "path",
    "referrer_host",
    "referrer_path",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
    "ip",
    "engaged_ms",
    "country",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "goal",
)
# A spool file written before the last six columns existed holds 15 values after the time.
_OLD_SPOOLED_VALUES = 15
HitRow = tuple[Any, ...]


class Buffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: list[HitRow] = []
        self._logs: list[LogEvent] = []
        self._dropped: Counter[tuple[dt.date, str, str]] = Counter()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._write_lock = threading.Lock()  # one write at a time: the thread's, or a final one
        self.lost = 0
        # Tests write explicitly (``flush``), inside their own transaction, with no thread.
        self.background = True
        self._looked = -LOOK_SECONDS  # when ``_started`` last saw the thread running
        self._alongside: list[Callable[[], object]] = []
        self._failing: set[str] = set()  # the tasks whose last run failed

    def alongside(self, task: Callable[[], object]) -> None:
        """Run ``task`` after each round of the thread (about once a second, written or not): the
        beacon's rate-limit batches."""
        self._alongside.append(task)

    def discard(self) -> None:
        """Forget everything waiting, unwritten (for tests)."""
        with self._lock:
            self._hits, self._logs, self._dropped = [], [], Counter()
            self.lost = 0

    # -- the request path ------------------------------------------------------------

    def add_hit(self, hit: HitRow) -> None:
        if _direct_writes():
            self._write([hit], [], Counter())
            return
        with self._lock:
            self._hits.append(hit)
            waiting = len(self._hits)
        self._started()
        if waiting >= FLUSH_ROWS:
            self._wake.set()

    def add_log(self, event: LogEvent) -> None:
        with self._lock:
            self._logs.append(event)
        self._started()

    def count_dropped(self, day: dt.date, reason: str, agent: str = "") -> None:
        with self._lock:
            self._dropped[(day, reason, agent[:60])] += 1
        self._started()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._hits) + len(self._logs) + len(self._dropped)

    # -- writing ---------------------------------------------------------------------

    def flush(self) -> int:
        """Write everything waiting now; returns the number of rows written (hits and log lines)."""
        with self._write_lock:
            with self._lock:
                hits, self._hits = self._hits, []
                logs, self._logs = self._logs, []
                dropped, self._dropped = self._dropped, Counter()
            if not (hits or logs or dropped):
                return 0
            try:
                self._write(hits, logs, dropped)
                REPORTER.recovered("the analytics buffer")
                return len(hits) + len(logs)
            except Exception as exc:
                if is_outage(exc):
                    self._keep_for_later(hits, logs, dropped, exc)
                    return 0
                # A day partition this process knew of may be gone (dropped by retention, or
                # its creation rolled back): look again, and write row by row, so that one row
                # the database refuses cannot hold back the others.
                partitions.forget()
            try:
                return self._write_one_by_one(hits, logs, dropped)
            except Exception as exc:
                if is_outage(exc):
                    self._keep_for_later(hits, logs, dropped, exc)
                    return 0
                log.exception("could not write %d hits and %d log lines; kept to retry", len(hits), len(logs))
                self._put_back(hits, logs, dropped)
                return 0

    def _keep_for_later(
        self, hits: list[HitRow], logs: list[LogEvent], dropped: Counter[tuple[dt.date, str, str]], exc: Exception
    ) -> None:
        """The database is down: hits and log lines go to the spool file, which the next drain stores
        (this process's once the database answers, or any later one's); what the spool cannot take, and
        the counts of dropped hits, wait here."""
        REPORTER.seen(exc, "the analytics buffer")
        records = [spooled_hit(hit) for hit in hits] + [spooled_log(event) for event in logs]
        try:
            kept = SPOOL.append(records)
        except OSError:
            log.error("the analytics spool cannot be written; %d rows wait in memory", len(records))
            kept = 0
        hits_kept = min(kept, len(hits))
        self._put_back(hits[hits_kept:], logs[max(0, kept - len(hits)) :], dropped)

    def _write_one_by_one(
        self, hits: list[HitRow], logs: list[LogEvent], dropped: Counter[tuple[dt.date, str, str]]
    ) -> int:
        """Each row on its own; a row the database refuses is dropped and counted as lost.

        Raises (and so keeps everything) when even an empty write fails: the database is down.
        """
        self._write([], [], dropped)
        written = 0
        for hit in hits:
            try:
                self._write([hit], [], Counter())
                written += 1
            except Exception:
                self.lost += 1
                log.error("a hit the database refuses was dropped")  # no content: it may be anything
        for event in logs:
            try:
                self._write([], [event], Counter())
                written += 1
            except Exception:
                self.lost += 1
                log.error("a technical log line the database refuses was dropped")
        return written

    def _write(self, hits: list[HitRow], logs: list[LogEvent], dropped: Counter[tuple[dt.date, str, str]]) -> None:
        _ensure_days(Hit, {h[0] for h in hits})
        _ensure_days(LogEvent, {e.at for e in logs})
        with transaction.atomic():
            if hits:
                _insert_hits(hits)
                unsettle([h[0] for h in hits])  # kept through an outage: their days are worked out again
            if logs:
                LogEvent.objects.bulk_create(logs, batch_size=500)
            for (day, reason, agent), count in sorted(dropped.items()):
                updated = Dropped.objects.filter(day=day, reason=reason, agent=agent).update(count=F("count") + count)
                if not updated:
                    row, created = Dropped.objects.get_or_create(
                        day=day, reason=reason, agent=agent, defaults={"count": count}
                    )
                    if not created:
                        Dropped.objects.filter(pk=row.pk).update(count=F("count") + count)

    def _put_back(self, hits: list[HitRow], logs: list[LogEvent], dropped: Counter[tuple[dt.date, str, str]]) -> None:
        with self._lock:
            self._hits = hits + self._hits
            self._logs = logs + self._logs
            self._dropped.update(dropped)
            over = len(self._hits) + len(self._logs) - MAX_PENDING
            if over > 0:
                cut_hits = min(over, len(self._hits))
                del self._hits[:cut_hits]
                del self._logs[: over - cut_hits]
                self.lost += over
                log.error("the analytics buffer is full; %d rows were dropped while the database was unreachable", over)

    # -- the background thread ---------------------------------------------------------

    def _started(self) -> None:
        if not self.background:
            return
        # On the beacon's path: the thread is looked at (a system call and a lock) once a second,
        # not on every hit. A fork resets ``_looked`` in the child (``os.register_at_fork`` below).
        now = time.monotonic()
        if now - self._looked < LOOK_SECONDS:
            return
        self._looked = now
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            # After a fork (gunicorn preloads the app) the parent's thread does not exist here.
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="vern-analytics-buffer", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        interval = float(getattr(settings, "VERN_ANALYTICS_FLUSH_SECONDS", INTERVAL))
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            close_old_connections()
            self.flush()
            self._run_alongside()
        connection.close()

    def _run_alongside(self) -> None:
        """The tasks beside the writes; a failing one is logged when it starts failing and when it
        works again, not every second (a counters store that is down, say)."""
        for task in self._alongside:
            name = getattr(task, "__qualname__", "a task")
            try:
                task()
            except Exception as exc:
                if name not in self._failing:
                    self._failing.add(name)
                    log.error(
                        "%s beside the analytics buffer failed (%s); tried again each second", name, type(exc).__name__
                    )
            else:
                if name in self._failing:
                    self._failing.discard(name)
                    log.warning("%s beside the analytics buffer works again", name)

    def close(self) -> None:
        """Stop the thread and write what is left: at shutdown, so nothing accepted is lost."""
        self._stop.set()
        self._wake.set()
        self._looked = -LOOK_SECONDS  # a hit after this starts a thread again
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)
        while self.pending and self.flush():
            pass


# -- the spool: hits and log lines kept while the database is down -------------------------------

_LOG_FIELDS = ("kind", "status", "method", "route", "ip", "browser", "detail")


def spooled_hit(hit: HitRow) -> dict[str, Any]:
    """A hit as a spool record: the same columns, nothing more (the time as text)."""
    return {"t": stamp(hit[0]), "hit": list(hit[1:])}


def spooled_log(event: LogEvent) -> dict[str, Any]:
    return {"t": stamp(event.at), "log": {name: getattr(event, name) for name in _LOG_FIELDS}}


def store_spooled(records: list[dict[str, Any]]) -> None:
    """Store spooled hits and log lines, in the drain's transaction."""
    hits: list[HitRow] = [(unstamp(r["t"]), *_complete(r["hit"])) for r in records if "hit" in r]
    logs = [LogEvent(at=unstamp(r["t"]), **r["log"]) for r in records if "log" in r]
    _ensure_days(Hit, {h[0] for h in hits})
    _ensure_days(LogEvent, {e.at for e in logs})
    if hits:
        _insert_hits(hits)
        unsettle([h[0] for h in hits])  # their days are worked out again, however old
    if logs:
        LogEvent.objects.bulk_create(logs, batch_size=500)


def _complete(values: list[Any]) -> list[Any]:
    """A spooled hit's values, with the columns added since it was spooled left empty."""
    missing = len(HIT_COLUMNS) - 1 - len(values)
    return [*values, *([""] * missing)] if len(values) >= _OLD_SPOOLED_VALUES and missing > 0 else values


# At most about as many hits as the buffer keeps in memory (a hit is about 300 bytes as a line).
SPOOL_BYTES = 64 * 1024 * 1024
SPOOL = spool.register(Spool("analytics", store=store_spooled, max_bytes=SPOOL_BYTES))


def _insert_hits(hits: list[HitRow]) -> None:
    """One COPY on PostgreSQL, one prepared multi-row INSERT on SQLite."""
    table = connection.ops.quote_name(Hit._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in HIT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in hits:
                    copy.write_row(row)
            return
        adapt = connection.ops.adapt_datetimefield_value
        marks = ", ".join("%s" for _ in HIT_COLUMNS)
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (names are the model's own)
            [(adapt(row[0]), *row[1:]) for row in hits],
        )


def _direct_writes() -> bool:
    """The naive design (one INSERT per hit), only for ``make bench`` to compare against."""
    return bool(getattr(settings, "VERN_ANALYTICS_DIRECT_WRITES", False))


def _ensure_days(model: Any, moments: set[dt.datetime]) -> None:
    if moments and partitions.supported():
        partitions.ensure_partitions(model, {m.astimezone(dt.UTC).date() for m in moments})


BUFFER = Buffer()


def _after_fork_in_child() -> None:
    """A forked process starts with an empty buffer, fresh locks and no thread (so a hit looks
    for it at once); the tasks run beside the writes are kept (gunicorn imports the beacon's
    code, which registers its rate-limit flush, before it forks the workers)."""
    background, alongside = BUFFER.background, BUFFER._alongside
    BUFFER.__init__()  # type: ignore[misc]
    BUFFER.background, BUFFER._alongside = background, alongside


os.register_at_fork(after_in_child=_after_fork_in_child)


def _at_exit() -> None:
    if BUFFER._pid == os.getpid():
        BUFFER.close()


atexit.register(_at_exit)
