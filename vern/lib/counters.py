"""Counters shared by every process and server, each changed in one atomic step (P24).

Rate limits and login throttling count here. Two stores, chosen by ``REDIS_URL``:

- **the database** (default): the table ``vern_counter`` (created by the ``ops`` app's
  migrations), one row per (scope, bucket, window). A count goes up with one
  ``INSERT … ON CONFLICT … DO UPDATE SET count = count + n … RETURNING count``, which
  PostgreSQL and SQLite (3.35 and later) run atomically: two servers counting the same
  row at the same moment get 1 and 2, never 1 and 1. Nothing culls the table; rows
  past their expiry are swept by the worker (``ops.counters_sweep``) and read as zero
  until then. Inside the caller's transaction a count is kept or rolled back with it.
- **Redis** (``REDIS_URL``): ``INCRBY`` and ``EXPIREAT`` in one MULTI/EXEC, so a
  count never outlives its window and two servers never read the same value; Redis
  forgets expired keys itself. Counts are not part of any database transaction.

Buckets are keyed digests made by the caller (``vern.lib.keys.digest``), never an
address or a full IP. Times are whole Unix seconds from Python's clock (``time.time``),
never the database's, so every server and every test clock agrees with its own caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from redis import Redis, RedisError

TABLE = "vern_counter"

# count = n when the row had expired (not swept yet), else count + n. ``{values}`` is one
# "(%s, %s, %s, %s, %s)" per bucket (distinct, so no row is changed twice by one statement).
_UPSERT = (
    f"INSERT INTO {TABLE} (scope, bucket, window_start, count, expires_at) VALUES {{values}} "  # noqa: S608
    "ON CONFLICT (scope, bucket, window_start) DO UPDATE SET "
    f"count = CASE WHEN {TABLE}.expires_at <= %s THEN excluded.count ELSE {TABLE}.count + excluded.count END, "
    "expires_at = excluded.expires_at RETURNING bucket, count"
)
_ROW = "(%s, %s, %s, %s, %s)"
_ADD = _UPSERT.format(values=_ROW)
_MANY = 200

# A DECR that neither creates a key nor goes below zero.
_SUBTRACT_LUA = """
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local left = tonumber(value) - tonumber(ARGV[1])
if left < 0 then left = 0 end
redis.call('SET', KEYS[1], left, 'KEEPTTL')
return left
"""

# What a store that does not answer raises, for callers that choose to carry on without it.
STORE_ERRORS: tuple[type[Exception], ...] = (DatabaseError, RedisError)

_redis_lock = threading.Lock()
_redis_client: Redis | None = None


def _redis() -> Redis:
    """One client (and its connection pool) per process, failing within two seconds like the cache."""
    global _redis_client
    with _redis_lock:
        if _redis_client is None:
            _redis_client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        return _redis_client


def _redis_key(scope: str, bucket: str, window: int) -> str:
    return f"vern:counter:{scope}:{window}:{bucket}"


def add(scope: str, bucket: str, *, window: int, expires_at: int, amount: int = 1) -> int:
    """Add ``amount`` to a counter and return its new value, in one atomic step.

    ``window`` is the start of a fixed window (0 for a counter that is not windowed);
    ``expires_at`` (Unix seconds) is when the counter is forgotten: the window's end for
    a fixed window, or now plus a lifetime for a counter that each change keeps alive.
    """
    if settings.REDIS_URL:
        pipe = _redis().pipeline(transaction=True)
        key = _redis_key(scope, bucket, window)
        pipe.incrby(key, amount)
        pipe.expireat(key, expires_at)
        count, _ = pipe.execute()
        return int(count)
    now = int(time.time())
    with connection.cursor() as cursor:
        cursor.execute(_ADD, [scope, bucket, window, amount, expires_at, now])
        _, count = cursor.fetchone()
    return int(count)


def add_many(scope: str, amounts: Mapping[str, int], *, window: int, expires_at: int) -> dict[str, int]:
    """``add`` for many buckets of one window at once (one transaction of a statement per 200
    buckets, or one MULTI/EXEC on Redis); returns each bucket's new value. All are added or none
    (an error raises with nothing added), and each bucket goes up in one atomic step, so a count
    added here and another server's ``add`` never read the same value."""
    # In one order everywhere: two servers adding the same buckets at once lock their rows in the
    # same order, so neither waits for the other in a deadlock.
    buckets = sorted(bucket for bucket, amount in amounts.items() if amount > 0)
    if not buckets:
        return {}
    if settings.REDIS_URL:
        pipe = _redis().pipeline(transaction=True)
        for bucket in buckets:
            key = _redis_key(scope, bucket, window)
            pipe.incrby(key, amounts[bucket])
            pipe.expireat(key, expires_at)
        results = pipe.execute()
        return {bucket: int(results[2 * n]) for n, bucket in enumerate(buckets)}
    now = int(time.time())
    totals: dict[str, int] = {}
    # All or nothing: a caller that keeps its amounts after a failure must not add them twice.
    with transaction.atomic(), connection.cursor() as cursor:
        for first in range(0, len(buckets), _MANY):
            chunk = buckets[first : first + _MANY]
            values = ", ".join([_ROW] * len(chunk))
            params: list[str | int] = []
            for bucket in chunk:
                params += [scope, bucket, window, amounts[bucket], expires_at]
            cursor.execute(_UPSERT.format(values=values), [*params, now])
            totals.update({bucket: int(count) for bucket, count in cursor.fetchall()})
    return totals


