from __future__ import annotations

import datetime as dt

from vern.breaches.services import breach_alerts_send, risk_reminders_send
from vern.jobs.registry import job


@job("breaches.reminders", every=dt.timedelta(minutes=10))
def reminders() -> None:
    """Every ten minutes: undecided breaches at 48 and 68 hours after awareness, risks due for review,
    and the yearly review of the risk register; each reminder goes once (``Reminder`` keys)."""
    breach_alerts_send()
    risk_reminders_send()
