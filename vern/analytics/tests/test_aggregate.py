"""Daily totals from raw hits: visits, bounces, real durations, midnight; and one month of raw data (P12, P21)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from vern.analytics.aggregate import aggregate_day, days_to_aggregate
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, Hit
from vern.analytics.salts import visitor_hash
from vern.analytics.services import analytics_aggregate, analytics_rotate_salts

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
DAY = dt.date(2030, 3, 14)
VIEW, ENGAGED = Hit.Kind.PAGEVIEW, Hit.Kind.ENGAGEMENT


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def hit(
    when: dt.datetime,
    visitor: str,
    path: str = "/",
    kind: int = VIEW,
    engaged_ms: int = 0,
    referrer: str = "",
    browser: str = "Firefox",
    previous: str = "",
    ip: str = "203.0.113.0",
    campaign: str = "",
    country: str = "",
    goal: str = "",
) -> None:
    BUFFER.add_hit(
        (
            when,
            kind,
            Hit.Source.SCRIPT,
            visitor,
            previous,
            "",
            path,
            referrer,
            "",
            browser,
            "133",
            "Linux",
            "",
            "desktop",
            ip,
            engaged_ms,
            country,
            "",  # the channel: worked out from the referrer, as for a hit stored before it existed
            "",
            "",
            campaign,
            goal,
        )
    )


def totals(day: dt.date = DAY, dimension: str = "total", value: str = "") -> DailyStat:
    return DailyStat.objects.get(day=day, dimension=dimension, value=value)


def test_visits_bounces_and_engaged_time_of_a_day():
    # Kari: two pages, 40 s and 20 s looked at; a visit of 60 s that did not bounce.
    hit(at(DAY, 10, 0), "kari", "/", referrer="google.com")
    hit(at(DAY, 10, 1), "kari", "/", ENGAGED, 40_000)
    hit(at(DAY, 10, 1), "kari", "/contact/")
    hit(at(DAY, 10, 2), "kari", "/contact/", ENGAGED, 20_000)
    # Ola: one page, read for 95 s, then left: a bounce with a real duration, not 0 s.
    hit(at(DAY, 11, 0), "ola", "/demo/", browser="Safari")
    hit(at(DAY, 11, 2), "ola", "/demo/", ENGAGED, 95_000)
    # Kari again after a 3-hour pause: a second visit.
    hit(at(DAY, 13, 30), "kari", "/privacy/")
    BUFFER.flush()

    assert aggregate_day(DAY) == 3
    total = totals()
    assert (total.visitors, total.visits, total.pageviews, total.bounces) == (2, 3, 4, 2)
    assert total.duration_ms == 155_000
    assert (totals(dimension="entry", value="/").visits, totals(dimension="entry", value="/").bounces) == (1, 0)
    assert totals(dimension="entry", value="/demo/").duration_ms == 95_000
    assert totals(dimension="page", value="/contact/").pageviews == 1
    assert totals(dimension="page", value="/").duration_ms == 40_000
    assert totals(dimension="referrer", value="google.com").visits == 1
    assert totals(dimension="referrer", value="").visits == 2  # direct
    assert totals(dimension="browser", value="Safari").visitors == 1


def test_a_page_read_for_40_minutes_is_one_visit_with_its_full_duration():
    hit(at(DAY, 10, 0), "kari", "/privacy/")
    hit(at(DAY, 10, 40), "kari", "/privacy/", ENGAGED, 40 * 60_000 - 1000)  # reported on leaving
    BUFFER.flush()

    aggregate_day(DAY)
    total = totals()
    assert (total.visits, total.bounces, total.duration_ms) == (1, 1, 40 * 60_000 - 1000)


def test_p21_the_daily_totals_carry_no_ip_address_and_no_visitor_hash():
    hit(at(DAY, 9), "kari-hash-0123456789abcdef", "/", ip="198.51.100.0")
    BUFFER.flush()
    aggregate_day(DAY)

    for row in DailyStat.objects.values():
        text = " ".join(str(value) for value in row.values())
        assert "198.51.100" not in text and "kari-hash" not in text
    assert {f.name for f in DailyStat._meta.get_fields()}.isdisjoint({"ip", "visitor", "consent_id"})


def test_aggregating_twice_gives_the_same_totals():
    hit(at(DAY, 9), "kari")
    BUFFER.flush()
    aggregate_day(DAY)
    first = list(DailyStat.objects.order_by("dimension", "value").values_list("dimension", "value", "visits"))
    aggregate_day(DAY)
    assert list(DailyStat.objects.order_by("dimension", "value").values_list("dimension", "value", "visits")) == first


def test_a_visit_going_on_at_midnight_is_one_visit_of_the_day_it_began_despite_the_new_salt():
    night = DAY + dt.timedelta(days=1)
    old_salt, new_salt = b"a" * 32, b"b" * 32
    before = visitor_hash(old_salt, "kaukus.no", "203.0.113.0", "Firefox")
    after = visitor_hash(new_salt, "kaukus.no", "203.0.113.0", "Firefox")
    hit(at(DAY, 23, 50), before, "/")
    hit(at(night, 0, 5), after, "/contact/", previous=before)  # the next day's hash, and the old one
    hit(at(night, 0, 6), after, "/contact/", ENGAGED, 30_000, previous=before)
    hit(at(night, 9, 0), after, "/demo/")  # a new visit the next morning
    BUFFER.flush()

    aggregate_day(DAY)
    aggregate_day(night)
    evening, morning = totals(DAY), totals(night)
    assert (evening.visits, evening.pageviews, evening.bounces, evening.duration_ms) == (1, 2, 0, 30_000)
    assert (morning.visits, morning.pageviews) == (1, 1)  # the visit from before midnight is not counted twice


def test_a_day_without_visits_gets_empty_totals_and_missing_days_are_caught_up(time_machine):
    time_machine.move_to(at(DAY, 12))
    hit(at(DAY - dt.timedelta(days=5), 12), "kari")
    BUFFER.flush()

    days = days_to_aggregate(at(DAY, 12))
    assert days[0] == DAY - dt.timedelta(days=5) and DAY in days and DAY - dt.timedelta(days=1) in days
    analytics_aggregate(at(DAY, 12))
    assert totals(DAY - dt.timedelta(days=5)).visits == 1
    assert totals(DAY - dt.timedelta(days=4)).visits == 0
    assert days_to_aggregate(at(DAY, 12)) == [DAY - dt.timedelta(days=1), DAY]  # the rest are final


def test_salts_are_deleted_48_hours_after_their_day_ended(time_machine):
    from vern.analytics.models import Salt

    for offset in range(4):
        time_machine.move_to(at(DAY + dt.timedelta(days=offset), 0, 10))
        analytics_rotate_salts()
    days = sorted(Salt.objects.values_list("day", flat=True))
    # At 00:10 on DAY+3, the salt of DAY (ended 48 h 10 min ago) is gone; DAY+1 ended 24 h ago.
    assert days == [DAY + dt.timedelta(days=n) for n in (1, 2, 3)]


def test_the_hourly_job_works_a_day_out_again_only_when_its_hits_changed(time_machine, monkeypatch):
    """ADR 0026: once yesterday's hits stop changing, the job leaves its totals as they are; a late
    hit, an erased one, lost totals or new rules still have the day worked out at the next run."""
    from vern.analytics import sqlaggregate

    yesterday = DAY - dt.timedelta(days=1)
    time_machine.move_to(at(DAY, 12))
    hit(at(yesterday, 10), "kari")
    hit(at(yesterday, 11), "ola")
    hit(at(DAY, 9), "per")
    BUFFER.flush()
    analytics_aggregate(at(DAY, 12))

    def rows() -> dict[dt.date, set[int]]:
        return {day: set(DailyStat.objects.filter(day=day).values_list("id", flat=True)) for day in (yesterday, DAY)}

    written = rows()
    assert analytics_aggregate(at(DAY, 13)) == {yesterday.isoformat(): 2, DAY.isoformat(): 1}
    assert rows() == written  # nothing changed: the rows of an hour ago, not written again

    hit(at(yesterday, 15), "liv")  # stored late: a spool written after an outage
    BUFFER.flush()
    analytics_aggregate(at(DAY, 14))
    assert totals(yesterday).visits == 3
    assert rows()[DAY] == written[DAY]

    Hit.objects.filter(visitor="per").delete()  # erased on request
    analytics_aggregate(at(DAY, 15))
    assert totals(DAY).visits == 0

    DailyStat.objects.filter(day=yesterday).delete()  # totals lost (a restore of an older backup)
    analytics_aggregate(at(DAY, 16))
    assert totals(yesterday).visits == 3

    written = rows()
    monkeypatch.setattr(sqlaggregate, "RULES", sqlaggregate.RULES + 1)  # a release that counts differently
    analytics_aggregate(at(DAY, 17))
    assert rows()[yesterday].isdisjoint(written[yesterday]) and rows()[DAY].isdisjoint(written[DAY])


def test_a_hit_stored_while_its_day_is_worked_out_has_the_day_worked_out_again(time_machine, monkeypatch):
    """Found in review (ADR 0026): another process's buffer commits a hit after the job counted
    the day's hits but before it read them. The totals hold that hit and the count does not, so
    nothing is recorded; had it been, erasing that hit would bring the count back to the one
    recorded, and the erased visit would have stayed in the totals for good."""
    from vern.analytics import sqlaggregate

    time_machine.move_to(at(DAY, 12))
    hit(at(DAY, 9), "kari")
    BUFFER.flush()
    work_out = sqlaggregate.insert_day

    def with_a_hit_committed_meanwhile(day: dt.date) -> None:
        if day == DAY:
            hit(at(DAY, 10), "ola")
            BUFFER.flush()
        work_out(day)

    monkeypatch.setattr(sqlaggregate, "insert_day", with_a_hit_committed_meanwhile)
    analytics_aggregate(at(DAY, 12))
    monkeypatch.setattr(sqlaggregate, "insert_day", work_out)
    assert totals(DAY).visits == 2

    Hit.objects.filter(visitor="ola").delete()  # erased on request before the next run
    analytics_aggregate(at(DAY, 13))
    assert totals(DAY).visits == 1


def test_hits_spooled_in_an_outage_and_stored_days_later_are_counted_in_their_day(time_machine):
    """Nothing lost in an outage (issue 20): hits stored days later, from a spool or from a web
    process's memory, are counted in the totals of the day they belong to, though the hourly job
    no longer looks at that day otherwise."""
    from vern.analytics.buffer import HIT_COLUMNS, spooled_hit, store_spooled

    earlier = DAY - dt.timedelta(days=3)
    hit(at(earlier - dt.timedelta(days=1), 12), "first")  # the first day kept, which is never redone
    hit(at(earlier, 10), "kari")
    BUFFER.flush()
    time_machine.move_to(at(earlier, 23))
    analytics_aggregate(at(earlier, 23))
    time_machine.move_to(at(DAY, 12))
    analytics_aggregate(at(DAY, 12))
    assert earlier not in days_to_aggregate(at(DAY, 12)) and totals(earlier).visits == 1

    late: dict[str, object] = dict.fromkeys(HIT_COLUMNS, "")
    late.update(at=at(earlier, 15), kind=VIEW, source=Hit.Source.SCRIPT, visitor="ola", path="/", engaged_ms=0)
    store_spooled([spooled_hit(tuple(late[column] for column in HIT_COLUMNS))])  # a spool drained days later
    assert earlier in days_to_aggregate(at(DAY, 13))
    analytics_aggregate(at(DAY, 13))
    assert totals(earlier).visits == 2
    assert earlier not in days_to_aggregate(at(DAY, 14))

    hit(at(earlier, 18), "per")  # kept in a web process's memory through the outage, written now
    BUFFER.flush()
    analytics_aggregate(at(DAY, 14))
    assert totals(earlier).visits == 3


def test_a_day_totalled_before_its_hits_were_counted_is_worked_out_again_when_a_late_hit_comes(time_machine):
    """Found in review: a day totalled by an older release has totals but no record of the hits they
    read (``TotalledDay``, ADR 0026); a hit stored late for it is counted all the same."""
    from vern.analytics.models import TotalledDay

    earlier = DAY - dt.timedelta(days=3)
    hit(at(earlier - dt.timedelta(days=1), 12), "first")  # the first day kept, which is never redone
    hit(at(earlier, 10), "kari")
    BUFFER.flush()
    time_machine.move_to(at(DAY, 12))
    analytics_aggregate(at(DAY, 12))
    TotalledDay.objects.filter(day=earlier).delete()  # as a release before the record left it
    assert earlier not in days_to_aggregate(at(DAY, 12))

    hit(at(earlier, 15), "ola")  # kept in a web process's memory through an outage, written now
    BUFFER.flush()
    assert earlier in days_to_aggregate(at(DAY, 13))
    analytics_aggregate(at(DAY, 13))
    assert totals(earlier).visits == 2
    assert earlier not in days_to_aggregate(at(DAY, 14))


def test_hits_of_yesterday_stored_late_in_the_evening_are_counted_by_a_run_after_midnight(time_machine):
    """Found in review: late hits for yesterday, written at 23:31 just after the job's run, are
    counted by its next run at 00:31, when that day is already the day before yesterday."""
    yesterday = DAY - dt.timedelta(days=1)
    hit(at(yesterday - dt.timedelta(days=1), 12), "first")  # the first day kept, never redone
    hit(at(yesterday, 10), "kari")
    BUFFER.flush()
    time_machine.move_to(at(DAY, 23, 30))
    analytics_aggregate(at(DAY, 23, 30))
    time_machine.move_to(at(DAY, 23, 31))
    hit(at(yesterday, 20), "ola")  # kept through an outage of a day, written now
    BUFFER.flush()
    night = DAY + dt.timedelta(days=1)
    time_machine.move_to(at(night, 0, 31))
    analytics_aggregate(at(night, 0, 31))
    assert totals(yesterday).visits == 2


def test_a_late_hit_marks_exactly_the_days_whose_totals_read_it_also_when_the_clocks_go_back():
    """A day's totals read its hits from 23:30 the evening before until 06:00 the next morning, by
    the clock: on the night summer time ends that is seven hours after midnight, not six."""
    from vern.analytics.aggregate import unsettle
    from vern.analytics.models import TotalledDay

    saturday, sunday, monday = dt.date(2025, 10, 25), dt.date(2025, 10, 26), dt.date(2025, 10, 27)

    def marked(when: dt.datetime) -> set[dt.date]:
        TotalledDay.objects.all().delete()
        for day in (saturday, sunday, monday):
            TotalledDay.objects.create(day=day, hits=1, id_sum=1, newest=1, rules=1)
        unsettle([when.astimezone(dt.UTC)], now=at(dt.date(2025, 11, 3), 12))  # in UTC, as hits are written
        return set(TotalledDay.objects.filter(settled=False).values_list("day", flat=True))

    assert marked(at(sunday, 5, 30)) == {saturday, sunday}  # in Saturday's window until 06:00
    assert marked(at(sunday, 6, 30)) == {sunday}
    assert marked(at(sunday, 23, 40)) == {sunday, monday}  # Monday's window begins at 23:30
    assert marked(at(dt.date(2025, 11, 3), 11, 58)) == set()  # two minutes old: not late, no query
