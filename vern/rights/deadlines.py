"""When a rights request must be answered (Art. 12(3), LAW.md R11), in Europe/Oslo days.

The due date is the earlier of the policy's days (30) and one calendar month after
receipt; a month is counted as in EU Regulation 1182/71: to the same date of the next
month, or its last day when that month is shorter (31 January → 28 or 29 February).
An extension adds at most two further months to the original due date, and only if the
person is told, with reasons, before that date has passed.
"""

from __future__ import annotations

import calendar
import datetime as dt

from vern.lib.days import day_start, local_day

MAX_EXTENSION_MONTHS = 2
REMINDER_DAYS = (7, 2)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same date ``months`` later, or the last day of that month when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(received_at: dt.datetime, *, response_days: int = 30) -> dt.date:
    """The last day to answer a request received at ``received_at``."""
    received = local_day(received_at)
    return min(received + dt.timedelta(days=response_days), add_months(received, 1))


def latest_extension(due: dt.date) -> dt.date:
    """The furthest an extension may move a due date (two further months)."""
    return add_months(due, MAX_EXTENSION_MONTHS)


def end_of(day: dt.date) -> dt.datetime:
    """The last moment of ``day`` in Oslo, as an aware datetime."""
    return day_start(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def days_left(deadline: dt.date, now: dt.datetime) -> int:
    """Whole days from today (Oslo) to the deadline: 0 on the day itself, negative when overdue."""
    return (deadline - local_day(now)).days
