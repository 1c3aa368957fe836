"""One month of raw analytics hits and technical log rows, then only anonymous totals (P12)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from vern.analytics.aggregate import aggregate_day
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, Hit, LogEvent
from vern.analytics.tests.test_aggregate import hit
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.declaration.durations import Duration
from vern.lib import partitions
from vern.retention.services import hold_place, retention_sweep

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")


def totals(day: dt.date) -> DailyStat:
    return DailyStat.objects.get(day=day, dimension="total", value="")


def test_p12_raw_hits_go_after_one_month_and_only_the_anonymous_totals_remain(published):
    # A month is 31 days in most cases (so: 31 days gone, 29 kept), counted on the calendar.
    month_ago = Duration.parse("1 month").before(timezone.now())
    ancient, old, young = (
        month_ago - dt.timedelta(days=9),
        month_ago - dt.timedelta(days=1),
        month_ago + dt.timedelta(days=1),
    )
    hit(ancient, "per", "/")
    hit(old, "kari", "/contact/")
    hit(young, "ola", "/demo/")
    BUFFER.flush()
    for moment in (ancient, old, young):
        aggregate_day(moment.astimezone(OSLO).date())

    retention_sweep(trigger="worker", actor=Actor.system())

    assert list(Hit.objects.values_list("visitor", flat=True)) == ["ola"]  # 29 days: kept
    assert totals(old.astimezone(OSLO).date()).visits == 1  # the anonymous totals stay
    assert totals(ancient.astimezone(OSLO).date()).visits == 1
    removed = [
        e.data["removed"] for e in Entry.objects.filter(action="retention.removed", object_id="visitor_statistics")
    ]
    assert sum(r["analytics.Hit"] for r in removed) == 2  # counts, never identifiers
    if connection.vendor == "postgresql":  # there, a day wholly past its month is dropped at once
        days = {day for _, day in partitions.partitions(Hit)}
        assert ancient.date() not in days and young.date() in days


def test_p12_technical_log_rows_are_gone_a_day_after_one_month_and_kept_a_day_before(published):
    """A month is 31 days in most cases (so: 31 days gone, 29 kept), counted on the calendar."""
    month_ago = Duration.parse("1 month").before(timezone.now())
    for moment, route in (
        (month_ago - dt.timedelta(days=14), "/ancient/"),
        (month_ago - dt.timedelta(days=1), "/old/"),
        (month_ago + dt.timedelta(days=1), "/young/"),
    ):
        BUFFER.add_log(LogEvent(at=moment, kind="error", status=500, route=route, ip="203.0.113.0"))
    BUFFER.flush()

    retention_sweep(trigger="worker", actor=Actor.system())

    assert list(LogEvent.objects.values_list("route", flat=True)) == ["/young/"]


def test_a_held_log_row_keeps_its_day_from_being_dropped_and_only_the_others_go(published, personas):
    long_ago = timezone.now() - dt.timedelta(days=60)
    for route in ("/held/", "/free/"):
        BUFFER.add_log(LogEvent(at=long_ago, kind="denied", status=403, route=route, ip="203.0.113.0"))
    BUFFER.flush()
    held = LogEvent.objects.get(route="/held/")
    hold_place(
        staff=personas.privacy_officer,
        reason="Datatilsynet ba om loggen",
        ends_at=timezone.now() + dt.timedelta(days=30),
        record_model="analytics.LogEvent",
        record_pk=str(held.pk),
    )

    retention_sweep(trigger="worker", actor=Actor.system())

    assert list(LogEvent.objects.values_list("route", flat=True)) == ["/held/"]
    if connection.vendor == "postgresql":  # the day could not be dropped whole: it is still there
        assert long_ago.date() in {day for _, day in partitions.partitions(LogEvent)}


def test_a_batch_of_forty_thousand_log_rows_goes_in_one_transaction_and_the_young_rows_stay(published):
    """A large batch is chosen in the database, never as a list of keys beyond SQLite's parameter limit."""
    cutoff = Duration.parse("1 month").before(timezone.now())
    old = [cutoff - dt.timedelta(minutes=30, microseconds=n) for n in range(40_000)]
    young = cutoff + dt.timedelta(days=1)
    partitions.ensure_partitions(LogEvent, {moment.date() for moment in (*old[:1], *old[-1:], young)})
    LogEvent.objects.bulk_create(
        [LogEvent(at=moment, kind="rate", status=429, route="/flood/", ip="198.51.100.0") for moment in old]
        + [LogEvent(at=young, kind="error", status=500, route="/young/", ip="198.51.100.0")],
        batch_size=2_000,
    )

    run = retention_sweep(trigger="cli", actor=Actor.cli(), batch_size=40_000)

    assert list(LogEvent.objects.values_list("route", flat=True)) == ["/young/"]
    assert run.counts == {"analytics.LogEvent": 40_000}


def test_a_day_is_dropped_only_while_no_hold_or_rights_request_that_could_keep_its_rows_can_be_written(published):
    """Dropping a day partition locks, for that instant, every table that decides what is held of it:
    legal holds always, and rights requests for hits, which an open request keeps by consent id."""
    from vern.declaration.selectors import published_declaration
    from vern.retention import engine

    declaration = published_declaration()
    assert declaration is not None
    compiled = {c.label: c for c in engine.compile_rules(declaration)}
    locked = {
        label: [model._meta.label for model in engine._holding_models(compiled[label], timezone.now())]
        for label in ("analytics.Hit", "analytics.LogEvent")
    }
    assert locked == {"analytics.Hit": ["retention.Hold", "rights.Request"], "analytics.LogEvent": ["retention.Hold"]}
