"""The read-only statistics API: per-token access for staff, tokens shown once and stored hashed, audited."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from django.utils import timezone

from vern.accounts.models import RoleGrant
from vern.accounts.testing import staff_login
from vern.analytics.models import DailyStat, Goal, GoalCount, StatsToken
from vern.audit.models import Entry
from vern.lib.days import local_day

pytestmark = pytest.mark.django_db
URL = "/api/analytics/stats"


def make_token(client, name: str = "Sales sheet") -> str:
    page = client.post("/en/staff/analytics/settings/", {"action": "token_create", "name": name})
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    found = re.search(r'id="new-token">(vst_[A-Za-z0-9_-]+)<', page.content.decode())
    assert found, "the new token is shown on the page"
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sales_client(client, personas):
    staff_login(client, personas.sales)
    return client


def test_a_token_made_in_the_console_reads_the_stats_and_is_shown_once_and_stored_hashed(sales_client, personas):
    day = local_day(timezone.now())
    DailyStat.objects.create(day=day, dimension="total", visitors=12, visits=15, pageviews=40, bounces=3)
    DailyStat.objects.create(day=day, dimension="page", value="/en/pricing/", visitors=5, visits=6, pageviews=9)
    Goal.objects.create(name="Demo booked", kind="server", match="demo_booked")
    GoalCount.objects.create(day=day, event="demo_booked", count=3)
    token = make_token(sales_client)

    row = StatsToken.objects.get()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest() and token not in str(row.__dict__)
    assert token not in sales_client.get("/en/staff/analytics/settings/").content.decode()  # shown once only
    answer = Client().get(URL, {"start": str(day), "end": str(day)}, headers=bearer(token))
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    body = answer.json()
    assert body["totals"]["visitors"] == 12 and body["totals"]["pageviews"] == 40
    assert body["breakdowns"]["page"][0] == {"value": "/en/pricing/", "visitors": 5, "visits": 6, "pageviews": 9}
    assert body["goals"] == [{"name": "Demo booked", "kind": "server", "conversions": 3, "previous": 0, "rate": 20.0}]
    row.refresh_from_db()
    assert row.last_used_at is not None
    created = Entry.objects.get(action="analytics.token_create")
    assert created.actor_id == personas.sales.pk and created.data == {"name": "Sales sheet", "prefix": token[:10]}


def test_no_token_an_unknown_one_or_a_revoked_one_reads_nothing(sales_client, personas):
    token = make_token(sales_client)
    anonymous = Client()
    for headers in (
        {},
        bearer("vst_" + "A" * 43),
        {"headers": {"Authorization": "Basic c2FtOnB3"}},
        bearer(token[:-1]),
    ):
        answer = anonymous.get(URL, **headers)
        assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")
        assert answer.json()["error"] == "token"
    # A signed-in session is not a token either: the API reads only the header.
    assert sales_client.get(URL).status_code == 401

    sales_client.post("/en/staff/analytics/settings/", {"action": "token_revoke", "token": StatsToken.objects.get().pk})
    answer = anonymous.get(URL, headers=bearer(token))
    assert answer.status_code == 403 and answer.json()["error"] == "revoked"
    assert Entry.objects.filter(action="analytics.token_revoke", actor_id=personas.sales.pk).count() == 1


def test_a_token_stops_when_its_owner_may_no_longer_read_statistics(sales_client, personas):
    token = make_token(sales_client)
    assert Client().get(URL, headers=bearer(token)).status_code == 200
    RoleGrant.objects.filter(user=personas.sales).delete()
    assert Client().get(URL, headers=bearer(token)).status_code == 403


def test_a_token_reads_only_the_stats_not_the_console_nor_another_api(sales_client):
    token = make_token(sales_client)
    other = Client()
    page = other.get("/en/staff/analytics/", headers=bearer(token))
    assert page.status_code == 302 and "/staff/login/" in page["Location"]
    export = other.get("/en/staff/analytics/export.csv", headers=bearer(token))
    assert export.status_code == 302
    made = other.post("/en/staff/analytics/settings/", {"action": "token_create", "name": "x"}, headers=bearer(token))
    assert made.status_code in (302, 403)
    assert StatsToken.objects.count() == 1


def test_a_staff_member_cannot_revoke_another_ones_token(sales_client, personas):
    make_token(sales_client)
    officer = Client()
    staff_login(officer, personas.privacy_officer)
    revoke = {"action": "token_revoke", "token": StatsToken.objects.get().pk}
    answer = officer.post("/en/staff/analytics/settings/", revoke)
    assert answer.status_code == 404 and StatsToken.objects.get().revoked_at is None


def test_a_bad_period_is_refused_with_a_clear_reason(sales_client):
    token = make_token(sales_client)
    client = Client()
    for query, reason in (
        ({"start": "2026-02-30", "end": "2026-03-01"}, "days of the calendar"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start is after end"),
        ({"start": "2026-03-01"}, "both start and end"),
        ({"start": "1. mars", "end": "2026-03-01"}, "year-month-day"),
        ({"start": "2026-01-01", "end": "2099-01-01"}, "after today"),
    ):
        answer = client.get(URL, query, headers=bearer(token))
        assert answer.status_code == 400 and reason in answer.json()["message"], query


def test_the_stats_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/analytics/stats"]["get"]
    assert operation["operationId"] == "analyticsStats"
    assert set(operation["responses"]) >= {"200", "400", "401", "403"}
    assert {p["name"] for p in operation["parameters"]} >= {"start", "end"}
