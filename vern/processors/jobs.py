from __future__ import annotations

import datetime as dt

from vern.audit.services import Actor
from vern.jobs.registry import job
from vern.processors.services import register_seed, review_reminders_send


@job("processors.reviews", daily_at=dt.time(8, 0))
def remind_overdue_reviews() -> None:
    """Each morning: start the register from the policy if it never was, then tell the privacy
    officers of overdue reviews (once a day, however often the job runs)."""
    from vern.declaration.selectors import declaration_of, latest_version

    current = latest_version()
    if current is not None:
        register_seed(declaration=declaration_of(current), policy_version=current.number, actor=Actor.system())
    review_reminders_send()
