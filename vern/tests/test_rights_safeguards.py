"""The safeguards around rights requests that a review found missing: each test is a way one person's
request could reach another person's data, leave an address behind, or mislead the person."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from vern.audit.services import Actor
from vern.enquiries.services import Intake, enquiry_register
from vern.lib.days import OSLO
from vern.lib.keys import email_index, phone_index
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.registry import surface
from vern.rights import selectors
from vern.rights.models import Download, Event, Request
from vern.rights.packages.contents import access_data
from vern.rights.services import intake, rectification, workflow
from vern.rights.services.downloads import download_offer, download_open
from vern.rights.services.erasure import erasure_carry_out
from vern.rights.services.steps import RequestRefused
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db
KARI = "kari.nordmann@example.no"


def registered(staff, rights: list[str], email: str = KARI, **extra) -> Request:
    values = {"channel": "email", "received_at": timezone.now(), "identity_checked": True, **extra}
    return intake.request_register(staff=staff, rights=rights, email=email, **values)


def token_of(kind: str) -> str:
    mail = OutboxMessage.objects.filter(kind=kind).latest("pk")
    return str(mail.body_text).split("/download/" if kind == "rights_download_ready" else "/confirm/")[1].split("/")[0]


def test_a_shared_browser_does_not_put_another_persons_request_into_the_access_package(published):
    decision = cookie_choice()
    shared = decision.choice.consent_id
    intake.request_submit(
        rights=["erasure"], email="bob@example.no", details="Min diagnose er XYZ.", language="nb", consent_id=shared
    )
    intake.request_submit(rights=["access"], email=KARI, language="nb", consent_id=shared)
    alice = intake.request_confirm(token=token_of("rights_confirm"))
    text = str(access_data(alice))
    assert "XYZ" not in text and "bob@example.no" not in text
    assert shared in text  # the browser's own cookie choices are hers to see


def test_a_refused_request_hands_out_no_copy_through_a_link_sent_before(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["access", "rectification"])
    token = token_of("rights_download_ready")
    workflow.request_refuse(
        request=request, staff=pia, ground="identity", justification="Vi kunne ikke bekrefte hvem som spurte."
    )
    with pytest.raises(RequestRefused) as refused:
        download_open(token)
    assert refused.value.code == "expired"


def test_the_confirmation_and_download_links_do_not_stay_in_the_outbox_once_sent(published, personas, smtp_server):
    registered(personas.privacy_officer, ["access"])
    outbox_deliver_due()
    mail = OutboxMessage.objects.get(kind="rights_download_ready")
    assert mail.status == OutboxMessage.Status.SENT and mail.body_text == "" and mail.to_address == ""
    bodies = [message.get_body(preferencelist=("plain",)).get_content() for message in smtp_server.messages]
    assert any("/download/" in body for body in bodies)


def test_a_link_to_a_request_that_lapsed_says_it_expired_and_the_address_is_not_kept(published):
    intake.request_submit(rights=["access"], email=KARI, details="Hva har dere om meg?", language="nb")
    token = token_of("rights_confirm")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=80), tick=False):
        assert intake.requests_lapse() == 1
    with pytest.raises(RequestRefused) as lapsed:
        intake.request_confirm(token=token)
    assert lapsed.value.code == "expired"
    request = Request.objects.get()
    assert (request.email, request.details) == ("", "") and request.email_index == email_index(KARI)


def test_an_extension_starts_the_reminders_again_for_the_new_date(published, personas):
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=OSLO), tick=False):
        request = registered(pia, ["access", "rectification"])
    with time_machine.travel(dt.datetime(2026, 3, 30, 10, tzinfo=OSLO), tick=False):
        assert workflow.reminders_send() == 1
        workflow.request_extend(request=request, staff=pia, until=dt.date(2026, 5, 20), reason="x" * 30)
    with time_machine.travel(dt.datetime(2026, 5, 13, 10, tzinfo=OSLO), tick=False):
        assert workflow.reminders_send() == 1


def test_the_queue_puts_an_extended_request_by_its_new_date(published, personas):
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=OSLO), tick=False):
        extended = registered(pia, ["access", "rectification"])
        workflow.request_extend(request=extended, staff=pia, until=dt.date(2026, 5, 20), reason="x" * 30)
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, tzinfo=OSLO), tick=False):
        later = registered(pia, ["access", "rectification"], email="ola@example.no")
    assert [r.pk for r in selectors.queue()] == [later.pk, extended.pk]


def test_a_restriction_covers_the_phone_once_it_is_verified(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["restriction"], phone="912 34 567", identity_checked=False)
    intake.request_confirm(token=token_of("rights_confirm"))
    assert surface.is_restricted({"email": email_index(KARI)})
    assert not surface.is_restricted({"phone": phone_index("91234567")})
    workflow.phone_verify(request=request, staff=pia)
    assert surface.is_restricted({"phone": phone_index("91234567")})


def test_an_erasure_waits_while_a_copy_of_the_data_waits_to_be_downloaded(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["access", "erasure"])
    with pytest.raises(RequestRefused) as waiting:
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert waiting.value.code == "download_pending"
    download_open(token_of("rights_download_ready"))
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    with pytest.raises(RequestRefused) as again:
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert again.value.code == "done"
    assert Event.objects.filter(request=request, kind="erased").count() == 1


def test_after_an_erasure_every_later_mail_and_the_refusal_forget_the_address(published, personas):
    pia = personas.privacy_officer
    enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari", email=KARI, phone="", organisation="X"),
        language="nb",
        acknowledge=False,
    )
    request = registered(pia, ["erasure", "objection"])
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    workflow.request_extend(
        request=request,
        staff=pia,
        until=request.due_on + dt.timedelta(days=20),
        reason="Vi må avklare protesten med en leverandør, ring 912 34 567.",
    )
    assert OutboxMessage.objects.get(kind="rights_extended").ephemeral
    workflow.request_refuse(
        request=request, staff=pia, ground="exempt", justification="Protesten gjelder ikke behandling vi gjør."
    )
    request.refresh_from_db()
    assert (request.email, request.phone) == ("", "") and "912 34 567" not in request.extension_reason
    assert all(mail.ephemeral for mail in OutboxMessage.objects.filter(to_index=email_index(KARI)))


def test_a_download_link_offered_again_by_staff_is_single_use_too(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["access"])
    download_offer(request, kind="access", actor=Actor.staff(pia), staff=pia)
    assert Download.objects.filter(request=request).count() == 2
    download_open(token_of("rights_download_ready"))
    with pytest.raises(RequestRefused):
        download_open(token_of("rights_download_ready"))


def test_an_erasure_ends_the_unopened_link_of_an_earlier_access_request(published, personas):
    pia = personas.privacy_officer
    earlier = registered(pia, ["access"])
    token = token_of("rights_download_ready")
    earlier.refresh_from_db()
    assert earlier.status == Request.Status.ANSWERED  # the copy went out by itself, so it was answered
    erasure_carry_out(request=registered(pia, ["erasure"]), staff=pia, actor=Actor.staff(pia))
    with pytest.raises(RequestRefused) as ended:
        download_open(token)
    assert ended.value.code == "expired"


def test_a_copy_of_a_sent_mail_is_a_record_of_what_happened_and_cannot_be_corrected(published, personas):
    pia = personas.privacy_officer
    enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari", email=KARI, phone="", organisation="X"),
        language="nb",
        acknowledge=True,
    )
    request = registered(pia, ["rectification"])
    mail = OutboxMessage.objects.get(kind="enquiry_received")
    with pytest.raises(RequestRefused) as refused:
        rectification.rectify(
            request=request, staff=pia, model_label="mail.OutboxMessage", pk=mail.pk, field="subject", value="x"
        )
    assert refused.value.code == "field"
