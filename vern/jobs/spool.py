"""What must not be lost while the database is down waits in a local spool file, and is stored later.

A spool is a directory in the private data directory (``DATA_DIR/spool/<name>/``,
0700), of segment files (0600) of JSON lines. Each line holds one record exactly as
it will be stored (a hit with its shortened IP, a consent decision with its
original time): nothing that would not have been stored anyway.

- **Writing.** A process appends to its own segment and holds an exclusive
  ``flock`` on it while it is open; the lock goes when the process does, even on
  SIGKILL. A segment is made under a hidden name, locked, and only then given its
  name, so no drainer ever sees it unlocked before its writer has it.
- **Bounded.** A spool holds at most ``max_bytes``; a record beyond that is refused
  (the caller says what that means for it) and counted in the log.
- **Draining.** ``drain`` stores the records of every segment no live writer
  holds, oldest first across segments (by the record's time), in batches. Each
  batch is stored in one transaction together with ``SpoolMark``, how many lines
  of each segment are stored: after a crash at any point the next drain starts
  after the last stored line, so a record is stored once, never twice. A drained
  segment is deleted, and only then its mark.
- **Who drains.** A process that spooled something drains on a background thread
  once the database answers; a segment left by a killed process is drained by the
  next process that drains, at the latest by the worker's ``spool.drain`` job
  (every minute).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import heapq
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from vern.jobs.models import SpoolMark
from vern.lib.outage import REPORTER, is_outage
from vern.lib.private import FILE_MODE, private_directory

log = logging.getLogger("vern.spool")

SUFFIX = ".jsonl"
BATCH = 500
DRAIN_SECONDS = 2.0  # how often a process with spooled records tries the database again

ROOT: Path | None = None  # tests give each test its own; else DATA_DIR/spool
Record = dict[str, Any]
Store = Callable[[list[Record]], None]
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(moment: dt.datetime) -> str:
    """A record's time (``t``) as text that sorts as the time does."""
    return moment.astimezone(dt.UTC).strftime(STAMP)


def unstamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, STAMP).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class DrainReport:
    stored: int = 0
    refused: int = 0  # records the database refused on their own (dropped, logged as a count)
    waiting: bool = False  # segments are left: the database is down, or a live writer holds one


