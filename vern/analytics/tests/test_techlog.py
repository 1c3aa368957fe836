"""The technical log: failed logins, refusals and rate limits, with a shortened IP and nothing personal (P4, P12)."""

from __future__ import annotations

import pytest
from django.test import Client

from vern.accounts.testing import staff_login
from vern.analytics.buffer import BUFFER
from vern.analytics.models import LogEvent

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def logged() -> list[LogEvent]:
    BUFFER.flush()
    return list(LogEvent.objects.order_by("id"))


def visitor() -> Client:
    return Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT=FIREFOX)


def test_a_failed_staff_login_is_logged_without_the_address_tried(personas):
    visitor().post("/en/staff/login/", {"email": "pia.personvern@example.no", "password": "wrong guess 1234"})

    [event] = logged()
    assert (event.kind, event.route, event.method, event.ip, event.browser) == (
        "login",
        "/en/staff/login/",
        "POST",
        "198.51.100.0",
        "Firefox",
    )
    row = " ".join(str(v) for v in LogEvent.objects.values().first().values())
    assert "pia" not in row and "198.51.100.23" not in row


def test_refused_access_and_rate_limits_are_logged_with_their_route(personas):
    sales = visitor()
    staff_login(sales, personas.sales)
    assert sales.get("/en/staff/retention/").status_code == 403
    for _ in range(31):
        response = visitor().post("/en/staff/login/", {"email": "x@example.no", "password": "guess guess guess"})
    assert response.status_code == 429

    kinds = [(e.kind, e.status, e.route) for e in logged()]
    assert ("denied", 403, "/en/staff/retention/") in kinds
    assert ("rate", 429, "/en/staff/login/") in kinds


def test_ordinary_pages_and_missing_pages_are_not_logged(published):
    client = visitor()
    assert client.get("/").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    assert logged() == []
