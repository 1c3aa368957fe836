from __future__ import annotations

import datetime as dt

from vern.declaration.services import change_notify
from vern.jobs.registry import job


@job("declaration.notify_change", lease=dt.timedelta(minutes=30))
def notify_change(version: int) -> None:
    """Mail everyone vern keeps in touch with about a significant policy change, once each (P20)."""
    change_notify(number=version)
