from __future__ import annotations

import datetime as dt

from vern.jobs.registry import job
from vern.mail.services import DELIVER_JOB, outbox_deliver_due


@job(DELIVER_JOB, every=dt.timedelta(seconds=30), max_attempts=3)
def deliver() -> None:
    """Send due mail. Queued at once when mail is written, and every 30 s to retry deferred mail."""
    while True:
        report = outbox_deliver_due()
        if report.sent == 0 or report.deferred or report.failed:
            return
