"""People who ask to hear of changes of sub-processors: double opt-in, the notice, unsubscribing, retention."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from vern.audit.services import Actor
from vern.declaration.selectors import published_declaration
from vern.mail.models import OutboxMessage
from vern.processors.models import ChangeSubscriber, Processor
from vern.processors.services import register_seed, subprocessor_change_record
from vern.processors.subscribers import due_subscribers
from vern.registry.entries import entries
from vern.registry.surface import withdraw_consents

pytestmark = pytest.mark.django_db
ADDRESS = "Kunde@Example.no"


def link_in(kind: str, name: str) -> str:
    message = OutboxMessage.objects.filter(kind=kind).order_by("-pk").first()
    assert message is not None, kind
    found = re.search(rf"https?://\S+/{name}/[\w-]+/", message.body_text)
    assert found, message.body_text
    return urlsplit(found.group(0)).path


def test_a_customer_confirms_by_mail_gets_each_change_and_can_stop_them(client, published):
    declaration = published_declaration()
    assert declaration is not None
    register_seed(declaration=declaration, policy_version=published.number, actor=Actor.cli())
    hetzner = Processor.objects.get(key="hetzner")

    response = client.post("/en/privacy/processing/", {"email": "not an address"})
    assert response.status_code == 400 and not ChangeSubscriber.objects.exists()
    response = client.post("/en/privacy/processing/", {"email": ADDRESS})
    assert response.status_code == 303 and response["Location"] == "/en/privacy/processing/subscribed/"
    row = ChangeSubscriber.objects.get()
    assert row.status == "pending" and row.email == "kunde@example.no" and row.language == "en"
    assert "kunde@example.no" not in row.email_index  # the address is found by its blind index only

    def change(name: str) -> None:
        subprocessor_change_record(
            actor=Actor.cli(),
            processor=hetzner,
            kind="added",
            name=name,
            service="Backups",
            countries=["FI"],
            announced_on=timezone.localdate(),
            objection_deadline=timezone.localdate() + dt.timedelta(days=30),
        )

    change("Before Oy")  # not confirmed yet: no notice
    assert not OutboxMessage.objects.filter(kind="processor_changes_notice").exists()

    confirm = link_in("processor_changes_confirm", "confirm")
    assert client.get(confirm).status_code == 200  # a mail scanner opening the link confirms nothing
    assert ChangeSubscriber.objects.get().status == "pending"
    assert "You are subscribed" in client.post(confirm).content.decode()
    assert client.post(confirm).status_code == 410  # the link works once

    change("Storage Oy")
    notice = OutboxMessage.objects.get(kind="processor_changes_notice")
    assert notice.to_address == "kunde@example.no"
    assert notice.subject == "New sub-processor at Hetzner Online GmbH: Storage Oy"  # in the subscriber's language
    assert "objections by" in notice.body_text

    unsubscribe = link_in("processor_changes_notice", "unsubscribe")
    assert "You are unsubscribed" in client.post(unsubscribe).content.decode()
    change("After Oy")
    assert OutboxMessage.objects.filter(kind="processor_changes_notice").count() == 1


def test_subscribers_are_registered_kept_by_the_newsletter_rule_and_withdrawn_by_a_rights_request(published):
    assert "processors.ChangeSubscriber" in {entry.label for entry in entries()}
    now = timezone.now()
    common = {"language": "nb", "manage_token": "t", "confirm_expires_at": now + dt.timedelta(days=7)}
    lapsed = ChangeSubscriber.objects.create(
        email="a@example.no", email_index="a", manage_hash="a", **{**common, "confirm_expires_at": now}
    )
    ended = ChangeSubscriber.objects.create(
        email="b@example.no",
        email_index="b",
        manage_hash="b",
        status="ended",
        ended_at=now - dt.timedelta(days=31),
        **common,
    )
    kept = ChangeSubscriber.objects.create(
        email="c@example.no", email_index="c", manage_hash="c", status="confirmed", **common
    )
    declaration = published_declaration()
    assert declaration is not None
    due = ChangeSubscriber.objects.filter(due_subscribers(declaration, now))
    assert set(due) == {lapsed, ended}
    assert withdraw_consents({"email": ["c"]}) >= 1
    kept.refresh_from_db()
    assert kept.status == "ended" and kept.ended_at is not None
