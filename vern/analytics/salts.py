"""The daily random salts of the cookieless visitor hash.

A visitor without a statistics cookie is recognised, for one day only, by a keyed
hash of that day's salt, the site, the shortened IP address and the user agent.
The salt is 32 random bytes made when the day (Europe/Oslo) first needs it, and
deleted after 48 hours by the worker: after that nobody, vern included, can
compute the hash again from an IP address and a browser, so yesterday's visitor
cannot be linked to today's. The previous day's salt is still used in the first
30 minutes after midnight, so a visit going on at midnight is not split.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading

from django.db import IntegrityError, transaction

from vern.analytics.models import Salt
from vern.lib.days import day_start, local_day

KEEP = dt.timedelta(hours=48)
CARRY_OVER = dt.timedelta(minutes=30)  # a visit ends after 30 minutes without a hit

_cache: dict[dt.date, bytes] = {}
_lock = threading.Lock()


# The day the beacon last saw: (its midnight, the next midnight, both in UTC, and the day).
_today: tuple[dt.datetime, dt.datetime, dt.date] | None = None


def day_of(now: dt.datetime) -> tuple[dt.date, dt.datetime]:
    """``now``'s day in Oslo and its midnight (in UTC): on the beacon's path, worked out once a
    day rather than through the time zone's rules for every hit (a comparison of two UTC times
    instead). A clock that goes back (a test's) is looked up again."""
    global _today
    span = _today
    if span is not None and now.tzinfo is dt.UTC and span[0] <= now < span[1]:
        return span[2], span[0]
    day = local_day(now)
    start = day_start(day).astimezone(dt.UTC)
    _today = (start, day_start(day + dt.timedelta(days=1)).astimezone(dt.UTC), day)
    return day, start


def salt_for(day: dt.date) -> bytes:
    """The salt of ``day``, made if it does not exist yet (by whichever process asks first)."""
    found = _cache.get(day)
    if found is not None:
        return found
    with _lock:
        row = Salt.objects.filter(day=day).first()
        if row is None:
            try:
                with transaction.atomic():
                    row = Salt.objects.create(day=day, key=secrets.token_bytes(32))
            except IntegrityError:  # another process made it first
                row = Salt.objects.get(day=day)
        key = bytes(row.key)
        for old in [d for d in _cache if d < day - dt.timedelta(days=1)]:
            del _cache[old]  # a deleted salt must not live on in memory
        _cache[day] = key
        return key


def visitor_hash(salt: bytes, site: str, ip: str, user_agent: str) -> str:
    """Keyed BLAKE2b (a MAC by design, no HMAC wrapping needed), 128 bits: a third of HMAC-SHA256's cost."""
    message = f"{site}\n{ip}\n{user_agent}".encode()
    return hashlib.blake2b(message, key=salt, digest_size=16).hexdigest()


def visitor_hashes(now: dt.datetime, site: str, ip: str, user_agent: str) -> tuple[str, str]:
    """Today's hash, and in the first 30 minutes of the day also yesterday's (else "")."""
    day, midnight = day_of(now)
    today = visitor_hash(salt_for(day), site, ip, user_agent)
    if now - midnight < CARRY_OVER:
        return today, visitor_hash(salt_for(day - dt.timedelta(days=1)), site, ip, user_agent)
    return today, ""


def forget_old(now: dt.datetime) -> int:
    """Delete the salts of days that ended more than 48 hours ago; returns how many."""
    last_kept = local_day(now - KEEP)
    deleted, _ = Salt.objects.filter(day__lt=last_kept).delete()
    for day in [d for d in _cache if d < last_kept]:
        _cache.pop(day, None)
    return deleted


def forget_cached() -> None:
    _cache.clear()
