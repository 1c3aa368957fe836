"""P22: newsletters only with consent, end to end with a real SMTP server on loopback; and the
newsletter in the registry: access packages, erasure, withdrawal of consent, the enquiry forms' box."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from vern.accounts.models import RoleGrant, User
from vern.audit.services import Actor
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.helpers import CONTACT, demo_fields, send
from vern.lib.keys import email_index
from vern.mail.services import outbox_deliver_due
from vern.newsletter import services
from vern.newsletter.models import ConsentProof, ConsentText, Subscription, Suppression
from vern.newsletter.selectors import form_prompt
from vern.newsletter.services import PROOF_CHAIN
from vern.newsletter.tests.helpers import confirm_link, confirmed, newsletters_to, path_of, send_all, subscribe_on_page
from vern.retention.services import retention_sweep
from vern.rights.packages.contents import access_data
from vern.rights.services.erasure import erasure_carry_out
from vern.rights.services.intake import request_register

pytestmark = pytest.mark.django_db

KARI = "kari.nordmann@example.no"


@pytest.fixture
def marketer(db) -> User:
    user = User.objects.create_user(email="mia@example.com", password=None, name="Mia Marked")
    RoleGrant.objects.create(user=user, role="marketing")
    return user


def rights_request(personas, rights: list[str], email: str = KARI):
    return request_register(
        staff=personas.privacy_officer,
        rights=rights,
        channel="email",
        received_at=timezone.now(),
        email=email,
        identity_checked=True,
    )


def test_P22_subscribe_confirm_receive_unsubscribe_in_one_click_and_never_again_even_after_erasure(
    client, published, personas, marketer, smtp_server, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    # Asked, not confirmed: a mailing does not reach her.
    subscribe_on_page(client, KARI)
    send_all(marketer)
    outbox_deliver_due()
    assert newsletters_to(smtp_server.messages, KARI) == []

    # Confirmed: the next mailing does, with the one-click headers.
    assert client.post(path_of(confirm_link(KARI, smtp_server.messages))).status_code == 200
    send_all(marketer)
    outbox_deliver_due()
    (mailing,) = newsletters_to(smtp_server.messages, KARI)
    assert mailing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = mailing["List-Unsubscribe"].strip().strip("<>")

    # The mailbox provider's POST unsubscribes her at once.
    response = Client(enforce_csrf_checks=True).post(path_of(one_click), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    send_all(marketer)
    outbox_deliver_due()
    assert len(newsletters_to(smtp_server.messages, KARI)) == 1

    # She is erased: the subscription and the link to the proof go; the suppression's keyed hash stays.
    request = rights_request(personas, ["erasure"])
    erasure_carry_out(request=request, staff=personas.privacy_officer, actor=Actor.staff(personas.privacy_officer))
    assert not Subscription.objects.exists()
    assert not ConsentProof.objects.filter(email_index=email_index(KARI)).exists()
    assert Suppression.objects.filter(email_index=email_index(KARI)).exists()
    assert PROOF_CHAIN.verify().ok

    # Someone signs her up again and nobody confirms: still no mailing reaches her.
    subscribe_on_page(Client(), KARI)
    assert Subscription.objects.get().status == Subscription.Status.PENDING
    send_all(marketer)
    outbox_deliver_due()
    assert len(newsletters_to(smtp_server.messages, KARI)) == 1
    # Only her own new confirmation brings her back.
    outbox_deliver_due()
    assert Client().post(path_of(confirm_link(KARI, smtp_server.messages))).status_code == 200
    assert not Suppression.objects.filter(email_index=email_index(KARI)).exists()
    send_all(marketer)
    outbox_deliver_due()
    assert len(newsletters_to(smtp_server.messages, KARI)) == 2


def test_subscriptions_and_their_proof_are_in_the_access_package(published, personas):
    confirmed(KARI)
    request = rights_request(personas, ["access"])
    data, _blocks = access_data(request)
    records = {record["model"]: record for record in data["records"]}
    assert "newsletter.Subscription" in records and "newsletter.ConsentProof" in records
    text = str(records["newsletter.Subscription"]) + str(records["newsletter.ConsentProof"])
    assert KARI in text and "confirmed" in text and "203.0.113.0" in text


def test_withdrawing_consent_through_a_rights_request_unsubscribes_and_suppresses(
    published, personas, marketer, smtp_server
):
    confirmed(KARI)
    rights_request(personas, ["withdraw_consent"])
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.ENDED
    assert Suppression.objects.get(email_index=email_index(KARI)).reason == "withdrawn"
    assert ConsentProof.objects.filter(action="withdrawn").count() == 1
    send_all(marketer)
    outbox_deliver_due()
    assert newsletters_to(smtp_server.messages, KARI) == []


def test_the_contact_and_demo_forms_offer_the_newsletter_unticked_and_apart_from_the_enquiry(client, published):
    page = client.get("/contact/").content.decode()
    assert form_prompt("nb") in page
    assert 'name="newsletter"' in page and "checked" not in page.split('name="newsletter"')[1].split(">")[0]

    assert send(client, "contact", CONTACT).status_code == 303  # unticked: an enquiry, no subscription
    assert Enquiry.objects.count() == 1 and not Subscription.objects.exists()

    assert send(client, "demo", {**demo_fields(), "newsletter": "on"}, lang="en").status_code == 303
    assert Enquiry.objects.count() == 2
    pending = Subscription.objects.get()
    assert pending.status == Subscription.Status.PENDING and pending.form == "demo" and pending.language == "en"
    proof = ConsentProof.objects.get()
    assert ConsentText.objects.get(hash=proof.text_hash).text == form_prompt("en")
    assert confirm_link("ola@fjord-kommune.no")


def test_a_flood_of_ticked_boxes_never_costs_the_enquiry(client, published, settings):
    settings.VERN_NEWSLETTER_RATE = 1
    assert send(client, "contact", {**CONTACT, "newsletter": "on"}).status_code == 303
    other = {**CONTACT, "email": "per@example.no", "newsletter": "on"}
    assert send(client, "contact", other).status_code == 303
    assert Enquiry.objects.count() == 2
    assert Subscription.objects.count() == 1


def test_an_unconfirmed_subscription_lapses_after_the_declared_time_and_an_ended_one_after_the_margin(
    client, published
):
    with time_machine.travel(timezone.now() - dt.timedelta(days=7, hours=1), tick=False):
        subscribe_on_page(client, "lapsed@example.no")
    with time_machine.travel(timezone.now() - dt.timedelta(days=6), tick=False):
        subscribe_on_page(client, "waiting@example.no")
    with time_machine.travel(timezone.now() - dt.timedelta(days=40), tick=False):
        subscribe_on_page(client, "old@example.no")
        client.post(path_of(confirm_link("old@example.no")))
        services.unsubscribe(Subscription.objects.get(email_index=email_index("old@example.no")))
    with time_machine.travel(timezone.now() - dt.timedelta(days=60), tick=False):
        subscribe_on_page(client, "back@example.no")
        client.post(path_of(confirm_link("back@example.no")))
        services.unsubscribe(Subscription.objects.get(email_index=email_index("back@example.no")))
    subscribe_on_page(client, "back@example.no")  # asks again today: the new request is not swept
    with time_machine.travel(timezone.now() - dt.timedelta(days=20), tick=False):
        subscribe_on_page(client, "recent@example.no")
        client.post(path_of(confirm_link("recent@example.no")))
        services.unsubscribe(Subscription.objects.get(email_index=email_index("recent@example.no")))
    retention_sweep(trigger="manual", actor=Actor.system())
    left = {s.email for s in Subscription.objects.all()}
    assert left == {"waiting@example.no", "recent@example.no", "back@example.no"}
    # The suppression of the address that ended long ago stays: it is what keeps it unmailed.
    assert Suppression.objects.filter(email_index=email_index("old@example.no")).exists()


def test_key_rotation_recomputes_the_suppression_hashes_and_an_erased_persons_suppression_still_holds(
    published, settings, marketer, smtp_server
):
    from vern.keys.services import keys_rotate
    from vern.keys.tests.helpers import rotate_settings
    from vern.lib.keys import email_indexes
    from vern.newsletter.selectors import suppressed

    confirmed("kari@example.no")
    services.unsubscribe(confirmed("ola@example.no"))  # still stored: its address is known
    Suppression.objects.create(email_index=email_index("gone@example.no"), reason="unsubscribed")  # erased since
    rotate_settings(settings)

    keys_rotate()

    assert Subscription.objects.get(email_index=email_index("kari@example.no")).status == "confirmed"
    assert Suppression.objects.filter(email_index=email_index("ola@example.no")).exists()  # under the new key
    assert Suppression.objects.filter(email_index=email_indexes("gone@example.no")[1]).exists()  # the old key's
    assert suppressed("ola@example.no") and suppressed("gone@example.no")
    assert not suppressed("kari@example.no")
    # A mailing still reaches only the subscriber, and the erased address is never mailed.
    send_all(marketer)
    outbox_deliver_due()
    assert [m["To"] for m in smtp_server.messages if m["List-Unsubscribe"]] == ["kari@example.no"]


def test_a_mailing_skips_restricted_and_objecting_subscribers_and_counts_them(
    published, personas, marketer, smtp_server
):
    from vern.newsletter.selectors import mailing_counts

    confirmed(KARI)
    confirmed("ola@example.no")
    confirmed("per@example.no")
    rights_request(personas, ["restriction"], email="ola@example.no")
    request_register(
        staff=personas.privacy_officer,
        rights=["objection"],
        channel="email",
        received_at=timezone.now(),
        email="per@example.no",
        identity_checked=True,
        marketing_objection=True,
    )
    sent = send_all(marketer)
    outbox_deliver_due()
    assert [m["To"] for m in smtp_server.messages if m["List-Unsubscribe"]] == [KARI]
    counts = mailing_counts(sent)
    assert (counts.sent, counts.skipped, counts.recipients) == (1, 2, 3)
