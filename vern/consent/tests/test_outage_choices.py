"""A cookie choice made while the database is down is answered, kept, and stored once with its own time."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from vern.consent.models import ConsentEvent
from vern.consent.services import SPOOL, consent_store_spooled
from vern.jobs.spool import drain_all
from vern.testing import database_unreachable

pytestmark = pytest.mark.django_db(transaction=True)


def _choose(client: Client, revision: int, choice: str = "accept_all") -> Any:
    return client.post(
        "/api/consent/",
        json.dumps({"choice": choice, "revision": revision, "lang": "en", "path": "/en/"}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )


def test_a_choice_during_an_outage_gets_202_and_its_cookie_and_is_stored_later_with_its_own_time(published):
    client = Client()
    assert _choose(client, published.consent_revision).status_code == 200  # read the policy once, as any server has
    before = ConsentEvent.objects.count()
    with database_unreachable():
        answer = _choose(Client(), published.consent_revision, "reject_all")
        assert answer.status_code == 202
        assert answer.cookies["vern_consent"].value == answer.json()["cookie"]
    assert ConsentEvent.objects.count() == before
    (segment,) = SPOOL.pending()
    kept = segment.read_text()
    assert answer.json()["consent_id"] in kept and "127.0.0.0" in kept and "127.0.0.1" not in kept
    assert drain_all() == 1
    event = ConsentEvent.objects.get(consent_id=answer.json()["consent_id"])
    assert (event.consent_id, event.action, event.language) == (answer.json()["consent_id"], "reject_all", "en")
    assert event.created_at == dt.datetime.fromisoformat(answer.json()["decided_at"])
    assert not SPOOL.pending()


def test_a_kept_choice_that_reached_the_database_after_all_is_not_stored_twice(published):
    _choose(Client(), published.consent_revision)
    with database_unreachable():
        answer = _choose(Client(), published.consent_revision, "reject_all")
    assert answer.status_code == 202
    (segment,) = SPOOL.pending()
    record = json.loads(segment.read_text().splitlines()[0])
    consent_store_spooled([record])  # as if the connection broke while the database committed it
    assert drain_all() == 1  # the drain reads it, and finds it stored
    assert ConsentEvent.objects.filter(consent_id=answer.json()["consent_id"]).count() == 1


def test_a_server_that_never_read_the_policy_answers_503_during_an_outage(published, monkeypatch):
    from vern.declaration import selectors

    monkeypatch.setattr(selectors, "_last_known", None)
    with database_unreachable():
        answer = _choose(Client(), published.consent_revision)
    assert answer.status_code == 503
    assert int(answer["Retry-After"]) > 0
    assert answer.json()["error"] == "unavailable"
    assert not SPOOL.pending()