def subtract(scope: str, bucket: str, *, window: int, amount: int = 1) -> None:
    """Take back ``amount`` (never below zero; a counter that is gone stays gone)."""
    if settings.REDIS_URL:
        _redis().eval(_SUBTRACT_LUA, 1, _redis_key(scope, bucket, window), amount)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET count = CASE WHEN count > %s THEN count - %s ELSE 0 END "  # noqa: S608
            "WHERE scope = %s AND bucket = %s AND window_start = %s",
            [amount, amount, scope, bucket, window],
        )


def value(scope: str, bucket: str, *, window: int) -> int:
    """The counter now; 0 when it never was or has expired."""
    if settings.REDIS_URL:
        found = _redis().get(_redis_key(scope, bucket, window))
        return int(found) if found is not None else 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count FROM {TABLE} WHERE scope = %s AND bucket = %s AND window_start = %s "  # noqa: S608
            "AND expires_at > %s",
            [scope, bucket, window, int(time.time())],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def put(scope: str, bucket: str, *, window: int, value: int, expires_at: int) -> None:
    """Set a counter to ``value`` (a time, say), whatever it was."""
    if settings.REDIS_URL:
        _redis().set(_redis_key(scope, bucket, window), value, exat=expires_at)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (scope, bucket, window_start, count, expires_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (scope, bucket, window_start) "
            "DO UPDATE SET count = excluded.count, expires_at = excluded.expires_at",
            [scope, bucket, window, value, expires_at],
        )


def forget(scope: str, bucket: str, *, window: int) -> None:
    if settings.REDIS_URL:
        _redis().delete(_redis_key(scope, bucket, window))
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE scope = %s AND bucket = %s AND window_start = %s",  # noqa: S608
            [scope, bucket, window],
        )


def sweep(*, batch: int = 10_000) -> int:
    """Delete expired counters from the database (Redis expires its own); returns how many.

    In batches, so a large backlog never holds a long lock on a busy table.
    """
    if settings.REDIS_URL:
        return 0
    now, removed = int(time.time()), 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE (scope, bucket, window_start) IN ("  # noqa: S608
                f"SELECT scope, bucket, window_start FROM {TABLE} WHERE expires_at <= %s LIMIT %s)",
                [now, batch],
            )
            deleted = int(cursor.rowcount)
        removed += deleted
        if deleted < batch:
            return removed