class Spool:
    """One kind of record (``name``), stored by ``store`` (called inside a transaction, in order)."""

    def __init__(self, name: str, *, store: Store, max_bytes: int, durable: bool = False) -> None:
        self.name = name
        self.store = store
        self.max_bytes = max_bytes
        self.durable = durable  # fsync every append (a consent choice); otherwise the OS writes it soon
        self._lock = threading.Lock()
        self._file: int | None = None  # this process's open segment
        self._pid = 0
        self._size = 0  # bytes in the directory, as last counted, plus what this process added since
        self._counted_at = 0.0
        self.refused = 0

    @property
    def directory(self) -> Path:
        return (ROOT or Path(settings.DATA_DIR) / "spool") / self.name

    # -- writing ----------------------------------------------------------------------------

    def append(self, records: list[Record]) -> int:
        """Append ``records`` (each with a ``t``, its time as a sortable string); returns how many were kept.

        Records beyond ``max_bytes`` are refused, the newest first, so the spool keeps what came first.
        """
        lines = [json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n" for record in records]
        with self._lock:
            self._recount()
            kept = []
            for line in lines:
                if self._size + len(line) > self.max_bytes:
                    break
                kept.append(line)
                self._size += len(line)
            if kept:
                descriptor = self._segment()
                os.write(descriptor, b"".join(kept))
                if self.durable:
                    os.fsync(descriptor)
            refused = len(lines) - len(kept)
        if refused:
            self.refused += refused
            log.error("the %s spool is full (%d bytes): %d records were not kept", self.name, self.max_bytes, refused)
        if kept:
            DRAINER.wake(self)
        return len(kept)

    def _recount(self) -> None:
        if time.monotonic() - self._counted_at < 1.0:
            return
        total = 0
        if self.directory.exists():
            for entry in os.scandir(self.directory):
                if entry.name.endswith(SUFFIX):
                    try:
                        total += entry.stat().st_size
                    except FileNotFoundError:
                        pass  # drained meanwhile
        self._size, self._counted_at = total, time.monotonic()

    def _segment(self) -> int:
        if self._file is not None and self._pid == os.getpid():
            return self._file
        directory = private_directory(self.directory)
        os.chmod(directory.parent, 0o700)
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        hidden = directory / f".{name}"
        descriptor = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, FILE_MODE)
        os.fchmod(descriptor, FILE_MODE)
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # held while this process writes to it
        os.rename(hidden, directory / name)
        self._file, self._pid = descriptor, os.getpid()
        return descriptor

    def seal(self) -> None:
        """Close this process's segment, so a drain may take it; the next append opens another."""
        with self._lock:
            if self._file is not None and self._pid == os.getpid():
                os.close(self._file)  # releases the lock
            self._file = None

    def forget_after_fork(self) -> None:
        """A forked child does not own its parent's segment (nor its lock)."""
        self._lock = threading.Lock()
        self._file = None

    # -- draining -----------------------------------------------------------------------------

    def pending(self) -> list[Path]:
        if not self.directory.exists():
            return []
        return sorted(p for p in self.directory.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))

    def drain(self) -> DrainReport:
        """Store every record of the segments no live writer holds; idempotent, in order of time."""
        if not self.pending():
            return DrainReport()
        connection.ensure_connection()  # raises while the database is down: keep writing to the open segment
        self.seal()
        lock_path = private_directory(self.directory) / ".drain.lock"
        guard = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            try:
                fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return DrainReport(waiting=True)  # another process is draining this spool now
            return self._drain_free_segments()
        finally:
            os.close(guard)

    def _drain_free_segments(self) -> DrainReport:
        held: dict[str, int] = {}  # segment name -> descriptor whose lock this drain holds
        cutoff: str | None = None  # the earliest time in a segment a live writer still holds
        try:
            for path in self.pending():
                descriptor = os.open(path, os.O_RDONLY)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    # A live writer still has it (it seals it once it sees the database again). Nothing
                    # from its time on is stored before it, so that records are stored in order of time
                    # across processes (a visitor's choice, then their withdrawal, each in another one).
                    first = _first_time(descriptor)
                    os.close(descriptor)
                    if first is not None and (cutoff is None or first < cutoff):
                        cutoff = first
                    continue
                held[path.name] = descriptor
            if not held:
                return DrainReport(waiting=cutoff is not None or bool(self.pending()))
            marks = dict(
                SpoolMark.objects.filter(spool=self.name, segment__in=list(held)).values_list("segment", "lines")
            )
            stored, refused, finished = self._store_in_order(held, marks, cutoff)
            for segment in finished:
                (self.directory / segment).unlink(missing_ok=True)  # first the file: then a crash re-drains nothing
            SpoolMark.objects.filter(spool=self.name, segment__in=finished).delete()
            waiting = len(finished) < len(held) or bool(set(p.name for p in self.pending()) - set(held))
            return DrainReport(stored=stored, refused=refused, waiting=waiting)
        finally:
            for descriptor in held.values():
                os.close(descriptor)

    def _store_in_order(
        self, held: dict[str, int], marks: dict[str, int], cutoff: str | None
    ) -> tuple[int, int, list[str]]:
        """Store the records of ``held`` segments before ``cutoff``; returns stored, refused, and the
        segments stored to their end."""
        finished: set[str] = set(held)
        streams = [
            self._records(name, descriptor, marks.get(name, 0), cutoff, finished) for name, descriptor in held.items()
        ]
        merged = heapq.merge(*streams, key=lambda item: (item[2]["t"], item[0], item[1]))
        stored = refused = 0
        batch: list[tuple[str, int, Record]] = []
        for item in merged:
            batch.append(item)
            if len(batch) >= BATCH:
                done, bad = self._store_batch(batch)
                stored, refused, batch = stored + done, refused + bad, []
        if batch:
            done, bad = self._store_batch(batch)
            stored, refused = stored + done, refused + bad
        return stored, refused, sorted(finished)

    def _records(
        self, name: str, descriptor: int, skip: int, cutoff: str | None, finished: set[str]
    ) -> Iterator[tuple[str, int, Record]]:
        """The segment's records after the first ``skip`` lines, up to the first at or after ``cutoff``
        (then the segment is not ``finished``: the rest waits for the next drain)."""
        with os.fdopen(os.dup(descriptor), "rb") as lines:
            lines.seek(0)
            for number, line in enumerate(lines):
                if number < skip:
                    continue
                if not line.endswith(b"\n"):
                    return  # the last line of a writer killed mid-write: never acknowledged, not stored
                try:
                    record = json.loads(line)
                except ValueError:
                    log.error("line %d of a %s spool file is not readable; skipped", number + 1, self.name)
                    continue
                if cutoff is not None and record["t"] >= cutoff:
                    finished.discard(name)
                    return
                yield name, number, record

    def _store_batch(self, batch: list[tuple[str, int, Record]]) -> tuple[int, int]:
        """One transaction: the records and how far each segment now is. Raises when the database is down."""
        try:
            with transaction.atomic():
                self.store([record for _, _, record in batch])
                self._mark(batch)
            return len(batch), 0
        except Exception as exc:
            if is_outage(exc):
                raise
        # One record the database refuses (it should not happen: only checked records are spooled)
        # must not hold back the others: each on its own, a refused one is dropped and counted.
        stored = refused = 0
        for item in batch:
            try:
                with transaction.atomic():
                    self.store([item[2]])
                    self._mark([item])
                stored += 1
            except Exception as exc:
                if is_outage(exc):
                    raise
                with transaction.atomic():
                    self._mark([item])
                refused += 1
        if refused:
            log.error("the database refused %d spooled %s records; they were dropped", refused, self.name)
        return stored, refused

    def _mark(self, batch: list[tuple[str, int, Record]]) -> None:
        reached: dict[str, int] = {}
        for segment, number, _ in batch:
            reached[segment] = max(reached.get(segment, 0), number + 1)
        for segment, lines in reached.items():
            updated = SpoolMark.objects.filter(spool=self.name, segment=segment, lines__lt=lines).update(lines=lines)
            if not updated:
                SpoolMark.objects.get_or_create(spool=self.name, segment=segment, defaults={"lines": lines})


