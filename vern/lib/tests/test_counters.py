"""The shared counters: one atomic step per change, nothing culled before its time, swept after (P24)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
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
    assert 100 <= admitted <= 100 + 2 * (Batched.slack(100) - 1)
    # Below 40 a hit is counted one by one, and exactly the limit passes.
    exact = sum(process.allow("203.0.113.0", 20) for _ in range(30) for process in (first, second))
    assert exact == 20
