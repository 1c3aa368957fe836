"""The shared counters: one atomic step per change, nothing culled before its time, swept after (P24)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from vern.lib import counters
from vern.lib.ratelimit import Batched, Limit, hit, used
from vern.testing import redis_server

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "redis"])
def store(request: Any, settings: Any, tmp_path: Any) -> Iterator[str]:
    if request.param == "database":
        settings.REDIS_URL = ""
        yield "database"
        return
    with redis_server(tmp_path) as url:
        settings.REDIS_URL = url
        counters._redis_client = None
        try:
            yield "redis"
        finally:
            counters._redis_client = None


@pytest.fixture
def minute() -> Iterator[None]:
    """The clock held inside one minute, so a window never ends half-way through a test."""
    with time_machine.travel(timezone.now().replace(second=10, microsecond=0), tick=False):
        yield


def rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM vern_counter")
        return int(cursor.fetchone()[0])


def test_counts_go_up_one_at_a_time_and_come_back_down_never_below_zero(store):
    expires = int(timezone.now().timestamp()) + 60
    assert [counters.add("test", "b", window=7, expires_at=expires) for _ in range(3)] == [1, 2, 3]
    assert counters.add("test", "b", window=7, expires_at=expires, amount=5) == 8
    assert counters.add("test", "b", window=8, expires_at=expires) == 1  # another window, another count
    counters.subtract("test", "b", window=7, amount=10)
    assert counters.value("test", "b", window=7) == 0
    counters.subtract("test", "never", window=7)
    assert counters.value("test", "never", window=7) == 0  # taking back nothing makes nothing
    counters.put("test", "b", window=7, value=42, expires_at=expires)
    assert counters.value("test", "b", window=7) == 42
    counters.forget("test", "b", window=7)
    assert counters.value("test", "b", window=7) == 0


def test_an_expired_count_reads_as_zero_and_starts_again_until_the_worker_sweeps_it():
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        now = int(start.timestamp())
        counters.add("test", "old", window=0, expires_at=now + 60)
        counters.add("test", "old", window=0, expires_at=now + 60)
        counters.add("test", "young", window=0, expires_at=now + 600)
        clock.shift(120)
        assert counters.value("test", "old", window=0) == 0
        assert counters.value("test", "young", window=0) == 1
        assert counters.sweep() == 1 and rows() == 1
        assert counters.add("test", "old", window=0, expires_at=now + 600) == 1


def test_p24_a_flood_from_400_other_networks_never_resets_a_flooding_networks_count(store):
    rule = Limit("test-flood", limit=5, window_seconds=3600)
    assert [hit(rule, "192.0.2.0") for _ in range(7)] == [True] * 5 + [False] * 2
    for n in range(400):
        assert hit(rule, f"10.{n // 256}.{n % 256}.0")
    assert not hit(rule, "192.0.2.0")
    assert used(rule, "192.0.2.0") == 8


def test_the_beacons_limit_is_shared_by_processes_and_most_networks_cost_no_write():
    first, second = Batched("test-beacon"), Batched("test-beacon")  # two web processes
    assert Batched.slack(100) == 5 and Batched.slack(39) == 1
    # A visitor sending four hits to one process costs no write at all.
    assert all(first.allow("198.51.100.0", 100) for _ in range(4)) and rows() == 0
    # A flood split over both is cut off near the limit, not at twice the limit.
    admitted = sum(process.allow("192.0.2.0", 100) for _ in range(200) for process in (first, second))
    assert 100 <= admitted <= 100 + 2 * (2 * Batched.slack(100) - 1)
    # Below 40 a hit is counted one by one, and exactly the limit passes.
    exact = sum(process.allow("203.0.113.0", 20) for _ in range(30) for process in (first, second))
    assert exact == 20


def test_a_busy_visitors_batch_is_added_by_the_background_flush_not_inside_its_requests(store, minute):
    first, second = Batched("test-busy"), Batched("test-busy")  # two web processes
    slack = Batched.slack(100)
    # Eight hits to one process: past one batch, short of two. None of them waits for the store.
    assert all(first.allow("198.51.100.0", 100) for _ in range(2 * slack - 2))
    assert counters_seen(store) == 0
    # The flush adds the batch for every due network in one step, and learns the shared totals.
    assert all(second.allow("192.0.2.0", 100) for _ in range(slack + 1))
    assert first.flush() == 1 and second.flush() == 1
    assert counters_seen(store) == 2
    assert used(Limit("test-busy", 100, 60), "198.51.100.0") == 2 * slack - 2
    assert first.flush() == 0  # nothing due: no write at all
    # A flood sent to both processes, flushed between rounds as the thread does, is cut off
    # near the limit, and what was admitted is what the shared count says.
    admitted = 0
    for _ in range(60):
        admitted += sum(process.allow("203.0.113.0", 100) for _ in range(4) for process in (first, second))
        first.flush()
        second.flush()
    assert 100 <= admitted <= 100 + 2 * (2 * slack - 1)
    assert used(Limit("test-busy", 100, 60), "203.0.113.0") >= admitted - 2 * (2 * slack - 1)


def test_a_flush_the_store_refuses_keeps_its_batches_for_the_next_one(store, settings, minute):
    process = Batched("test-down")
    slack = Batched.slack(100)
    assert all(process.allow("198.51.100.0", 100) for _ in range(slack + 2))
    working = settings.REDIS_URL
    if store == "redis":
        settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
        counters._redis_client = None
        with pytest.raises(counters.STORE_ERRORS):
            process.flush()
        settings.REDIS_URL = working
        counters._redis_client = None
    else:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE vern_counter RENAME TO vern_counter_away")
        try:
            with pytest.raises(counters.STORE_ERRORS), transaction.atomic():
                process.flush()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ALTER TABLE vern_counter_away RENAME TO vern_counter")
    # Kept here and due again, though the network sends nothing more: the next flush adds them all.
    assert process.flush() == 1
    assert used(Limit("test-down", 100, 60), "198.51.100.0") == slack + 2


def test_many_counts_are_added_in_one_step_and_an_expired_one_starts_again(store, minute):
    expires = int(timezone.now().timestamp()) + 60
    counters.add("test", "b7", window=1, expires_at=expires, amount=3)
    amounts = {f"b{n}": n % 4 + 1 for n in range(450)}  # three statements of at most 200 rows
    totals = counters.add_many("test", amounts, window=1, expires_at=expires)
    assert totals == {bucket: amount + (3 if bucket == "b7" else 0) for bucket, amount in amounts.items()}
    assert counters.value("test", "b449", window=1) == 2
    if store == "database":
        with connection.cursor() as cursor:  # b7's row has expired but is not swept yet
            cursor.execute("UPDATE vern_counter SET expires_at = 0 WHERE bucket = 'b7'")
        assert counters.add_many("test", {"b7": 5, "b8": 1}, window=1, expires_at=expires) == {"b7": 5, "b8": 2}


def counters_seen(store: str) -> int:
    """How many counters the store holds (rows, or Redis keys)."""
    if store == "redis":
        return len(counters._redis().keys("vern:counter:*"))
    return rows()


@pytest.mark.django_db(transaction=True)
def test_two_servers_adding_the_same_networks_at_once_never_deadlock():
    """Two web processes flush batches for the same networks at the same moment, each having
    seen them in its own order: the rows are locked in one order, so both go through."""
    import threading

    from django.db import connections

    expires = int(timezone.now().timestamp()) + 600
    buckets = [f"net{n:03d}" for n in range(300)]
    failures: list[str] = []
    start = threading.Barrier(2)

    def server(order: list[str]) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(15):
                counters.add_many("test-both", dict.fromkeys(order, 1), window=5, expires_at=expires)
        except Exception as exc:  # a deadlock is an OperationalError on PostgreSQL
            failures.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=server, args=(buckets,)),
        threading.Thread(target=server, args=(list(reversed(buckets)),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert {counters.value("test-both", b, window=5) for b in buckets} == {30}
