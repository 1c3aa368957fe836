"""Fixed-window rate limits kept in the shared cache.

The cache is the database by default (shared by every web worker and server)
and Redis when ``REDIS_URL`` is set. Bucket keys are keyed digests, never the
raw address or IP, so the cache holds no personal data. The count may be off by
one or two when requests race on the database cache; for abuse control that is
good enough, and it never lets a flood through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from vern.lib.keys import digest


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window_seconds: int


def _bucket(rule: Limit, key: str) -> str:
    window = int(time.time()) // rule.window_seconds
    return f"rl:{rule.scope}:{window}:{digest(key, purpose='ratelimit:' + rule.scope)}"


def hit(rule: Limit, key: str) -> bool:
    """Count one attempt; True while the attempts in this window stay within the limit."""
    bucket = _bucket(rule, key)
    if cache.add(bucket, 1, timeout=rule.window_seconds + 5):
        count = 1
    else:
        try:
            count = cache.incr(bucket)
        except ValueError:  # expired between add() and incr()
            cache.add(bucket, 1, timeout=rule.window_seconds + 5)
            count = 1
        else:
            # The database cache's incr writes the count back with its default timeout of five
            # minutes, which would forget a window of an hour or a day after five quiet minutes.
            cache.touch(bucket, rule.window_seconds + 5)
    return count <= rule.limit


def allowed(rule: Limit, key: str) -> bool:
    """Whether one more attempt fits in this window, without counting it (count it with ``hit``)."""
    count = cache.get(_bucket(rule, key), 0)
    return int(count) < rule.limit


def reset(rule: Limit, key: str) -> None:
    cache.delete(_bucket(rule, key))
