"""Due dates of rights requests: the earlier of 30 days and one calendar month, counted in Oslo (R11)."""

from __future__ import annotations

import datetime as dt

import pytest

from vern.lib.days import OSLO
from vern.rights import deadlines


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=OSLO)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2026, 1, 31), dt.date(2026, 2, 28)),  # a month ends on the shorter month's last day
        (at(2028, 1, 31), dt.date(2028, 2, 29)),  # leap year
        (at(2028, 1, 30), dt.date(2028, 2, 29)),
        (at(2026, 1, 15), dt.date(2026, 2, 14)),  # a 31-day month: 30 days come first
        (at(2026, 2, 1), dt.date(2026, 3, 1)),  # February: the month comes first
        (at(2026, 4, 10), dt.date(2026, 5, 10)),  # a 30-day month: both agree
        (at(2026, 12, 31), dt.date(2027, 1, 30)),  # over the new year
        (at(2027, 2, 28), dt.date(2027, 3, 28)),
    ],
)
def test_P16_due_date_is_the_earlier_of_thirty_days_and_one_calendar_month(received, due):
    assert deadlines.due_on(received) == due


def test_the_day_a_request_arrives_is_the_day_in_oslo_not_in_utc():
    # 23:30 UTC on 30 January is already 31 January in Oslo.
    received = dt.datetime(2026, 1, 30, 23, 30, tzinfo=dt.UTC)
    assert deadlines.due_on(received) == dt.date(2026, 2, 28)


def test_a_shorter_declared_answer_time_wins():
    assert deadlines.due_on(at(2026, 3, 1), response_days=14) == dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("due", "latest"),
    [
        (dt.date(2026, 2, 28), dt.date(2026, 4, 28)),
        (dt.date(2026, 12, 31), dt.date(2027, 2, 28)),
        (dt.date(2027, 12, 31), dt.date(2028, 2, 29)),
    ],
)
def test_an_extension_reaches_at_most_two_further_months(due, latest):
    assert deadlines.latest_extension(due) == latest


def test_days_left_counts_oslo_days_and_goes_negative_when_overdue():
    due = dt.date(2026, 3, 10)
    assert deadlines.days_left(due, at(2026, 3, 3)) == 7
    assert deadlines.days_left(due, at(2026, 3, 10, 23)) == 0
    assert deadlines.days_left(due, at(2026, 3, 12)) == -2
