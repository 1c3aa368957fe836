"""Goals and conversions without cookies: server events from other apps, page-view goals, per source and campaign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.analytics import goals
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, Goal, GoalCount, Hit
from vern.analytics.selectors import Period
from vern.audit.models import Entry
from vern.lib.days import local_day

pytestmark = pytest.mark.django_db
IP = "203.0.113.77"


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    yield
    BUFFER.flush()


def today() -> Period:
    day = local_day(timezone.now())
    return Period(day, day)


def test_a_page_goal_counts_visits_to_matching_pages_against_the_period_before():
    day = dt.date(2026, 5, 20)
    for offset, visits in ((0, 30), (7, 10)):
        when = day - dt.timedelta(days=offset)
        DailyStat.objects.create(day=when, dimension="total", visits=300)
        DailyStat.objects.create(day=when, dimension="page", value="/en/pricing/teams/", visits=visits)
        DailyStat.objects.create(day=when, dimension="page", value="/en/pricingX", visits=99)  # not under /en/pricing/
    goal = Goal.objects.create(name="Pricing", kind=Goal.Kind.PAGE, match="/en/pricing/*")
    [result] = goals.results(Period(day - dt.timedelta(days=6), day))
    assert (result.goal, result.conversions, result.previous, result.rate, result.change) == (goal, 30, 10, 10.0, 200.0)
    assert goals.matches("/en/pricing/*", "/en/pricing/") and not goals.matches("/en/pricing/*", "/en/pricing")


def test_staff_add_and_remove_goals_with_clear_errors_and_an_audit_row(client, personas):
    staff_login(client, personas.sales)
    url = "/en/staff/analytics/settings/"
    page = client.get(url).content.decode()
    assert "Demo booked" in page and "Newsletter subscription confirmed" in page  # the events apps named
    bad = client.post(url, {"action": "goal_add", "name": "Pricing", "kind": "page", "pattern": "pricing page"})
    assert bad.status_code == 400 and "Write a path that begins with /" in bad.content.decode()
    assert not Goal.objects.exists()
    missing = client.post(url, {"action": "goal_add", "name": "Demo", "kind": "server", "event": ""})
    assert missing.status_code == 400 and "Choose what vern records." in missing.content.decode()
    client.post(url, {"action": "goal_add", "name": "Demo", "kind": "server", "event": "demo_booked"})
    goal = Goal.objects.get()
    assert (goal.kind, goal.match) == ("server", "demo_booked")
    again = client.post(url, {"action": "goal_add", "name": "demo", "kind": "server", "event": "demo_booked"})
    assert again.status_code == 400 and "already a goal with this name" in again.content.decode()
    client.post(url, {"action": "goal_delete", "goal": str(goal.pk)})
    assert not Goal.objects.exists()
    assert list(Entry.objects.filter(action__startswith="analytics.goal").values_list("action", flat=True)) == [
        "analytics.goal_create",
        "analytics.goal_delete",
    ]


def test_the_dashboard_shows_goals_and_each_view_exports_as_csv(client, personas):
    day = local_day(timezone.now())
    DailyStat.objects.create(day=day, dimension="total", visits=40, visitors=30, pageviews=80)
    DailyStat.objects.create(day=day, dimension="referrer", value="duckduckgo.com", visits=10)
    GoalCount.objects.create(day=day, event="demo_booked", source="duckduckgo.com", entry="/", count=2)
    Goal.objects.create(name="Demo booked", kind=Goal.Kind.SERVER, match="demo_booked")
    staff_login(client, personas.sales)
    page = client.get("/en/staff/analytics/?range=7d").content.decode()
    assert "Demo booked" in page and "Conversions by source and campaign" in page and "duckduckgo.com" in page
    query = f"range=custom&start={day}&end={day}"
    csv_goals = b"".join(client.get(f"/en/staff/analytics/export.csv?{query}&view=goals").streaming_content)
    assert csv_goals.decode().splitlines() == [
        "goal,kind,match,conversions,rate,previous",
        "Demo booked,server,demo_booked,2,5.0,0",
    ]
    csv_sources = b"".join(client.get(f"/en/staff/analytics/export.csv?{query}&view=conversions").streaming_content)
    assert csv_sources.decode().splitlines()[1] == "Demo booked,referrer,duckduckgo.com,2,10,20.0"
    csv_refs = b"".join(client.get(f"/en/staff/analytics/export.csv?{query}&view=referrer").streaming_content)
    assert csv_refs.decode().splitlines()[1].startswith("duckduckgo.com,0,10,")
    assert not Hit.objects.exists()
