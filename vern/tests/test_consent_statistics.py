"""Consent statistics for the analytics dashboard, read from the consent app's proof chain through its surface."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vern.consent import statistics
from vern.consent.models import ConsentEvent, DecisionDay, DecisionTotal
from vern.consent.services import consent_decide
from vern.registry import surface
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
ONE = dt.timedelta(days=1)


def test_consent_statistics_come_from_the_proof_chain_by_category_revision_and_language(published):
    for choice in ("accept_all", "accept_all", "reject_all", "reject_all"):
        cookie_choice(choice)
    today = timezone.localdate()
    stats = surface.consent_statistics(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    assert stats is not None
    assert (stats.decisions, stats.accepted_any, stats.rate, stats.gpc_share) == (4, 2, 50.0, 0.0)
    assert {r.value: (r.decisions, r.accepted) for r in stats.by_revision} == {"1": (4, 2)}
    assert {r.value: (r.decisions, r.accepted) for r in stats.by_language} == {"nb": (4, 2)}
    assert stats.by_category and all((r.decisions, r.accepted) == (4, 2) for r in stats.by_category)


def _reference(start: dt.date, end: dt.date) -> dict[str, Any]:
    """The period's figures counted event by event, as the dashboard did before days were counted."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=OSLO)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=OSLO)
    events = ConsentEvent.objects.filter(created_at__gte=since, created_at__lt=until, action__in=statistics.DECISIONS)
    found: dict[str, Any] = {"decisions": 0, "accepted": 0, "gpc": 0}
    tallies: dict[str, Counter[tuple[str, bool]]] = {
        "category": Counter(),
        "revision": Counter(),
        "language": Counter(),
    }
    for event in events:
        allowed = bool(event.granted)
        found["decisions"] += 1
        found["accepted"] += allowed
        found["gpc"] += event.gpc
        for category in event.granted:
            tallies["category"][(category, True)] += 1
        for category in event.refused:
            tallies["category"][(category, False)] += 1
        tallies["revision"][(str(event.consent_revision), allowed)] += 1
        tallies["language"][(event.language, allowed)] += 1
    for name, tally in tallies.items():
        values = sorted({value for value, _ in tally})
        found[name] = {value: (tally[(value, True)] + tally[(value, False)], tally[(value, True)]) for value in values}
    return found


def _figures(stats: surface.ConsentStatistics) -> dict[str, Any]:
    return {
        "decisions": stats.decisions,
        "accepted": stats.accepted_any,
        "gpc": stats.gpc,
        "category": {r.value: (r.decisions, r.accepted) for r in stats.by_category},
        "revision": {r.value: (r.decisions, r.accepted) for r in stats.by_revision},
        "language": {r.value: (r.decisions, r.accepted) for r in stats.by_language},
    }


def _decide(choice: str, *, categories: tuple[str, ...] = (), language: str = "nb", gpc: bool = False) -> None:
    consent_decide(
        choice=choice,
        categories=list(categories),
        revision=1,
        language=language,
        layer="banner",
        page_path="/",
        origin="",
        ip_shortened="203.0.113.0",
        gpc=gpc,
        previous=None,
    )


def _three_days_of_decisions(time_machine: Any, today: dt.date) -> None:
    """Decisions of every kind on the two days before ``today`` and on ``today`` itself, up to noon."""
    mixes = [
        ("accept_all", (), "nb", False),
        ("reject_all", (), "en", False),
        ("custom", ("statistics",), "nb", False),
        ("custom", ("marketing", "statistics"), "en", False),
        ("reject_all", (), "nb", True),
    ]
    for offset in (2, 1, 0):
        day = today - dt.timedelta(days=offset)
        for hour, (choice, categories, language, gpc) in enumerate(mixes[offset:] + mixes[: offset + 1]):
            time_machine.move_to(dt.datetime.combine(day, dt.time(7 + hour), tzinfo=OSLO))
            _decide(choice, categories=categories, language=language, gpc=gpc)
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=OSLO))


def test_a_day_that_is_over_is_counted_once_and_read_from_its_few_rows(
    published, time_machine, django_assert_num_queries
):
    """ADR 0027: the dashboard read every decision of both periods on each load (2.8 s for 500,000).
    A day that is over is counted once by the job; the statistics add its rows up, with today's
    events, to the same figures as counting event by event."""
    today = dt.date(2030, 3, 14)
    _three_days_of_decisions(time_machine, today)
    first = today - dt.timedelta(days=2)
    before = _figures(statistics.statistics(first, today))
    assert before == _reference(first, today) and before["decisions"] == 18

    # The days that are over, and today up to 11:00 (the last hour that ended five minutes ago).
    assert statistics.count_days() == {"2030-03-12": 6, "2030-03-13": 6, "2030-03-14": 4}
    assert statistics.days_to_count(timezone.now()) == []
    assert DecisionTotal.objects.filter(day=first).count() < 6  # a combination is one row, however often

    with django_assert_num_queries(2):  # the counted rows with how far their day is counted; today since 11:00
        after = _figures(statistics.statistics(first, today))
    assert after == before
    with CaptureQueriesContext(connection) as read:
        counted = statistics.statistics(first, today - ONE)
    assert not [q for q in read.captured_queries if ConsentEvent._meta.db_table in q["sql"]]  # no event is read
    assert _figures(counted) == _reference(first, today - ONE)
    _decide("accept_all", language="en")  # today's decisions count at once
    assert _figures(statistics.statistics(first, today)) == _reference(first, today)
    assert _figures(statistics.statistics(first, first)) == _reference(first, first)

    assert statistics.count_days() == {}  # counted already: nothing is read again
    rows = sorted(DecisionTotal.objects.values_list("day", "granted", "decisions"))
    statistics.count_day(first)  # counting again changes nothing
    assert sorted(DecisionTotal.objects.values_list("day", "granted", "decisions")) == rows


