from __future__ import annotations

import datetime as dt

from vern.jobs.registry import job
from vern.rights.services.erasure import ERASE_JOB, erasure_run_queued
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


@job(ERASE_JOB, max_attempts=10, lease=dt.timedelta(minutes=10))
def erase(request_id: int, staff_id: int | None = None) -> None:
    """A confirmed erasure, carried out by a worker (queued by ``erasure_queue`` from the console).

    Retried with growing pauses while an earlier run's claim holds it (a worker that died
    mid-way): ten attempts outlast the ten minutes of that claim."""
    erasure_run_queued(request_id=request_id, staff_id=staff_id)
