"""Statistics with consent: the analytics beacon and the consent cookie together (P21)."""

from __future__ import annotations

import pytest

from vern.analytics.buffer import BUFFER
from vern.analytics.models import Hit
from vern.analytics.tests.doors import sender
from vern.consent.choice import Choice, new_consent_id

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["wsgi", "django"])
def send(request, published):
    return sender(request.param)


def stored() -> list[Hit]:
    BUFFER.flush()
    return list(Hit.objects.order_by("id"))


def _consent(*granted: str) -> str:
    choice = Choice(consent_id=new_consent_id(), revision=1, granted=frozenset(granted), decided_at=1_900_000_000)
    return choice.encode()


def test_p21_with_statistics_consent_a_visitor_cookie_recognises_a_returning_visitor(send, time_machine):
    time_machine.move_to("2030-03-10 12:00Z")
    consent = _consent("statistics")
    status, headers = send({"k": "v", "u": "/"}, Cookie=f"vern_consent={consent}")

    assert status == 204
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("vern_visitor=") and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    value = cookie.split(";")[0].split("=")[1]

    time_machine.move_to("2030-03-12 09:00Z")  # two days later, a new daily salt
    send({"k": "v", "u": "/contact/"}, Cookie=f"vern_consent={consent}; vern_visitor={value}")
    first, second = stored()
    assert first.visitor == second.visitor  # recognised across days only with the cookie
    assert first.consent_id == Choice.decode(consent).consent_id  # basis (a), found by consent id


def test_p21_consent_to_other_categories_sets_no_statistics_cookie(send):
    status, headers = send({"k": "v", "u": "/"}, Cookie=f"vern_consent={_consent('marketing')}")
    assert status == 204 and "Set-Cookie" not in headers
    assert stored()[0].consent_id == ""


def test_p21_a_forged_consent_cookie_counts_as_no_consent(send):
    forged = _consent("statistics")[:-3] + "xyz"
    status, headers = send({"k": "v", "u": "/"}, Cookie=f"vern_consent={forged}")
    assert status == 204 and "Set-Cookie" not in headers
    assert stored()[0].consent_id == ""


def test_p21_another_sites_odd_cookie_does_not_hide_the_consent(send):
    cookies = f'theme={{"dark": true}}; legacy="a\\b; vern_consent={_consent("statistics")}'
    status, headers = send({"k": "v", "u": "/"}, Cookie=cookies)
    assert status == 204 and headers["Set-Cookie"].startswith("vern_visitor=")