def _first_time(descriptor: int) -> str | None:
    """The time of the first record in a segment (None if it has no complete line yet)."""
    with os.fdopen(os.dup(descriptor), "rb") as lines:
        lines.seek(0)
        first = lines.readline()
    if not first.endswith(b"\n"):
        return None
    try:
        return str(json.loads(first)["t"])
    except (ValueError, KeyError):
        return None


# -- every spool of the process, and the thread that drains them ---------------------------------

SPOOLS: dict[str, Spool] = {}


def register(spool: Spool) -> Spool:
    SPOOLS[spool.name] = spool
    return spool


def drain_all() -> int:
    """Drain every spool now (the worker's job, and tests); returns how many records were stored.

    Raises when the database is down, so the job is tried again later.
    """
    stored = 0
    for spool in SPOOLS.values():
        stored += spool.drain().stored
    return stored


class _Drainer:
    """A thread per process, running only while this process has spooled records waiting."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._event = threading.Event()
        self.background = True  # tests drain explicitly, inside their own transaction

    def wake(self, spool: Spool) -> None:
        if not self.background:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="vern-spool-drain", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                self._event.wait(DRAIN_SECONDS)
                close_old_connections()
                left = False
                for spool in list(SPOOLS.values()):
                    try:
                        report = spool.drain()
                    except Exception as exc:
                        if not is_outage(exc):
                            log.exception("the %s spool could not be drained", spool.name)
                        else:
                            REPORTER.seen(exc, f"the {spool.name} spool")
                        left = True
                        connection.close()
                        continue
                    if report.stored:
                        REPORTER.recovered(f"{report.stored} spooled {spool.name} records stored")
                        log.info("stored %d %s records kept during the outage", report.stored, spool.name)
                    left = left or report.waiting or bool(spool.pending())
                if not left:
                    return
        finally:
            connection.close()
            with self._lock:
                self._thread = None


DRAINER = _Drainer()


def _after_fork_in_child() -> None:
    for spool in SPOOLS.values():
        spool.forget_after_fork()
    DRAINER._lock = threading.Lock()
    DRAINER._thread = None


os.register_at_fork(after_in_child=_after_fork_in_child)
