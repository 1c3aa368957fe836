from __future__ import annotations

import datetime as dt

from vern.jobs.registry import job
from vern.newsletter.services import REFUSALS_JOB, SEND_JOB, mailing_send_batch, refusals_count


@job(SEND_JOB, max_attempts=10)
def send(mailing: int) -> None:
    """Queue one paced batch of a mailing in the outbox; the next batch is queued as a job of its own."""
    mailing_send_batch(mailing)


@job(REFUSALS_JOB, every=dt.timedelta(minutes=10), max_attempts=3)
def refusals() -> None:
    """Count mail servers' permanent refusals of mailings; suppress an address after the declared number."""
    refusals_count()
