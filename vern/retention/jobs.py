from __future__ import annotations

import datetime as dt

from vern.audit.services import Actor
from vern.jobs.registry import job
from vern.retention.services import retention_sweep


@job("retention.sweep", daily_at=dt.time(3, 30), lease=dt.timedelta(minutes=30))
def sweep() -> None:
    """Remove what the declaration's retention rules say is due (P11, P12)."""
    retention_sweep(trigger="worker", actor=Actor.system())
