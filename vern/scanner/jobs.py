from __future__ import annotations

import datetime as dt

from vern.audit.services import Actor
from vern.jobs.registry import job
from vern.scanner.services import scan_record, scans_due, shots_forget


@job("scanner.scan", every=dt.timedelta(hours=1), lease=dt.timedelta(minutes=30))
def scan_declared_sites() -> None:
    """Scan each declared site once a day, and after each publication of the policy (within the hour)."""
    for site, trigger in scans_due():
        scan_record(url=site, trigger=trigger, actor=Actor.system())
    shots_forget()


@job("scanner.scan_now", lease=dt.timedelta(minutes=30))
def scan_now(url: str, staff_id: int) -> None:
    """A scan a staff member asked for in the console, recorded as theirs."""
    from vern.audit.models import Entry

    scan_record(url=url, trigger="staff", actor=Actor(Entry.ActorKind.STAFF, int(staff_id)))
