from __future__ import annotations

import datetime as dt

from vern.backups.services import backup_nightly
from vern.jobs.registry import job


@job(
    "backups.nightly",
    daily_at=dt.time(3, 30),
    max_attempts=3,
    lease=dt.timedelta(hours=2),
    first_run_at_once=False,  # at night, when the site is quiet, not whenever a worker starts
)
def nightly() -> None:
    """At 03:30 Oslo time: one encrypted backup, then the deletion of those past the declared period.

    A failure is retried twice, then shows as a failed job and on the console's Backups tile;
    ``vern check --deploy`` warns once no backup has succeeded for 26 hours."""
    backup_nightly()
