"""Fixed-window rate limits on the shared counters (``vern.lib.counters``), for every process and server.

A request is counted in the same step that admits it: ``hit`` adds one and compares the
new count with the limit, atomically, so 32 requests at once on two servers get counts
1 to 32 and exactly ``limit`` of them pass. There is no separate "may I?" before a later
"count me": between the two, every parallel request would see the same count.

The counters live in the database by default (their own table, which nothing culls) and
in Redis when ``REDIS_URL`` is set. Counted inside a database transaction, a hit is rolled
back with it on the database store (not on Redis). Buckets are keyed digests, never the
raw address or IP.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from vern.lib import counters
from vern.lib.keys import digest


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window_seconds: int


def _window(rule: Limit) -> tuple[int, int]:
    """The start of this window and when its count may be forgotten (a little after its end)."""
    start = int(time.time()) // rule.window_seconds * rule.window_seconds
    return start, start + rule.window_seconds + 5


def _bucket(rule: Limit, key: str) -> str:
    return digest(key, purpose="ratelimit:" + rule.scope)


def hit(rule: Limit, key: str) -> bool:
    """Count one attempt; True while the attempts in this window stay within the limit."""
    start, expires = _window(rule)
    return counters.add(rule.scope, _bucket(rule, key), window=start, expires_at=expires) <= rule.limit


def used(rule: Limit, key: str) -> int:
    """How many attempts this window has counted so far (for messages and tests, never to admit one)."""
    start, _ = _window(rule)
    return counters.value(rule.scope, _bucket(rule, key), window=start)


def reset(rule: Limit, key: str) -> None:
    start, _ = _window(rule)
    counters.forget(rule.scope, _bucket(rule, key), window=start)


class Batched:
    """A limit on a hot path (the analytics beacon), counted on the shared store in batches.

    Each process admits a few hits of a network on its own (``slack``: a twentieth of the
    limit, at least 1 and at most 5). A network that sends a process more in the window makes
    a batch due; the process keeps admitting it on its own, and ``flush`` (called about once a
    second from a background thread) adds every due batch to the shared counters in one
    transaction, off the requests' path, and learns each network's shared total. Only when a
    network sends a process a second batch before a flush (a flood), or while its count is on
    its way to the store, is its count added in the request itself, in one atomic step that
    admits that hit only if the total stays within the limit. Once the shared total (as last
    learnt) reaches the limit, the process refuses that network for the rest of the window
    without asking again. So:

    - in one window a network is admitted at most ``limit + P * (2 * slack - 1)`` times across
      every server, P being the number of web processes (a process never holds more than
      two batches less one uncounted; exactly ``limit`` when the limit is below 40, where
      ``slack`` is 1 and every hit is counted in the request);
    - while the store does not answer, each process counts on its own (the limit then holds
      per process, as it did before the shared counters);
    - a network that sends fewer than ``slack`` hits to a process costs no write at all, which
      is most visitors, and one that sends more costs a row in the next flush, not a
      round trip to the database inside its request (``make bench``, docs/analytics.md).
    """

    MAX_SLACK = 5

    def __init__(self, scope: str, window_seconds: int = 60) -> None:
        self.scope = scope
        self.window_seconds = window_seconds
        self._lock = threading.Lock()
        self._start = 0
        # network -> [hits admitted here and not yet added to the shared count, last shared total]
        self._pending: dict[str, list[int]] = {}
        self._due: set[str] = set()  # networks whose batch the next flush adds
        self._busy: dict[str, int] = {}  # networks with a count on its way to the store: how many

    @staticmethod
    def slack(limit: int) -> int:
        return max(1, min(Batched.MAX_SLACK, math.floor(limit / 20)))

    def allow(self, key: str, limit: int) -> bool:
        rule = Limit(self.scope, limit, self.window_seconds)
        start, _ = _window(rule)
        slack = self.slack(limit)
        with self._lock:
            if start > self._start:
                self._start, self._pending, self._due, self._busy = start, {}, set(), {}
            # A thread that read the clock just before a new minute, and got here after one that read
            # it just after, counts in the new minute rather than taking the process back a minute.
            start = self._start
            expires = start + self.window_seconds + 5
            state = self._pending.setdefault(key, [0, 0])
            pending, shared = state
            if shared + pending >= limit:
                return False
            # While this network's count is on its way to the store (another thread's request,
            # or the flush), its hits are counted one by one in their requests: nothing more is
            # admitted here unchecked, so a process never holds more than two batches less one.
            if not self._busy.get(key):
                if pending + 1 < slack:
                    state[0] = pending + 1
                    return True
                if slack > 1 and pending + 1 < 2 * slack:
                    state[0] = pending + 1
                    self._due.add(key)  # the next flush adds it
                    return True
            state[0] = 0  # handed to the shared count below
            self._due.discard(key)
            self._busy[key] = self._busy.get(key, 0) + 1
        try:
            total = counters.add(self.scope, _bucket(rule, key), window=start, expires_at=expires, amount=pending + 1)
        except counters.STORE_ERRORS:
            # The store is down (an outage the beacon outlives): count here alone until it is back.
            self._settle(start, kept={key: pending + 1})
            return True
        except BaseException:
            self._settle(start, kept={key: pending + 1})
            raise
        self._settle(start, totals={key: total})
        return total <= limit

    def flush(self) -> int:
        """Add every due batch to the shared counters, all or none; returns how many networks.

        Raises what the store raises, after keeping the batches here for the next try."""
        with self._lock:
            start = self._start
            batches = {key: self._pending[key][0] for key in self._due if self._pending.get(key, [0])[0] > 0}
            for key in batches:
                self._pending[key][0] = 0
                self._busy[key] = self._busy.get(key, 0) + 1
            self._due = set()
        if not batches:
            return 0
        rule = Limit(self.scope, 0, self.window_seconds)
        buckets = {_bucket(rule, key): key for key in batches}
        try:
            totals = counters.add_many(
                self.scope,
                {bucket: batches[key] for bucket, key in buckets.items()},
                window=start,
                expires_at=start + self.window_seconds + 5,
            )
        except BaseException:
            self._settle(start, kept=batches, due_again=True)  # add_many added none of them
            raise
        self._settle(start, totals={buckets[bucket]: total for bucket, total in totals.items()}, done=list(batches))
        return len(batches)

    def _settle(
        self,
        start: int,
        *,
        totals: dict[str, int] | None = None,
        kept: dict[str, int] | None = None,
        due_again: bool = False,
        done: list[str] | None = None,
    ) -> None:
        """After a count went to the store (or failed to): learn the shared totals, or keep the
        amounts here again, and only then let the network's hits be admitted unchecked again,
        all in one step, so no hit is admitted while the batch is counted nowhere."""
        keys = done if done is not None else list(totals or kept or {})
        with self._lock:
            if self._start != start:
                return  # a new window began meanwhile: its counts start afresh
            for key, total in (totals or {}).items():
                state = self._pending.setdefault(key, [0, 0])
                state[1] = max(state[1], total)
            for key, amount in (kept or {}).items():
                self._pending.setdefault(key, [0, 0])[0] += amount
                if due_again:
                    self._due.add(key)  # tried again at the next flush, even if no hit comes
            for key in keys:
                left = self._busy.get(key, 0) - 1
                if left > 0:
                    self._busy[key] = left
                else:
                    self._busy.pop(key, None)

    def forget(self) -> None:
        """Drop what this process counted on its own (tests, whose shared counts rolled back)."""
        with self._lock:
            self._start, self._pending, self._due, self._busy = 0, {}, set(), {}
