from __future__ import annotations

import datetime as dt

from vern.jobs.registry import job
from vern.rights.services.intake import requests_lapse
from vern.rights.services.restriction import restrictions_lift_due
from vern.rights.services.workflow import reminders_send


@job("rights.deadlines", every=dt.timedelta(hours=1))
def deadline_watch() -> None:
    """Hourly: unconfirmed requests lapse after 72 hours, officers are reminded 7 and 2 days before a
    due date (R11), and restrictions whose end was announced are lifted."""
    requests_lapse()
    reminders_send()
    restrictions_lift_due()
