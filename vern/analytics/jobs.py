from __future__ import annotations

import datetime as dt

from vern.analytics.reports import send_weekly_reports
from vern.analytics.services import (
    TODAY_JOB,
    analytics_aggregate,
    analytics_prepare_partitions,
    analytics_rotate_salts,
    analytics_work_out_today,
)
from vern.jobs.registry import job


@job("analytics.aggregate", every=dt.timedelta(hours=1), lease=dt.timedelta(minutes=30))
def aggregate() -> None:
    """The anonymous daily and hourly totals (and the cube) the dashboard reads, from the raw hits
    (today's, yesterday's, any missing)."""
    analytics_aggregate()


@job(TODAY_JOB, lease=dt.timedelta(minutes=30), max_attempts=2)
def refresh_today() -> None:
    """Today's totals, when a dashboard was opened on a day too large to work out inside the page
    (``services.TODAY_INLINE_HITS``)."""
    analytics_work_out_today()


@job("analytics.salts", daily_at=dt.time(0, 5))
def rotate_salts() -> None:
    """Today's visitor-hash salt; salts older than 48 hours are deleted, so old hashes cannot be redone."""
    analytics_rotate_salts()


@job("analytics.partitions", daily_at=dt.time(1, 15))
def prepare_partitions() -> None:
    """PostgreSQL: the day partitions of raw hits and the technical log, a week ahead."""
    analytics_prepare_partitions()


@job("analytics.weekly_report", daily_at=dt.time(7, 0))
def weekly_report() -> None:
    """Last week's statistics to each staff member who asked for them, once per week (on Monday, or the next run)."""
    send_weekly_reports()
