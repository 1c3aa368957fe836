"""Writes of the analytics app that are not a single hit: totals, salts, partitions, erasure help."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from vern.analytics import aggregate, salts
from vern.analytics.buffer import BUFFER
from vern.analytics.models import Hit, LogEvent
from vern.lib import partitions

log = logging.getLogger("vern.analytics")

PARTITION_DAYS_AHEAD = 7


def analytics_aggregate(now: dt.datetime | None = None) -> dict[str, int]:
    """Work out the daily totals of every day that may have changed; returns visits per day."""
    now = now or timezone.now()
    BUFFER.flush()  # what this process holds belongs in the totals too
    return {day.isoformat(): aggregate.aggregate_day(day) for day in aggregate.days_to_aggregate(now)}


def analytics_rotate_salts(now: dt.datetime | None = None) -> int:
    """Make today's salt and delete those older than 48 hours; returns how many were deleted."""
    now = now or timezone.now()
    salts.salt_for(salts.local_day(now))
    return salts.forget_old(now)


def analytics_prepare_partitions(now: dt.datetime | None = None) -> list[str]:
    """On PostgreSQL, create the day partitions of the next week, so no write has to."""
    today = (now or timezone.now()).astimezone(dt.UTC).date()
    made: list[str] = []
    for model in (Hit, LogEvent):
        made += partitions.ensure_ahead(model, today, PARTITION_DAYS_AHEAD)
    return made
