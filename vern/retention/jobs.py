from __future__ import annotations

import datetime as dt

from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.jobs.registry import job
from vern.retention.services import retention_sweep


@job("retention.sweep", daily_at=dt.time(3, 30), lease=dt.timedelta(minutes=30))
def sweep(staff_id: int | None = None) -> None:
    """Remove what the declaration's retention rules say is due (P11, P12); nightly, or when a
    privacy officer asks (``staff_id``), recorded as theirs."""
    if staff_id is not None:
        retention_sweep(trigger="staff", actor=Actor(Entry.ActorKind.STAFF, int(staff_id)))
    else:
        retention_sweep(trigger="worker", actor=Actor.system())
