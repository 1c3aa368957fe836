"""Each decision is checked, recorded as chained proof, and carried by a signed cookie (C10-C13, C16)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.test import RequestFactory
from django.utils import timezone

from vern.audit.services import Actor
from vern.consent.choice import COOKIE_NAME, Choice, state_for
from vern.consent.content import banner_content, content_hash
from vern.consent.models import ConsentEvent, Snapshot
from vern.consent.services import CONSENT_CHAIN, ConsentRefused, consent_decide
from vern.declaration.selectors import declaration_of
from vern.declaration.services import declaration_publish
from vern.registry.selectors import records_of

pytestmark = pytest.mark.django_db


def decide(choice: str = "accept_all", categories: list[str] | None = None, **overrides):
    fields: dict[str, Any] = {
        "choice": choice,
        "categories": categories or [],
        "revision": 1,
        "language": "nb",
        "layer": "banner",
        "page_path": "/",
        "origin": "",
        "ip_shortened": "203.0.113.0",
        "gpc": False,
        "previous": None,
    }
    fields.update(overrides)
    return consent_decide(**fields)


def state(published, cookie: str = "", gpc: bool = False, now=None):
    request = RequestFactory().get("/", HTTP_SEC_GPC="1" if gpc else "")
    if cookie:
        request.COOKIES[COOKIE_NAME] = cookie
    return state_for(request, declaration_of(published), published.consent_revision, now or timezone.now())


def test_c12_accepting_all_records_who_what_when_and_exactly_what_was_shown(published):
    decision = decide("accept_all")
    event = decision.event
    assert event.action == "accept_all" and event.layer == "banner" and event.language == "nb"
    assert event.granted == ["marketing", "preferences", "statistics"] and event.refused == []
    assert event.policy_version == 1 and event.consent_revision == 1 and event.page_path == "/"
    assert event.ip_shortened == "203.0.113.0" and len(event.consent_id) == 32
    digest, content = banner_content(published, "nb")
    assert event.snapshot_id == digest == content_hash(content)
    assert Snapshot.objects.get(pk=digest).content["buttons"]["reject_all"] == "Avvis alle"
    # Six calendar months on the Oslo calendar: 181 to 184 days, an hour less or more across summer time.
    lifetime = event.expires_at - event.created_at
    assert dt.timedelta(days=181, hours=-1) <= lifetime <= dt.timedelta(days=184, hours=1)


def test_c4_a_custom_choice_allows_only_what_was_ticked(published):
    decision = decide("custom", ["statistics"])
    assert decision.event.granted == ["statistics"]
    assert decision.event.refused == ["marketing", "preferences"]
    assert decision.choice.granted == {"statistics"}


@pytest.mark.parametrize(
    "overrides,code",
    [
        ({"choice": "custom", "categories": ["necessary"]}, "category"),
        ({"choice": "custom", "categories": ["tracking"]}, "category"),
        ({"revision": 7}, "revision"),
        ({"revision": None}, "revision"),
        ({"choice": "accept_everything"}, "choice"),
        ({"layer": "popup"}, "request"),
    ],
)
def test_a_decision_with_bad_input_is_refused_and_writes_nothing(published, overrides, code):
    with pytest.raises(ConsentRefused) as caught:
        decide(**overrides)
    assert caught.value.code == code
    assert not ConsentEvent.objects.exists() and not Snapshot.objects.exists()


def test_c9_withdrawing_a_category_is_recorded_as_withdrawal(published):
    first = decide("accept_all").choice
    second = decide("custom", ["statistics"], previous=first)
    assert second.event.action == "withdraw"
    assert second.withdrawn == {"marketing", "preferences"}
    assert second.event.consent_id == first.consent_id


def test_c16_gpc_refuses_marketing_and_the_proof_says_so(published):
    decision = decide("accept_all", gpc=True)
    assert decision.event.granted == ["preferences", "statistics"] and decision.event.gpc
    gpc_event = ConsentEvent.objects.get(action="gpc")
    assert gpc_event.refused == ["marketing"] and gpc_event.granted == []
    assert "marketing" not in decision.choice.granted


def test_c12_a_choice_that_ran_out_is_recorded_as_expired_before_the_new_one(published):
    old = Choice(consent_id="a" * 32, revision=1, granted=frozenset({"statistics"}), decided_at=0)
    decide("reject_all", previous=old, lapsed=True)
    assert list(ConsentEvent.objects.order_by("seq").values_list("action", flat=True)) == ["expire", "reject_all"]


def test_c13_consent_events_are_append_only_and_chained(published):
    decide("accept_all")
    decide("reject_all")
    assert CONSENT_CHAIN.verify().ok
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.update(granted=["marketing"])


def test_c13_events_are_found_by_consent_id_for_access_requests(published):
    decision = decide("accept_all")
    decide("reject_all")
    found = {f.entry.label: list(f.records) for f in records_of(consent_id=decision.choice.consent_id)}
    assert [e.pk for e in found["consent.ConsentEvent"]] == [decision.event.pk]


def test_the_cookie_carries_the_choice_and_a_forged_one_counts_as_none(published):
    cookie = decide("custom", ["statistics"]).choice.encode()
    assert Choice.decode(cookie).granted == {"statistics"}
    forged = cookie.replace(".statistics.", ".marketing-statistics.")
    assert Choice.decode(forged) is None
    assert state(published, forged).due


def test_p13_c10_a_choice_lasts_its_declared_lifetime_and_then_is_asked_again(published):
    cookie = decide("reject_all").choice.encode()
    assert not state(published, cookie).due  # a refusal is remembered too
    assert not state(published, cookie, now=timezone.now() + dt.timedelta(days=150)).due
    later = state(published, cookie, now=timezone.now() + dt.timedelta(days=200))
    assert later.due and later.stale is not None


def test_c11_adding_a_cookie_asks_again_and_a_text_change_does_not(published, default_source):
    cookie = decide("accept_all").choice.encode()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=1)):
        text_only = declaration_publish(
            source=default_source.replace("Kaukus selger ikke", "Kaukus selger aldri"), actor=Actor.cli()
        )
    assert text_only.consent_revision == 1 and not state(text_only, cookie).due
    with_cookie = default_source.replace(
        "    - name: vern_session\n",
        "    - name: vern_visits\n      provider: Kaukus AS\n      category: statistics\n      duration: 6 months\n"
        "      purpose: {nb: Kjenner igjen besøk, en: Recognises visits}\n      party: first\n"
        "    - name: vern_session\n",
    )
    bigger = declaration_publish(source=with_cookie, actor=Actor.cli())
    assert bigger.consent_revision == 2 and state(bigger, cookie).due


def test_c16_gpc_alone_is_never_consent(published):
    current = state(published, gpc=True)
    assert current.due  # preferences and statistics still need an answer
    assert not current.allows("marketing")
    cookie = decide("accept_all").choice.encode()
    assert not state(published, cookie, gpc=True).allows("marketing")
    assert state(published, cookie, gpc=True).allows("statistics")


def test_strictly_necessary_needs_no_consent_and_unknown_categories_are_never_allowed(published):
    current = state(published)
    assert current.allows("necessary")
    assert not current.allows("statistics")
    assert not current.allows("analytics")
