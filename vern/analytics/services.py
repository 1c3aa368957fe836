"""Writes of the analytics app that are not a single hit: totals, salts, partitions, erasure help."""

from __future__ import annotations

import datetime as dt
import enum
import logging

from django.core.cache import cache
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone

from vern.analytics import aggregate, goals, salts
from vern.analytics.buffer import BUFFER
from vern.analytics.models import Hit, LogEvent, TotalledDay
from vern.declaration.durations import Duration
from vern.jobs.services import job_enqueue_once
from vern.lib import days, partitions

log = logging.getLogger("vern.analytics")

PARTITION_DAYS_AHEAD = 7


def analytics_aggregate(now: dt.datetime | None = None) -> dict[str, int]:
    """Work out the daily totals of every day that may have changed (a day whose hits have not
    changed since is left as it is); returns visits per day."""
    now = now or timezone.now()
    BUFFER.flush()  # what this process holds belongs in the totals too
    kept = _hits_kept_for()
    cube_from = days.local_day(kept.before(now)) if kept is not None else None
    done = {
        day.isoformat(): aggregate.aggregate_day(day, unless_unchanged=True)
        for day in aggregate.days_to_aggregate(now, cube_from)
    }
    aggregate.forget_old_cube(now, kept)
    goals.refresh_page_reach(days.local_day(now))  # page-view goals' conversion rates, added up (ADR 0028)
    aggregate.analyze_totals()  # the dashboard never waits for autovacuum to see the new totals
    return done


def _hits_kept_for() -> Duration | None:
    """How long the published declaration keeps raw hits (their retention rule), if it says."""
    from vern.declaration.selectors import published_declaration

    declaration = published_declaration()
    rule = declaration.rule(Hit.Privacy.retention) if declaration is not None else None
    return Duration.parse(rule.period) if rule is not None and rule.period else None


# Today's totals are worked out on demand at most this often, across processes and servers.
TODAY_FRESH_SECONDS = 60
TODAY_LOCK_KEY = "analytics:today-lock"  # and the day: a lock of yesterday ends at midnight
TODAY_COUNTED_KEY = "analytics:today-counted"  # the id of the newest hit in today's totals
# A page works today's totals out itself while the day had at most this many hits when they were
# last worked out (a quarter of a second or so); beyond it the worker does, so that no page waits
# for a large day (at 1.7 M hits a day, 20 s or more). ADR 0026.
TODAY_INLINE_HITS = 20_000
TODAY_QUEUE_SECONDS = 300  # and the worker works such a day out at most this often for the pages
TODAY_JOB = "analytics.refresh_today"


class Today(enum.Enum):
    CURRENT = "current"  # nothing new since the totals were worked out, or they are being now
    WORKED_OUT = "worked out"  # worked out just now, in this call
    QUEUED = "queued"  # a large day: the worker works it out (at most every 5 minutes); the totals are older


def analytics_refresh_today(now: dt.datetime | None = None) -> Today:
    """Work out today's totals from the raw hits when hits were stored since they were last
    worked out, so that the dashboard shows the first visits at once instead of after the
    hourly job; at most once a minute across processes and servers (a cache ``add``). A day
    that had more than ``TODAY_INLINE_HITS`` hits is handed to the worker instead, at most
    every ``TODAY_QUEUE_SECONDS``, and the page is told that its figures are older (ADR 0026).

    "Since" goes by the hits' ids, not their times: another process's buffer may store a hit
    of a minute ago after the totals were worked out.
    """
    now = now or timezone.now()
    BUFFER.flush()  # what this process holds is today's too
    day = days.local_day(now)
    newest = _newest_of(day)
    counted = cache.get(TODAY_COUNTED_KEY)
    if newest is None or (isinstance(counted, int) and newest <= counted):
        return Today.CURRENT  # nothing new since the totals were last worked out
    last = TotalledDay.objects.filter(day=day).values_list("hits", flat=True).first()
    if last is not None and last > TODAY_INLINE_HITS:
        if cache.add(f"{TODAY_LOCK_KEY}:{day}", 1, timeout=TODAY_QUEUE_SECONDS):
            job_enqueue_once(TODAY_JOB, key=TODAY_JOB)
        return Today.QUEUED
    if not cache.add(f"{TODAY_LOCK_KEY}:{day}", 1, timeout=TODAY_FRESH_SECONDS):
        return Today.CURRENT
    return Today.WORKED_OUT if _work_out(day, newest) else Today.CURRENT


def analytics_work_out_today(now: dt.datetime | None = None) -> bool:
    """Today's totals worked out now, whatever their size (the worker's job ``TODAY_JOB``)."""
    day = days.local_day(now or timezone.now())
    BUFFER.flush()
    newest = _newest_of(day)
    return newest is not None and _work_out(day, newest)


def _newest_of(day: dt.date) -> int | None:
    hits = Hit.objects.filter(at__gte=days.day_start(day), at__lt=days.day_start(day + dt.timedelta(days=1)))
    newest: int | None = hits.aggregate(newest=Max("id"))["newest"]
    return newest


def _work_out(day: dt.date, newest: int) -> bool:
    try:
        aggregate.aggregate_day(day)
    except IntegrityError:  # the hourly job wrote the same day's totals at the same moment
        return False
    cache.set(TODAY_COUNTED_KEY, newest, timeout=2 * 24 * 3600)
    return True


def analytics_rotate_salts(now: dt.datetime | None = None) -> int:
    """Make today's salt and delete those older than 48 hours; returns how many were deleted."""
    now = now or timezone.now()
    salts.salt_for(days.local_day(now))
    return salts.forget_old(now)


def analytics_prepare_partitions(now: dt.datetime | None = None) -> list[str]:
    """On PostgreSQL, create the day partitions of the next week, so no write has to."""
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    made: list[str] = []
    for model in (Hit, LogEvent):
        made += partitions.ensure_ahead(model, today, PARTITION_DAYS_AHEAD)
    return made
