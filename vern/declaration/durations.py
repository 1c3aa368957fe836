"""Durations as people write them in a declaration: ``session``, ``8 hours``, ``24 months``.

They are parsed, compared (a cookie may not outlive the consent lifetime), turned
into seconds or calendar arithmetic, and written back in Bokmål or English.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from vern.lib.days import OSLO

UNITS = ("minute", "hour", "day", "week", "month", "year")
_PATTERN = re.compile(r"^(\d{1,4}) (minute|hour|day|week|month|year)s?$")
_NB = {
    "minute": ("minutt", "minutter"),
    "hour": ("time", "timer"),
    "day": ("dag", "dager"),
    "week": ("uke", "uker"),
    "month": ("måned", "måneder"),
    "year": ("år", "år"),
}
_APPROX_SECONDS = {
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 31 * 86400,  # the longest month: a bound is never shorter than the calendar
    "year": 366 * 86400,
}


def _shift_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same wall-clock time ``months`` later (or earlier) in Oslo, the day clamped to the month."""
    zone = moment.tzinfo
    local = moment.astimezone(OSLO) if zone is not None else moment
    year, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + year, month + 1
    shifted = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
    return shifted.astimezone(zone) if zone is not None else shifted


@dataclass(frozen=True, order=True)
class Duration:
    """A count of one unit; ``Duration(0, "session")`` is a browser-session cookie."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str, *, allow_session: bool = False) -> Duration:
        text = text.strip()
        if text == "session":
            if not allow_session:
                raise ValueError("'session' is only a duration for cookies")
            return cls(0, "session")
        match = _PATTERN.match(text)
        if not match or int(match[1]) == 0:
            raise ValueError(f"{text!r} is not a duration like '30 days', '24 months' or '1 year'")
        return cls(int(match[1]), match[2])

    @property
    def is_session(self) -> bool:
        return self.unit == "session"

    def max_seconds(self) -> int:
        """An upper bound in seconds (months count as 31 days); 0 for a session."""
        return 0 if self.is_session else self.amount * _APPROX_SECONDS[self.unit]

    def exact_seconds(self) -> int | None:
        """Seconds for minutes, hours, days and weeks; None for a session or calendar units."""
        if self.unit in ("minute", "hour", "day", "week"):
            return self.amount * _APPROX_SECONDS[self.unit]
        return None

    def longer_than_months(self, months: int) -> bool:
        """Whether this can last longer than ``months`` calendar months, whatever month it starts in.

        Days and weeks are measured against the shortest such span (13 months can be as
        short as 393 days), so ``400 days`` is longer than 13 months and ``13 months`` is not.
        """
        if self.is_session:
            return False
        if self.unit in ("month", "year"):
            return self.amount * (12 if self.unit == "year" else 1) > months
        shortest_days = (months // 12) * 365 + (months % 12) * 28
        return self.amount * _APPROX_SECONDS[self.unit] > shortest_days * 86400

    def after(self, start: dt.datetime) -> dt.datetime:
        """The moment this long after ``start``, with calendar months and years (31 Jan + 1 month = 28/29 Feb).

        Months are counted on the calendar of Europe/Oslo, where the controller and its
        visitors read dates: "24 months after 31 March, 01:30" ends on 31 March, 01:30 there.
        """
        if self.is_session:
            raise ValueError("a session has no end date")
        if self.unit in ("month", "year"):
            return _shift_months(start, self.amount * (12 if self.unit == "year" else 1))
        seconds = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}[self.unit]
        return start + dt.timedelta(seconds=self.amount * seconds)

    def before(self, end: dt.datetime) -> dt.datetime:
        """The latest start whose ``after()`` is sure to be at or before ``end``.

        Months are counted back with the day clamped to the month's length, so a filter
        ``start <= before(now)`` never selects a start that is not yet due; at the end of
        a month it may select one a few days late, never early.
        """
        if self.is_session:
            raise ValueError("a session has no end date")
        if self.unit in ("month", "year"):
            return _shift_months(end, -self.amount * (12 if self.unit == "year" else 1))
        seconds = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}[self.unit]
        return end - dt.timedelta(seconds=self.amount * seconds)

    def text(self, language: str) -> str:
        if self.is_session:
            return "Økt" if language == "nb" else "Session"
        if language == "nb":
            one, many = _NB[self.unit]
            return f"{self.amount} {one if self.amount == 1 else many}"
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"

    def __str__(self) -> str:
        return "session" if self.is_session else f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"
