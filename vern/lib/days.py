"""The controller's days: dates and midnights in Europe/Oslo, where Kaukus AS keeps its calendar.

Deadlines (rights requests, R11), the analytics' days and their salts, and the cookie decisions
counted per day all turn on the same calendar; the database stores UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def local_day(moment: dt.datetime) -> dt.date:
    """The day in Oslo that the aware ``moment`` falls on."""
    return moment.astimezone(OSLO).date()


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Oslo, as an aware datetime (23 or 25 hours before the next
    one on the days the clocks change)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=OSLO)
