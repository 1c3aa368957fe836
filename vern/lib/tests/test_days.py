"""The controller's days in Europe/Oslo: what a deadline, a day's statistics and its salt turn on."""

from __future__ import annotations

import datetime as dt

from vern.lib.days import day_start, local_day


def test_a_day_in_oslo_begins_at_its_own_midnight_and_is_23_or_25_hours_long_when_the_clocks_change():
    assert day_start(dt.date(2026, 6, 1)).astimezone(dt.UTC) == dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC)
    assert day_start(dt.date(2026, 12, 1)).astimezone(dt.UTC) == dt.datetime(2026, 11, 30, 23, tzinfo=dt.UTC)
    for day, hours in ((dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25), (dt.date(2026, 10, 26), 24)):
        # In UTC: the same zone on both sides would subtract the wall-clock times, always 24 hours apart.
        length = day_start(day + dt.timedelta(days=1)).astimezone(dt.UTC) - day_start(day).astimezone(dt.UTC)
        assert length == dt.timedelta(hours=hours)


def test_a_moment_falls_on_the_day_it_is_in_oslo_not_in_utc():
    assert local_day(dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 12, 7)
    assert local_day(dt.datetime(2026, 6, 6, 21, 59, tzinfo=dt.UTC)) == dt.date(2026, 6, 6)
    assert local_day(day_start(dt.date(2026, 10, 25))) == dt.date(2026, 10, 25)
