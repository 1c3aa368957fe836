"""The spool keeps records in private files while the database is down, bounded, and stores each once."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from vern.jobs.models import SpoolMark
from vern.jobs.spool import Spool, stamp
from vern.testing import ROOT, vern_env

pytestmark = pytest.mark.django_db


class _Kept:
    """A store that keeps what it is given, and can be made to fail like a database that went away."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.fail_after: int | None = None

    def __call__(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            if self.fail_after is not None and len(self.records) >= self.fail_after:
                from django.db import OperationalError

                raise OperationalError("unable to open database file")
            self.records.append(record)
            SpoolMark.objects.exists()  # a query in the drain's transaction, as a real store makes


def _record(n: int, at: dt.datetime | None = None) -> dict[str, Any]:
    at = at or dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
    return {"t": stamp(at), "n": n}


def test_spool_files_and_their_directory_are_readable_by_vern_only_whatever_the_umask(spool_root):
    old = os.umask(0o000)
    try:
        spool = Spool("test", store=_Kept(), max_bytes=10_000)
        spool.append([_record(1)])
    finally:
        os.umask(old)
    (segment,) = spool.pending()
    assert stat.S_IMODE(segment.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(spool_root.stat().st_mode) == 0o700


def test_a_full_spool_refuses_the_newest_records_and_keeps_the_first(spool_root):
    spool = Spool("test", store=_Kept(), max_bytes=200)
    kept = spool.append([_record(n) for n in range(20)])
    assert 0 < kept < 20
    assert spool.refused == 20 - kept
    assert sum(path.stat().st_size for path in spool.pending()) <= 200
    assert spool.append([_record(99)]) == 0  # still full


def test_a_drain_stores_every_record_once_in_order_of_time_across_segments(spool_root):
    store = _Kept()
    first, second = Spool("test", store=store, max_bytes=100_000), Spool("test", store=store, max_bytes=100_000)
    first.append([_record(0), _record(2), _record(4)])
    second.append([_record(1), _record(3)])
    first.seal()
    second.seal()
    report = first.drain()
    assert report.stored == 5
    assert [r["n"] for r in store.records] == [0, 1, 2, 3, 4]
    assert first.pending() == []
    assert not SpoolMark.objects.exists()
    assert first.drain().stored == 0


def test_a_drain_interrupted_by_the_database_going_away_again_stores_nothing_twice(spool_root, monkeypatch):
    from vern.jobs import spool as spool_module

    monkeypatch.setattr(spool_module, "BATCH", 3)
    store = _Kept()
    spool = Spool("test", store=store, max_bytes=100_000)
    spool.append([_record(n) for n in range(10)])
    store.fail_after = 4  # the second batch fails half-way: its transaction is rolled back
    with pytest.raises(Exception, match="unable to open"):
        spool.drain()
    assert [r["n"] for r in store.records] == [0, 1, 2, 3]
    assert SpoolMark.objects.get().lines == 3  # only the first batch was committed with its mark
    del store.records[3:]  # the rolled-back batch is not stored
    store.fail_after = None
    assert spool.drain().stored == 7
    assert [r["n"] for r in store.records] == list(range(10))
    assert spool.pending() == [] and not SpoolMark.objects.exists()


def test_a_segment_a_live_writer_holds_waits_and_one_whose_writer_died_is_drained(spool_root, settings):
    store = _Kept()
    mine = Spool("test", store=store, max_bytes=100_000)
    mine.append([_record(0)])
    # Another process writes, and is still alive: its segment is not touched.
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import django, sys
                django.setup()
                from vern.jobs import spool
                from pathlib import Path
                spool.ROOT = Path({str(spool_root)!r})
                s = spool.Spool("test", store=None, max_bytes=100_000)
                s.append([{{"t": "2026-12-06T12:00:05.000000Z", "n": 5}}])
                print("written", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        env=vern_env(),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        report = mine.drain()
        assert (report.stored, report.waiting) == (1, True)
        assert len(mine.pending()) == 1
    finally:
        writer.kill()  # dies without closing anything: the lock goes with it
        writer.wait()
    assert mine.drain().stored == 1
    assert [r["n"] for r in store.records] == [0, 5]


def test_a_last_line_cut_short_by_a_kill_is_not_stored(spool_root):
    store = _Kept()
    spool = Spool("test", store=store, max_bytes=100_000)
    spool.append([_record(0)])
    spool.seal()
    (segment,) = spool.pending()
    with open(segment, "ab") as file:
        file.write(b'{"t": "2026-12-06T12:00:09.000000Z", "n"')
    assert spool.drain().stored == 1
    assert [r["n"] for r in store.records] == [0]
