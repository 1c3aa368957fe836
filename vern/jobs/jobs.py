"""The job queue's own housekeeping."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vern.jobs.models import Job
from vern.jobs.registry import job
from vern.jobs.spool import drain_all

DONE_JOBS_KEPT = dt.timedelta(days=7)


@job("jobs.purge_finished", daily_at=dt.time(3, 30))
def purge_finished() -> None:
    """Finished jobs hold only ids; a week of them is enough to look back on."""
    Job.objects.filter(status=Job.Status.DONE, finished_at__lt=timezone.now() - DONE_JOBS_KEPT).delete()


@job("spool.drain", every=dt.timedelta(minutes=1))
def drain_spools() -> None:
    """Store what web processes kept in their spool files while the database was down, including
    what a process left when it was killed (docs/analytics.md, docs/consent.md)."""
    drain_all()
