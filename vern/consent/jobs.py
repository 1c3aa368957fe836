from __future__ import annotations

import datetime as dt

from vern.consent.statistics import count_days
from vern.jobs.registry import job


@job("consent.totals", every=dt.timedelta(hours=1), lease=dt.timedelta(minutes=30))
def totals() -> None:
    """The cookie decisions made before the last full hour, counted for the statistics dashboard (a
    few rows a day instead of every decision); a day a late decision came for, again."""
    count_days()
