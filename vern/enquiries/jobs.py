from __future__ import annotations

import datetime as dt

from vern.enquiries import mailbox
from vern.jobs.registry import job


@job(mailbox.FETCH_JOB, every=dt.timedelta(minutes=5), max_attempts=3)
def fetch() -> None:
    """Read the support mailbox: new mail becomes enquiries or contacts; bounces count for the newsletter."""
    mailbox.mailbox_fetch()


@job(mailbox.DELETE_JOB, every=dt.timedelta(minutes=30), max_attempts=1000)
def delete() -> None:
    """Delete from the mailbox the mails of enquiries that retention, an erasure or staff deleted."""
    mailbox.mailbox_delete_pending()
