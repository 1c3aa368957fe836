from __future__ import annotations

import datetime as dt

import pytest

from vern.declaration.durations import Duration


@pytest.mark.parametrize(
    "text,too_long",
    [
        ("13 months", False),
        ("1 year", False),
        ("14 months", True),
        ("2 years", True),
        ("393 days", False),
        ("394 days", True),
        ("400 days", True),
        ("56 weeks", False),
        ("57 weeks", True),
        ("session", False),
    ],
)
def test_the_13_month_ceiling_holds_in_every_unit(text, too_long):
    assert Duration.parse(text, allow_session=True).longer_than_months(13) is too_long


def test_calendar_months_end_on_the_last_day_of_a_short_month():
    start = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.UTC)
    assert Duration.parse("1 month").after(start) == dt.datetime(2026, 2, 28, 12, 0, tzinfo=dt.UTC)
    assert Duration.parse("24 months").after(start) == dt.datetime(2028, 1, 31, 12, 0, tzinfo=dt.UTC)
    leap = dt.datetime(2028, 1, 31, tzinfo=dt.UTC)
    assert Duration.parse("1 month").after(leap).day == 29


@pytest.mark.parametrize("text", ["forever", "0 days", "1 fortnight", "12months", "-1 days", "session"])
def test_what_is_not_a_period_is_refused(text):
    with pytest.raises(ValueError):
        Duration.parse(text)


def test_durations_read_naturally_in_both_languages():
    assert Duration.parse("1 month").text("nb") == "1 måned"
    assert Duration.parse("24 months").text("en") == "24 months"
    assert Duration.parse("session", allow_session=True).text("nb") == "Økt"


@pytest.mark.parametrize(
    "start",
    [dt.datetime(2024, 1, 31, 9, tzinfo=dt.UTC), dt.datetime(2024, 2, 29, 9, tzinfo=dt.UTC)]
    + [dt.datetime(2025, month, day, 23, 59, tzinfo=dt.UTC) for month in range(1, 13) for day in (1, 15, 28)],
)
@pytest.mark.parametrize("text", ["1 month", "24 months", "1 year", "30 days"])
def test_counting_back_never_makes_a_start_due_before_its_time(start, text):
    duration = Duration.parse(text)
    end = duration.after(start)
    # Selecting "start <= before(now)" never picks a start whose end is still to come …
    assert duration.before(end - dt.timedelta(seconds=1)) < start
    # … and picks it up at the latest a few days after its end (month-end clamping).
    assert duration.before(end + dt.timedelta(days=3)) >= start


def test_months_are_counted_on_the_oslo_calendar_across_summer_time():
    # 1 March 2025, 00:30 in Oslo (winter time, UTC+1) is 28 February 23:30 UTC.
    start = dt.datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC)
    # One month later in Oslo is 1 April, 00:30 summer time (UTC+2): 31 March 22:30 UTC.
    assert Duration.parse("1 month").after(start) == dt.datetime(2025, 3, 31, 22, 30, tzinfo=dt.UTC)
    # Counted on the UTC calendar it would have ended on 28 March: three days early for Oslo.
    assert Duration.parse("1 month").before(dt.datetime(2025, 3, 31, 22, 29, tzinfo=dt.UTC)) < start
    assert Duration.parse("1 month").before(dt.datetime(2025, 3, 31, 22, 30, tzinfo=dt.UTC)) >= start