def test_decisions_are_counted_up_to_an_hour_that_ended_five_minutes_ago(published, time_machine):
    yesterday = dt.date(2030, 3, 13)
    for moment in (dt.time(22, 30), dt.time(23, 59, 59)):
        time_machine.move_to(dt.datetime.combine(yesterday, moment, tzinfo=OSLO), tick=False)
        _decide("accept_all")
    time_machine.move_to(dt.datetime.combine(yesterday + ONE, dt.time(0, 3), tzinfo=OSLO))
    # A decision made at midnight may still be on its way: the day is counted up to 23:00 only.
    assert statistics.count_days() == {"2030-03-13": 1}
    assert statistics.statistics(yesterday, yesterday).decisions == 2  # the last hour from the events
    time_machine.move_to(dt.datetime.combine(yesterday + ONE, dt.time(0, 6), tzinfo=OSLO))
    assert statistics.count_days() == {"2030-03-13": 2}
    assert statistics.statistics(yesterday, yesterday).decisions == 2
    assert statistics.count_days() == {}


@pytest.mark.django_db(transaction=True)
def test_a_decision_kept_through_an_outage_counts_in_its_day_though_the_day_was_counted(published, time_machine):
    """A choice made while the database was down is stored later with its own time (the consent
    spool); its day, counted meanwhile, is read from the events again and then counted afresh."""
    from vern.consent.services import SPOOL
    from vern.jobs.spool import drain_all
    from vern.testing import database_unreachable

    day = dt.date(2030, 3, 13)
    time_machine.move_to(dt.datetime.combine(day, dt.time(10), tzinfo=OSLO))

    def choose(choice: str) -> int:
        answer = Client().post(
            "/api/consent/",
            json.dumps({"choice": choice, "revision": published.consent_revision, "lang": "en", "path": "/en/"}),
            content_type="application/json",
            HTTP_ORIGIN="http://testserver",
        )
        return answer.status_code

    assert choose("accept_all") == 200
    time_machine.move_to(dt.datetime.combine(day, dt.time(23, 50), tzinfo=OSLO))
    with database_unreachable():
        assert choose("reject_all") == 202  # kept in the spool
    time_machine.move_to(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9), tzinfo=OSLO))
    assert statistics.count_days() == {"2030-03-13": 1, "2030-03-14": 0}  # today up to 08:00
    assert SPOOL.pending()

    assert drain_all() == 1  # the database is back: the choice is stored, at 23:50 the day before
    assert not DecisionDay.objects.get(day=day).current
    assert statistics.statistics(day, day).decisions == 2  # read from the day's events meanwhile
    assert statistics.count_days() == {"2030-03-13": 2}
    assert DecisionDay.objects.get(day=day).current
    assert _figures(statistics.statistics(day, day)) == _reference(day, day)


def test_a_decision_stored_after_its_day_was_counted_has_the_day_counted_again(published, time_machine, monkeypatch):
    """Found in review: a choice made at 23:59 that waits for the proof chain past the count of its
    day (more than five minutes after midnight) marks that day, as a late one from the spool does."""
    from vern.consent import services

    day = dt.date(2030, 3, 13)
    time_machine.move_to(dt.datetime.combine(day, dt.time(10), tzinfo=OSLO))
    _decide("reject_all")
    time_machine.move_to(dt.datetime.combine(day, dt.time(23, 59, 30), tzinfo=OSLO))
    chain = type(services.CONSENT_CHAIN)
    append = chain.append

    def counted_meanwhile(self: Any, row: Any) -> Any:
        if isinstance(row, ConsentEvent) and not DecisionDay.objects.filter(day=day).exists():
            time_machine.move_to(dt.datetime.combine(day + ONE, dt.time(0, 10), tzinfo=OSLO))
            assert statistics.count_days() == {"2030-03-13": 1}  # the job, while the choice waits
        return append(self, row)

    monkeypatch.setattr(chain, "append", counted_meanwhile)
    _decide("accept_all")
    assert statistics.statistics(day, day).decisions == 2
    assert statistics.count_days() == {"2030-03-13": 2}


def test_a_count_that_missed_a_decision_stored_after_it_is_redone_by_the_next_run(published, time_machine):
    """Found in review: a decision whose storing became visible minutes after it was made (a stalled
    commit) after the count of its hour, and which checked its age within the minute, marks
    nothing; the next run finds it by its number in the chain, stored after the count's last."""
    today = dt.date(2030, 3, 14)
    time_machine.move_to(dt.datetime.combine(today, dt.time(10, 30), tzinfo=OSLO), tick=False)
    _decide("accept_all")
    time_machine.move_to(dt.datetime.combine(today, dt.time(12), tzinfo=OSLO), tick=False)
    assert statistics.count_days() == {"2030-03-14": 1}  # up to 11:00
    time_machine.move_to(dt.datetime.combine(today, dt.time(10, 45), tzinfo=OSLO), tick=False)
    _decide("reject_all")  # made at 10:45, stored after the count, not marked
    assert DecisionDay.objects.get(day=today).current
    time_machine.move_to(dt.datetime.combine(today, dt.time(12, 4), tzinfo=OSLO), tick=False)
    assert statistics.statistics(today, today).decisions == 1  # missed until the next run
    assert statistics.counted_until(timezone.now()).astimezone(OSLO).hour == 11  # no new hour to count
    assert statistics.count_days() == {"2030-03-14": 2}
    assert _figures(statistics.statistics(today, today)) == _reference(today, today)
