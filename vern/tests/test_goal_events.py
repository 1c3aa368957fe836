"""Goals other apps report, counted by analytics without a cookie and without either app importing the other."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from vern.analytics import capture, goals
from vern.analytics.aggregate import aggregate_day
from vern.analytics.buffer import BUFFER
from vern.analytics.models import Goal, GoalCount
from vern.analytics.selectors import Period
from vern.analytics.tests.doors import FIREFOX, sender
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.helpers import CONTACT, demo_fields, send
from vern.lib.days import local_day
from vern.registry import surface

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


@pytest.fixture
def campaigns(db, default_source):
    """The default policy, with ``utm_campaign`` among the query parameters the statistics keep."""
    source = default_source.replace("query_parameters: []", "query_parameters: [utm_campaign]")
    published = declaration_publish(source=source, actor=Actor.cli(), note="Campaigns")
    capture.forget_settings()
    yield published
    capture.forget_settings()


def test_a_demo_booked_counts_once_with_the_source_and_campaign_of_its_visit_and_no_cookie(campaigns):
    visitor = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=IP)
    beacon = sender("django")
    # The visit came from a search engine, onto a campaign's landing page, then went to the demo form.
    assert beacon({"k": "v", "u": "/?utm_campaign=autumn", "r": "https://www.google.com/search"}, ip=IP)[0] == 204
    assert beacon({"k": "v", "u": "/demo/", "r": "http://testserver/"}, ip=IP)[0] == 204
    answer = send(visitor, "demo", demo_fields())
    assert answer.status_code in (302, 303) and Enquiry.objects.filter(kind="demo").count() == 1
    assert not answer.cookies  # nothing set for counting it
    # Someone else, seen by no beacon (no JavaScript), sends an enquiry: counted without a source.
    send(Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.9"), "contact", CONTACT)

    day = local_day(timezone.now())
    rows = {(g.event, g.source, g.entry, g.count) for g in GoalCount.objects.all()}
    assert rows == {("demo_booked", "google.com", "/?utm_campaign=autumn", 1), ("enquiry_sent", "", "", 1)}
    assert {g.day for g in GoalCount.objects.all()} == {day}

    Goal.objects.create(name="Demo booked", kind=Goal.Kind.SERVER, match="demo_booked")
    aggregate_day(day)
    [result] = goals.results(today())
    assert (result.conversions, result.visits, result.rate) == (1, 1, 100.0)
    by = {(r.dimension, r.value): (r.conversions, r.visits) for r in goals.by_source(today())}
    assert by == {("referrer", "google.com"): (1, 1), ("campaign", "autumn"): (1, 1)}


def test_every_app_names_the_goals_it_reports_and_none_imports_analytics():
    assert set(surface.goal_events()) == {"enquiry_sent", "demo_booked", "newsletter_confirmed", "rights_request_made"}


def test_a_failing_count_never_fails_the_form_and_is_logged_without_the_visitor(published, caplog, monkeypatch):
    def broken(**_: object) -> int:
        raise RuntimeError("kari@example.no")

    monkeypatch.setattr(GoalCount.objects, "filter", broken)
    with caplog.at_level(logging.WARNING):
        answer = send(Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=IP), "demo", demo_fields())
    assert answer.status_code in (302, 303) and Enquiry.objects.count() == 1
    assert "demo_booked" in caplog.text and "RuntimeError" in caplog.text and "kari@" not in caplog.text


def test_a_confirmed_subscription_and_a_rights_request_count_as_goals_too(published):
    from vern.newsletter.tests.helpers import confirm_link, path_of, subscribe_on_page

    visitor = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=IP)
    subscribe_on_page(visitor, "kari@example.no")
    assert not GoalCount.objects.exists()  # asking is not yet a subscription
    visitor.post(path_of(confirm_link("kari@example.no")))
    visitor.post("/privacy/requests/", {"rights": ["access"], "email": "kari@example.no"})
    counted = dict(GoalCount.objects.values_list("event", "count"))
    assert counted == {"newsletter_confirmed": 1, "rights_request_made": 1}


def test_a_recorder_that_takes_the_wrong_arguments_is_refused_at_start_up():
    from vern.registry.checks import check_surfaces
    from vern.registry.surface import Declared, Surface

    def misfit(event: str) -> None: ...

    errors = check_surfaces([Declared("analytics", Surface(goal_recorders=(misfit,)))])  # type: ignore[arg-type]
    assert [e.id for e in errors] == ["vern.registry.E004"] and "goal_recorders" in errors[0].msg
