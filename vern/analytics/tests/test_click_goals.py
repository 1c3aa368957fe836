"""A click on an element marked data-vern-goal as a goal staff define: the form, the count, where goals show."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from vern.accounts.models import RoleGrant, User
from vern.accounts.testing import staff_login
from vern.analytics import goals, reports
from vern.analytics.models import DailyStat, Goal, ReportRecipient
from vern.analytics.selectors import Period
from vern.analytics.tests.test_stats_api import bearer, make_token
from vern.audit.models import Entry
from vern.mail.services import outbox_deliver_due

pytestmark = pytest.mark.django_db
SETTINGS = "/staff/analytics/settings/"
WEEK = Period(dt.date(2026, 5, 11), dt.date(2026, 5, 17))


def a_week_with_clicks() -> Goal:
    """300 visits last week, 45 of them with a click on demo-booked (one visit clicked twice); 20 the week before."""
    for first, visits, clicks in ((dt.date(2026, 5, 11), 300, (25, 20)), (dt.date(2026, 5, 4), 200, (20, 0))):
        DailyStat.objects.create(day=first, dimension="total", visitors=visits, visits=visits, pageviews=2 * visits)
        for offset, n in enumerate(clicks):
            day = first + dt.timedelta(days=offset)
            DailyStat.objects.create(day=day, dimension="goal", value="demo-booked", visits=n, pageviews=n + 1)
    DailyStat.objects.create(day=dt.date(2026, 5, 12), dimension="goal", value="newsletter", visits=99)
    DailyStat.objects.create(day=dt.date(2026, 5, 12), dimension="page", value="demo-booked", visits=77)
    return Goal.objects.create(name="Demo clicks", kind=Goal.Kind.EVENT, match="demo-booked")


def test_a_click_goal_counts_the_visits_in_which_its_name_fired_against_the_week_before():
    goal = a_week_with_clicks()
    [result] = goals.results(WEEK)
    assert (result.goal, result.conversions, result.previous, result.rate, result.change) == (
        goal,
        45,
        20,
        15.0,
        125.0,
    )


@pytest.mark.parametrize(
    "name",
    ["demo booked", "", "x" * 61, "démo", "<b>", 'demo"'],
    ids=["space", "empty", "too-long", "accent", "markup", "quote"],
)
def test_a_click_goal_takes_only_a_name_the_beacon_can_send_and_says_so_in_norwegian(client, personas, name):
    staff_login(client, personas.sales)
    page = client.post(SETTINGS, {"action": "goal_add", "name": "Demo", "kind": "event", "click": name})
    text = page.content.decode()
    assert page.status_code == 400
    assert "Skriv 1 til 60 bokstaver" in text or "60 eller færre tegn (den har nå 61)" in text
    assert not Goal.objects.exists() and not Entry.objects.filter(action="analytics.goal_create").exists()


def test_staff_add_a_click_goal_see_how_to_mark_the_element_and_the_audit_keeps_its_name(client, personas):
    staff_login(client, personas.sales)
    form = client.get("/en" + SETTINGS).content.decode()
    assert "A click on an element marked data-vern-goal" in form
    assert "&lt;a href=&quot;/demo/&quot; data-vern-goal=&quot;demo-booked&quot;&gt;" in form  # shown, not rendered
    client.post(SETTINGS, {"action": "goal_add", "name": "Demo clicks", "kind": "event", "click": " demo:booked_2 "})
    goal = Goal.objects.get()
    assert (goal.kind, goal.match) == ("event", "demo:booked_2")
    assert Entry.objects.get(action="analytics.goal_create").data == {
        "name": "Demo clicks",
        "kind": "event",
        "match": "demo:booked_2",
    }
    listed = client.get(SETTINGS).content.decode()
    assert "Et klikk på" in listed and 'data-vern-goal="demo:booked_2"' in listed.replace("&quot;", '"')


def test_a_click_goal_shows_on_the_dashboard_in_the_csv_and_in_the_stats_api(client, personas):
    a_week_with_clicks()
    staff_login(client, personas.sales)
    query = f"range=custom&start={WEEK.start}&end={WEEK.end}"
    page = client.get(f"/en/staff/analytics/?{query}").content.decode()
    goals_table = page[page.index('id="goals-table"') : page.index("</table>", page.index('id="goals-table"'))]
    assert "Demo clicks" in goals_table and ">45<" in goals_table and ">15%<" in goals_table
    exports = page[page.index('id="export-heading"') :]
    assert exports.count("download>Goal clicks</a>") == 1 and exports.count("download>Goals</a>") == 1
    csv = b"".join(client.get(f"/en/staff/analytics/export.csv?{query}&view=goals").streaming_content).decode()
    assert csv.splitlines()[1] == "Demo clicks,event,demo-booked,45,15.0,20"
    token = make_token(client)
    body = Client().get("/api/analytics/stats", {"start": str(WEEK.start), "end": str(WEEK.end)}, headers=bearer(token))
    assert body.json()["goals"] == [
        {"name": "Demo clicks", "kind": "event", "conversions": 45, "previous": 20, "rate": 15.0}
    ]
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["schemas"]["GoalOut"]["properties"]["kind"]["enum"] == ["server", "page", "event"]


def test_the_weekly_report_names_a_click_goal_with_its_rate_in_norwegian(smtp_server):
    a_week_with_clicks()
    kari = User.objects.create_user(email="kari@example.com", password=None, name="Kari Salg", language="nb")
    RoleGrant.objects.create(user=kari, role="sales")
    ReportRecipient.objects.create(user=kari)
    with time_machine.travel(dt.datetime(2026, 5, 18, 7, 0, tzinfo=ZoneInfo("Europe/Oslo")), tick=False):
        assert reports.send_weekly_reports() == 1
    outbox_deliver_due()
    [mail] = smtp_server.messages
    assert "Demo clicks: 45 (15,0 %)" in mail.get_body(("plain",)).get_content()
