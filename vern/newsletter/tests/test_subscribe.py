"""Subscribing: double opt-in, proof of consent, single-use links, and refusals of bad input (issue 16, P22)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from vern.declaration.selectors import declaration_of
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.newsletter.models import ConsentProof, ConsentText, Subscription
from vern.newsletter.selectors import consent_text
from vern.newsletter.services import PROOF_CHAIN
from vern.newsletter.tests.helpers import confirm_link, path_of, subscribe_on_page

pytestmark = pytest.mark.django_db

KARI = "kari.nordmann@example.no"


def test_P22_asking_creates_no_subscription_until_the_link_is_used_and_the_proof_names_the_text_shown(
    client, published, smtp_server
):
    response = subscribe_on_page(client, "Kari.Nordmann@Example.no")
    assert response.status_code == 303 and response["Location"] == "/newsletter/sent/"
    pending = Subscription.objects.get()
    assert pending.status == Subscription.Status.PENDING and pending.confirmed_at is None
    assert outbox_deliver_due().sent == 1
    (mail,) = smtp_server.messages
    assert mail["To"] == KARI and mail["Subject"] == "Bekreft påmeldingen til nyhetsbrevet"
    assert not mail["List-Unsubscribe"]  # asking whether to subscribe is not a mailing

    link = confirm_link(KARI, smtp_server.messages)
    # A mail scanner that opens the link confirms nothing: only the person's button does.
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Bekreft påmeldingen" in page.content.decode()
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    done = client.post(path_of(link))
    assert done.status_code == 200 and "Du er påmeldt" in done.content.decode()
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.CONFIRMED

    requested, confirmed = ConsentProof.objects.order_by("seq")
    assert [requested.action, confirmed.action] == ["requested", "confirmed"]
    shown = ConsentText.objects.get(hash=requested.text_hash)
    assert shown.text == consent_text(declaration_of(published), "nb", "newsletter")
    assert "samtykke" in shown.text and shown.language == "nb"
    assert requested.policy_version == published.number and requested.form == "newsletter"
    assert requested.ip_shortened == "127.0.0.0" and requested.email_index == email_index(KARI)
    assert requested.topics == ["events", "news"]
    assert PROOF_CHAIN.verify().ok


def test_a_used_link_and_an_expired_link_get_a_clear_page_in_the_visitors_language_and_change_nothing(
    client, published
):
    subscribe_on_page(client, KARI, lang="en")
    link = confirm_link(KARI)
    assert "/en/newsletter/confirm/" in link
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        expired = client.post(path_of(link))
        assert expired.status_code == 410 and "The link has expired" in expired.content.decode()
        assert client.get(path_of(link)).status_code == 410
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    assert ConsentProof.objects.count() == 1

    assert client.post(path_of(link)).status_code == 200
    proofs = ConsentProof.objects.count()
    again = client.post(path_of(link))
    assert again.status_code == 410 and "The link cannot be used" in again.content.decode()
    norwegian = client.post(path_of(link).removeprefix("/en"))
    assert norwegian.status_code == 410 and "Lenken kan ikke brukes" in norwegian.content.decode()
    assert ConsentProof.objects.count() == proofs
    garbled = client.post("/newsletter/confirm/not-a-token/")
    assert garbled.status_code == 410


def test_a_flood_from_one_network_is_refused_in_the_visitors_language_and_stores_nothing(client, published, settings):
    settings.VERN_NEWSLETTER_RATE = 3
    for n in range(3):
        assert subscribe_on_page(client, f"person{n}@example.no").status_code == 303
    refused = subscribe_on_page(client, "person3@example.no", lang="en")
    assert refused.status_code == 429
    assert "many subscriptions from your network" in refused.content.decode()
    assert Subscription.objects.count() == 3
    assert OutboxMessage.objects.filter(kind="subscription_confirm").count() == 3
    # Another network is not held back by this one.
    assert subscribe_on_page(client, "other@example.no", REMOTE_ADDR="198.51.100.7").status_code == 303


def test_the_same_address_typed_again_and_again_gets_at_most_three_mails_a_day(client, published):
    for _ in range(5):
        assert subscribe_on_page(client, KARI).status_code == 303
    assert OutboxMessage.objects.filter(kind="subscription_confirm").count() == 3
    assert Subscription.objects.count() == 1


def test_a_name_with_line_breaks_is_refused_before_anything_is_stored_or_mailed(client, published):
    response = subscribe_on_page(client, KARI, name="Kari\r\nBcc: everyone@example.com")
    assert response.status_code == 400
    assert "linjeskift" in response.content.decode()
    injected = subscribe_on_page(client, "kari@example.no\r\nBcc: everyone@example.com")
    assert injected.status_code == 400
    assert not Subscription.objects.exists() and not OutboxMessage.objects.exists()


def test_the_box_must_be_ticked_and_a_topic_chosen(client, published):
    response = client.post("/en/newsletter/", {"email": KARI, "topics": ["news"]})
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    response = client.post("/en/newsletter/", {"email": KARI, "agree": "on", "topics": ["spam"]})
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_confirmed_subscriber_who_is_signed_up_again_by_someone_else_stays_as_they_are(client, published):
    subscribe_on_page(client, KARI)
    client.post(path_of(confirm_link(KARI)))
    mails = OutboxMessage.objects.count()
    assert subscribe_on_page(Client(), KARI).status_code == 303  # the page says the same to anyone
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED
    assert OutboxMessage.objects.count() == mails


def test_the_page_is_there_in_both_languages_with_the_box_unticked(client, published):
    norwegian = client.get("/newsletter/").content.decode()
    english = client.get("/en/newsletter/").content.decode()
    assert "Ja, send meg nyhetsbrev" in norwegian
    assert "Yes, send me the newsletter" in english
    assert 'name="agree"' in english and "checked" not in english.split('name="agree"')[1].split(">")[0]
