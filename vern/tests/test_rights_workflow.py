"""A request's life: guarded steps, deadlines, extensions, refusals, reminders, and what the person is told."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from vern.audit.models import Entry
from vern.consent.models import ConsentEvent
from vern.enquiries.models import Enquiry, SearchTerm
from vern.enquiries.search import query_digests
from vern.enquiries.services import Intake, enquiry_register
from vern.lib.days import OSLO, local_day
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.registry import surface
from vern.rights.models import Event, Request, Restriction, Suppression
from vern.rights.services import intake, rectification, tokens, workflow
from vern.rights.services.restriction import objection_decide, restriction_schedule_lift, restrictions_lift_due
from vern.rights.services.steps import RequestRefused
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db
EMAIL = "kari.nordmann@example.no"


def submitted(rights: list[str], *, email: str = EMAIL, **extra) -> Request:
    return intake.request_submit(rights=rights, email=email, language="nb", ip="203.0.113.9", **extra)


def registered(staff, rights: list[str], **extra) -> Request:
    values = {
        "channel": "email",
        "received_at": timezone.now(),
        "email": EMAIL,
        "identity_checked": True,
        **extra,
    }
    return intake.request_register(staff=staff, rights=rights, **values)


def mails(kind: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(kind=kind).order_by("pk"))


def test_a_submitted_request_waits_for_confirmation_and_stores_only_a_hash_of_the_link(published):
    request = submitted(["access"])
    assert request.status == Request.Status.AWAITING_CONFIRMATION
    [mail] = mails("rights_confirm")
    token = mail.body_text.split("/confirm/")[1].split("/")[0]
    assert len(token) >= 43  # 256 random bits, URL-safe
    request.refresh_from_db()
    assert request.token_hash == tokens.token_hash(token) and token not in request.token_hash


def test_a_confirmed_request_cannot_be_confirmed_again_and_a_forged_link_is_refused(published):
    submitted(["erasure"])
    token = mails("rights_confirm")[0].body_text.split("/confirm/")[1].split("/")[0]
    request = intake.request_confirm(token=token)
    assert request.status == Request.Status.CONFIRMED and request.verified_at is not None
    with pytest.raises(RequestRefused) as used:
        intake.request_confirm(token=token)
    assert used.value.code == "used"
    with pytest.raises(RequestRefused) as forged:
        intake.request_confirm(token=token[:-2] + "xx")
    assert forged.value.code == "invalid"


def test_a_request_whose_confirmation_never_comes_lapses_and_the_lapse_is_recorded(published):
    request = submitted(["access"])
    with time_machine.travel(timezone.now() + dt.timedelta(hours=71), tick=False):
        assert intake.requests_lapse() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73), tick=False):
        assert intake.requests_lapse() == 1
    request.refresh_from_db()
    assert request.status == Request.Status.LAPSED and request.closed_at is not None
    assert Event.objects.filter(request=request, kind="lapsed").exists()
    assert Entry.objects.filter(action="rights.lapsed", subject_key=email_index(EMAIL)).exists()


def test_P16_a_request_by_telephone_is_due_a_month_after_it_arrived_not_after_it_was_typed_in(published, personas):
    arrived = dt.datetime(2026, 1, 31, 10, tzinfo=OSLO)
    with time_machine.travel(dt.datetime(2026, 2, 3, 9, tzinfo=OSLO), tick=False):
        request = registered(personas.privacy_officer, ["rectification"], channel="phone", received_at=arrived)
    assert request.channel == "phone" and request.due_on == dt.date(2026, 2, 28)
    assert request.status == Request.Status.CONFIRMED and request.registered_by == personas.privacy_officer


def test_P16_a_registered_request_without_an_identity_check_gets_a_confirmation_link(published, personas):
    request = registered(personas.privacy_officer, ["erasure"], channel="letter", identity_checked=False)
    assert request.status == Request.Status.AWAITING_CONFIRMATION
    assert len(mails("rights_confirm")) == 1


def test_steps_are_guarded_an_answered_request_cannot_be_refused_or_extended(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"])
    workflow.request_start(request=request, staff=pia)
    workflow.request_answer(request=request, staff=pia, message="Vi har rettet navnet ditt.")
    with pytest.raises(RequestRefused) as refused:
        workflow.request_refuse(request=request, staff=pia, ground="unfounded", justification="x" * 40)
    assert refused.value.code == "status"
    with pytest.raises(RequestRefused):
        workflow.request_extend(
            request=request, staff=pia, until=request.due_on + dt.timedelta(days=20), reason="x" * 40
        )
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED and request.extended_to is None


def test_a_refusal_without_a_written_justification_changes_nothing(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"])
    with pytest.raises(RequestRefused) as refused:
        workflow.request_refuse(request=request, staff=pia, ground="excessive", justification="no")
    assert refused.value.code == "justification"
    request.refresh_from_db()
    assert request.status == Request.Status.CONFIRMED and not mails("rights_refused")


def test_P17_every_answer_and_refusal_tells_the_person_of_the_right_to_complain_to_datatilsynet(published, personas):
    pia = personas.privacy_officer
    answered = registered(pia, ["rectification"])
    workflow.request_answer(request=answered, staff=pia, message="Rettet.")
    refused = registered(pia, ["access", "rectification"], email="ola@example.no")
    workflow.request_refuse(
        request=refused,
        staff=pia,
        ground="excessive",
        justification="Du har bedt om det samme innsynet fire ganger denne måneden.",
    )
    [answer] = mails("rights_answered")
    [refusal] = mails("rights_refused")
    for mail in (answer, refusal):
        for text in (mail.body_text, mail.body_html):
            assert "Datatilsynet" in text
            assert "Postboks 458 Sentrum" in text
            assert "postkasse@datatilsynet.no" in text
    assert "fire ganger" in refusal.body_text
    assert "domstol" in refusal.body_text.lower()  # the right to go to court (Art. 79)


def test_an_extension_before_the_due_date_tells_the_person_the_reasons_and_the_new_date(published, personas):
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 1, 31, 10, tzinfo=OSLO), tick=False):
        request = registered(pia, ["access", "rectification"])
    assert request.due_on == dt.date(2026, 2, 28)
    reason = "Forespørselen gjelder mange år med korrespondanse som må gjennomgås."
    with time_machine.travel(dt.datetime(2026, 2, 27, 10, tzinfo=OSLO), tick=False):
        with pytest.raises(RequestRefused) as too_far:
            workflow.request_extend(request=request, staff=pia, until=dt.date(2026, 4, 29), reason=reason)
        assert too_far.value.code == "until"
        workflow.request_extend(request=request, staff=pia, until=dt.date(2026, 4, 28), reason=reason)
    request.refresh_from_db()
    assert request.status == Request.Status.EXTENDED and request.deadline == dt.date(2026, 4, 28)
    [notice] = mails("rights_extended")
    assert reason in notice.body_text and "Datatilsynet" in notice.body_text


def test_an_extension_after_the_due_date_or_without_reasons_is_refused(published, personas):
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 1, 31, 10, tzinfo=OSLO), tick=False):
        request = registered(pia, ["access", "rectification"])
    with time_machine.travel(dt.datetime(2026, 2, 20, 10, tzinfo=OSLO), tick=False):
        with pytest.raises(RequestRefused) as no_reason:
            workflow.request_extend(request=request, staff=pia, until=dt.date(2026, 3, 30), reason="busy")
    assert no_reason.value.code == "reason"
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, tzinfo=OSLO), tick=False):
        with pytest.raises(RequestRefused) as late:
            workflow.request_extend(request=request, staff=pia, until=dt.date(2026, 3, 30), reason="x" * 40)
    assert late.value.code == "too_late"
    request.refresh_from_db()
    assert request.extended_to is None and not mails("rights_extended")


def test_officers_are_reminded_seven_and_two_days_before_the_due_date_once_each(published, personas):
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=OSLO), tick=False):
        request = registered(pia, ["rectification"])
    assert request.due_on == dt.date(2026, 4, 1)
    with time_machine.travel(dt.datetime(2026, 3, 24, 10, tzinfo=OSLO), tick=False):
        assert workflow.reminders_send() == 0
    with time_machine.travel(dt.datetime(2026, 3, 25, 10, tzinfo=OSLO), tick=False):
        assert workflow.reminders_send() == 1
        assert workflow.reminders_send() == 0
    with time_machine.travel(dt.datetime(2026, 3, 30, 10, tzinfo=OSLO), tick=False):
        assert workflow.reminders_send() == 1
    reminders = mails("rights_reminder")
    assert [mail.to_address for mail in reminders] == [pia.email, pia.email]
    assert all(EMAIL not in mail.body_text and "R-" in mail.subject + mail.body_text for mail in reminders)


def test_an_answered_request_gets_no_reminder(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"])
    workflow.request_answer(request=request, staff=pia)
    with time_machine.travel(timezone.now() + dt.timedelta(days=28), tick=False):
        assert workflow.reminders_send() == 0


def test_withdrawing_consent_by_request_records_a_withdrawal_for_the_visitors_consent_id(published):
    decision = cookie_choice()
    consent_id = decision.choice.consent_id
    submitted(["withdraw_consent"], consent_id=consent_id)
    token = mails("rights_confirm")[0].body_text.split("/confirm/")[1].split("/")[0]
    request = intake.request_confirm(token=token)
    latest = ConsentEvent.objects.filter(consent_id=consent_id).order_by("-seq").first()
    assert latest is not None and latest.action == "withdraw" and latest.granted == [] and latest.layer == "rights"
    assert "withdraw_consent" in request.done


def test_after_a_withdrawal_by_request_the_cookie_still_in_the_browser_allows_nothing_and_the_banner_asks(
    published, client
):
    from vern.analytics.buffer import BUFFER
    from vern.analytics.models import Hit
    from vern.analytics.tests.doors import sender

    decision = cookie_choice()
    cookie = decision.choice.encode()
    client.cookies["vern_consent"] = cookie
    client.cookies["vern_visitor"] = "a" * 32  # the statistics cookie the beacon set with consent
    assert 'id="vc-banner"' not in client.get("/").content.decode()
    submitted(["withdraw_consent"], consent_id=decision.choice.consent_id)
    token = mails("rights_confirm")[0].body_text.split("/confirm/")[1].split("/")[0]
    intake.request_confirm(token=token)

    page = client.get("/")  # the browser still sends the cookie that said yes

    assert 'id="vc-banner"' in page.content.decode()  # asked afresh
    assert page.cookies["vern_visitor"]["max-age"] == 0  # the statistics cookie is expired
    status, headers = sender("wsgi")({"k": "v", "u": "/"}, Cookie=f"vern_consent={cookie}")
    BUFFER.flush()
    assert status == 204 and "Set-Cookie" not in headers
    assert Hit.objects.get().consent_id == ""  # counted without consent, as the visitor now wants


def test_a_restriction_starts_on_confirmation_and_ends_only_after_the_person_was_told(published, personas):
    submitted(["restriction"])
    token = mails("rights_confirm")[0].body_text.split("/confirm/")[1].split("/")[0]
    request = intake.request_confirm(token=token)
    restriction = Restriction.objects.get(subject_key=email_index(EMAIL))
    assert surface.is_restricted({"email": email_index(EMAIL)})
    with pytest.raises(RequestRefused):
        restriction_schedule_lift(restriction=restriction, staff=personas.privacy_officer, lift_on=timezone.localdate())
    lift_on = local_day(timezone.now()) + dt.timedelta(days=7)
    restriction_schedule_lift(restriction=restriction, staff=personas.privacy_officer, lift_on=lift_on)
    assert len(mails("rights_restriction_ending")) == 1
    assert restrictions_lift_due() == 0 and surface.is_restricted({"email": email_index(EMAIL)})
    with time_machine.travel(timezone.now() + dt.timedelta(days=8), tick=False):
        assert restrictions_lift_due() == 1
    assert not surface.is_restricted({"email": email_index(EMAIL)})
    assert request.pk == restriction.request_id


def test_an_objection_to_direct_marketing_suppresses_the_address_at_once(published):
    submitted(["objection"], marketing_objection=True)
    token = mails("rights_confirm")[0].body_text.split("/confirm/")[1].split("/")[0]
    intake.request_confirm(token=token)
    assert Suppression.objects.filter(subject_key=email_index(EMAIL)).exists()


def test_an_objection_overridden_needs_written_compelling_grounds(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["objection"])
    with pytest.raises(RequestRefused) as refused:
        objection_decide(request=request, staff=pia, decision="overridden", grounds="")
    assert refused.value.code == "grounds"
    objection_decide(request=request, staff=pia, decision="upheld", grounds="")
    request.refresh_from_db()
    assert "objection" in request.done
    assert Event.objects.filter(request=request, kind="objection_decided", data__decision="upheld").exists()


def test_rectifying_an_enquirys_email_and_name_keeps_its_indexes_true_and_keeps_both_values_on_record(
    published, personas
):
    pia = personas.privacy_officer
    enquiry = enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari Nordman", email=EMAIL, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=False,
    )
    request = registered(pia, ["rectification"])
    recipients = rectification.rectify(
        request=request, staff=pia, model_label="enquiries.Enquiry", pk=enquiry.pk, field="name", value="Kari Nordmann"
    )
    enquiry.refresh_from_db()
    assert enquiry.name == "Kari Nordmann"
    [nordmann] = query_digests("nordmann")
    assert SearchTerm.objects.filter(enquiry=enquiry, digest=nordmann).exists()
    assert recipients  # the processors that received the data, to be told (Art. 19)
    event = Event.objects.get(request=request, kind="rectified")
    assert "Kari Nordman»" in event.note and "Kari Nordmann»" in event.note
    audit = Entry.objects.get(action="rights.rectified")
    assert audit.data["field"] == "name" and "Kari" not in str(audit.data)
    rectification.rectify(
        request=request,
        staff=pia,
        model_label="enquiries.Enquiry",
        pk=enquiry.pk,
        field="email",
        value="Kari@Nordmann.example",
    )
    enquiry.refresh_from_db()
    assert enquiry.email_index == email_index("kari@nordmann.example")


def test_a_record_of_someone_else_cannot_be_rectified_through_a_request(published, personas):
    pia = personas.privacy_officer
    other = enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Ola", email="ola@example.no", phone="", organisation="X"),
        language="nb",
        acknowledge=False,
    )
    request = registered(pia, ["rectification"])
    with pytest.raises(RequestRefused) as refused:
        rectification.rectify(
            request=request, staff=pia, model_label="enquiries.Enquiry", pk=other.pk, field="name", value="Mallory"
        )
    assert refused.value.code == "not_found"
    assert Enquiry.objects.get(pk=other.pk).name == "Ola"


def test_mail_to_or_about_a_restricted_person_is_held_back_but_mail_about_their_request_goes(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["restriction"])
    enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari Nordmann", email=EMAIL, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=True,
    )
    [acknowledgement] = mails("enquiry_received")
    assert acknowledgement.status == OutboxMessage.Status.WITHHELD
    # The restriction started at once, so the request was answered by itself; its answer still goes.
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED
    [answer] = mails("rights_answered")
    assert answer.status == OutboxMessage.Status.QUEUED
