"""A mailed rights request registered in one click, attachments downloaded from the console, and
the skipped folder emptied after VERN_MAILBOX_SKIPPED_DAYS (docs/mailbox.md), against the real
dovecot on loopback and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from urllib.parse import unquote

import pytest
from django.db import close_old_connections
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.enquiries import mailbox
from vern.enquiries.attachments import content_disposition
from vern.enquiries.models import Enquiry, MailboxAttachment
from vern.enquiries.selectors import mailbox_health
from vern.enquiries.tests.test_mailbox import KARI, letter
from vern.enquiries.to_rights import enquiry_to_rights_request
from vern.lib import inbound
from vern.lib.keys import email_index
from vern.mail.services import outbox_deliver_due
from vern.registry import surface
from vern.rights.models import Request

pytestmark = pytest.mark.django_db


def mailed(imap_server, *, now=None, **kwargs) -> Enquiry:
    imap_server.deliver(letter(**kwargs)[0])
    mailbox.mailbox_fetch(now=now)
    return Enquiry.objects.order_by("-pk").first()  # type: ignore[return-value]


# ------------------------------------------------------------------ the guess


def test_the_guess_names_the_rights_a_mail_asks_for_in_both_languages_and_nothing_for_a_question():
    assert inbound.guess_rights("Innsynsbegjæring", "") == ("access",)
    assert inbound.guess_rights("", "Jeg vil at dere sletter alt dere har om meg.") == ("erasure",)
    assert inbound.guess_rights("Retting", "Adressen min er feil, vennligst rett den.") == ("rectification",)
    assert inbound.guess_rights("", "Please delete my account") == ("erasure",)
    assert inbound.guess_rights("Subject access request", "and I object to direct marketing") == (
        "access",
        "objection",
    )
    assert inbound.guess_rights("", "I want data portability of my data") == ("portability",)
    assert inbound.guess_rights("", "Jeg ber om begrensning av behandlingen") == ("restriction",)
    assert inbound.guess_rights("Pris", "Hva koster møteadm for 40 brukere?") == ()


# ------------------------------------------------------------------ one click


def test_a_mailed_request_becomes_a_rights_request_in_one_click_from_the_mail_with_its_deadline_from_arrival(
    client, published, personas, imap_server, smtp_server
):
    arrived = timezone.now() - dt.timedelta(days=3)
    enquiry = mailed(
        imap_server, now=arrived, subject="Innsyn", text="Jeg ber om innsyn i personopplysninger dere har om meg."
    )
    staff_login(client, personas.privacy_officer)
    inbox = client.get("/en/staff/enquiries/").content.decode()
    assert "rights request?" in inbox
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "This looks like a rights request" in page
    assert 'value="access" id="id_rights_0" checked' in page or 'value="access" checked' in page
    assert "does not prove who wrote" in page

    answer = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["access"]})
    assert answer.status_code == 303
    request = Request.objects.get()
    assert answer["Location"] == f"/en/staff/requests/{request.pk}/"
    assert (request.channel, request.rights, request.email, request.email_index) == (
        "email",
        ["access"],
        KARI,
        email_index(KARI),
    )
    assert request.received_at == arrived  # the deadline runs from when the mail came, not the click
    assert request.status == "awaiting_confirmation"  # the From header proves nothing: a link goes to it
    assert "Kari Nordmann" in request.details and "innsyn" in request.details
    assert (request.source, request.source_id) == ("enquiry", enquiry.pk)
    enquiry.refresh_from_db()
    assert enquiry.rights_request_id == request.pk and enquiry.state == "closed"

    # The confirmation link reaches the person over real SMTP.
    outbox_deliver_due()
    (confirm,) = [
        m for m in smtp_server.messages if KARI in m["To"] and "/confirm/" in m.get_body(("plain",)).get_content()
    ]
    assert confirm["Subject"] == "Bekreft forespørselen din om personvern"

    # Linked both ways; the enquiry is not to be answered from the inbox any more.
    assert f'href="/en/staff/enquiries/{enquiry.pk}/"' in client.get(answer["Location"]).content.decode()
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert f'href="/en/staff/requests/{request.pk}/"' in page and "Send reply" not in page
    assert "a rights request now" in client.get("/en/staff/enquiries/").content.decode()

    # A second click registers nothing more and says where the first one is.
    again = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["erasure"]}, follow=True)
    assert Request.objects.count() == 1
    assert again.redirect_chain[-1][0] == f"/en/staff/requests/{request.pk}/"
    assert "registered as a rights request before" in again.content.decode()

    # Audited, naming the person by blind index only.
    (row,) = Entry.objects.filter(action="enquiry.to_rights_request")
    assert row.subject_key == email_index(KARI) and row.data["request"] == request.pk
    assert KARI not in json.dumps(row.data)


def test_in_a_thread_the_request_runs_from_the_mail_that_asks_not_from_the_first_question(
    client, published, personas, imap_server
):
    first_at = timezone.now() - dt.timedelta(days=200)
    asked_at = timezone.now() - dt.timedelta(days=3)
    raw, first_id = letter(text="Hei! Hva koster møteadm for 40 brukere?")
    imap_server.deliver(raw)
    mailbox.mailbox_fetch(now=first_at)
    imap_server.deliver(
        letter(subject="Re: Spørsmål om møteadm", text="Slett alt dere har om meg.", In_Reply_To=first_id)[0]
    )
    mailbox.mailbox_fetch(now=asked_at)
    enquiry = Enquiry.objects.get()  # one thread, one enquiry
    assert enquiry.mails.count() == 2

    staff_login(client, personas.privacy_officer)
    answer = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["erasure"]})

    assert answer.status_code == 303
    request = Request.objects.get()
    assert request.received_at == asked_at  # not 200 days ago: the request is not overdue at once
    assert "Slett alt" in request.details and "Hva koster" not in request.details


def test_two_clicks_at_once_register_one_request(published, personas, imap_server, transactional_db):
    enquiry = mailed(imap_server, subject="Sletting", text="Slett alt om meg.")
    results: list[surface.RightsRegistration] = []

    def click() -> None:
        try:
            results.append(
                enquiry_to_rights_request(staff=personas.privacy_officer, enquiry=enquiry, rights=["erasure"])
            )
        finally:
            close_old_connections()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Request.objects.count() == 1
    assert sorted(r.created for r in results) == [False, True]
    assert {r.request_id for r in results} == {Request.objects.get().pk}


def test_sales_see_the_guess_but_cannot_register_a_request_and_a_refusal_changes_nothing(
    client, published, personas, imap_server
):
    enquiry = mailed(imap_server, subject="Innsyn", text="Jeg ber om innsyn.")
    staff_login(client, personas.sales)
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "This looks like a rights request" in page and "rights-request/" not in page
    assert client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["access"]}).status_code == 403
    client.logout()
    staff_login(client, personas.privacy_officer)
    empty = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {})
    assert empty.status_code == 400 and "Choose at least one right" in empty.content.decode()
    bad = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["everything"]})
    assert bad.status_code == 400
    assert not Request.objects.exists() and Enquiry.objects.get().state == "open"


def test_an_enquiry_by_phone_without_an_email_is_refused_with_a_way_forward(client, published, personas):
    from vern.enquiries.services import Intake, enquiry_register

    enquiry = enquiry_register(
        staff=personas.privacy_officer,
        kind="contact",
        channel="phone",
        received_at=timezone.now(),
        intake=Intake(name="Ola", email="", phone="+4791234567", organisation="", message="Slett meg"),
        language="nb",
        acknowledge=False,
        submission_key=None,
    )
    staff_login(client, personas.privacy_officer)
    answer = client.post(f"/en/staff/enquiries/{enquiry.pk}/rights-request/", {"rights": ["erasure"]})
    assert answer.status_code == 400
    assert "no email address the confirmation link could go to" in answer.content.decode()
    assert not Request.objects.exists()


# ------------------------------------------------------------------ attachments


def test_an_attachment_is_downloaded_decrypted_as_a_file_audited_and_only_from_its_own_enquiry(
    client, published, personas, imap_server
):
    enquiry = mailed(imap_server, attachment=b"%PDF-1.4 tilbud for Bergen kommune")
    other = mailed(imap_server, sender="Per <per@example.no>")
    attachment = MailboxAttachment.objects.get()
    staff_login(client, personas.sales)
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    url = f"/en/staff/enquiries/{enquiry.pk}/attachments/{attachment.pk}/"
    assert f'href="{url}"' in page
    answer = client.get(url)
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content if answer.streaming else [answer.content]) == (
        b"%PDF-1.4 tilbud for Bergen kommune"
    )
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == "attachment; filename=\"tilbud.pdf\"; filename*=UTF-8''tilbud.pdf"
    assert answer["X-Content-Type-Options"] == "nosniff" and "no-store" in answer["Cache-Control"]
    assert "default-src 'none'" in answer["Content-Security-Policy"] and "sandbox" in answer["Content-Security-Policy"]
    (row,) = Entry.objects.filter(action="enquiry.attachment_downloaded")
    assert row.object_id == str(enquiry.pk)
    assert row.data["attachment"] == attachment.pk and "tilbud" not in json.dumps(row.data)
    # Another enquiry's address for it, or an attachment gone with its enquiry: not found.
    assert client.get(f"/en/staff/enquiries/{other.pk}/attachments/{attachment.pk}/").status_code == 404
    Enquiry.objects.filter(pk=enquiry.pk).delete()
    assert client.get(url).status_code == 404
    client.logout()
    staff_login(client, personas.admin)  # an administrator does not read enquiries
    assert client.get(f"/en/staff/enquiries/{other.pk}/attachments/1/").status_code == 403


def test_a_dangerous_type_is_sent_as_octet_stream_and_a_hostile_name_is_made_safe(client, published, personas):
    from vern.enquiries.models import MailboxMessage
    from vern.enquiries.services import Intake, enquiry_register

    enquiry = enquiry_register(
        staff=personas.sales,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Ola", email="ola@example.no", phone="", organisation="", message="x"),
        language="nb",
        acknowledge=False,
        submission_key=None,
    )
    mail = MailboxMessage.objects.create(enquiry=enquiry, key="k1", message_id="<a@b>")
    hostile = '../../evil"\r\nSet-Cookie: x=1; æøå.html'
    attachment = MailboxAttachment.objects.create(
        enquiry=enquiry, message=mail, filename=hostile, content_type="text/html", size=4, content="PHA+"
    )
    staff_login(client, personas.sales)
    answer = client.get(f"/en/staff/enquiries/{enquiry.pk}/attachments/{attachment.pk}/")
    assert answer["Content-Type"] == "application/octet-stream"
    disposition = answer["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition and "/" not in disposition.split("filename*")[0]
    ascii_name = disposition.split('filename="')[1].split('"')[0]
    assert ascii_name == "evil_Set-Cookie_ x_1_ aeoa.html"
    assert unquote(disposition.split("UTF-8''")[1]) == 'evil"Set-Cookie: x=1; æøå.html'
    assert content_disposition("") == "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"


# ------------------------------------------------------------------ the skipped folder


def test_skipped_mail_is_deleted_after_the_declared_days_and_the_inbox_says_how_many_wait(
    client, published, personas, imap_server, settings
):
    settings.VERN_MAILBOX_SKIPPED_DAYS = 10
    now = timezone.now()
    skipped = mailbox.skipped_folder()
    imap_server.deliver(letter(subject="old bounce")[0], skipped, arrived=now - dt.timedelta(days=12))
    imap_server.deliver(letter(subject="young bounce")[0], skipped, arrived=now - dt.timedelta(days=2))
    imap_server.deliver(letter(Auto_Submitted="auto-replied", subject="Fravær")[0])  # skipped now
    report = mailbox.mailbox_fetch(now=now)
    assert (report.skipped, report.pruned) == (1, 1)
    left = imap_server.folder(skipped)
    assert len(left) == 2 and not any(b"old bounce" in raw for raw in left)
    health = mailbox_health()
    assert health is not None and health.skipped_waiting == 2
    assert health.skipped_next_deletion == timezone.localdate(now - dt.timedelta(days=2)) + dt.timedelta(days=11)
    # Run again: nothing more goes (idempotent), and the young ones stay until their day.
    assert mailbox.mailbox_fetch(now=now).pruned == 0 and len(imap_server.folder(skipped)) == 2
    assert mailbox.mailbox_fetch(now=now + dt.timedelta(days=12)).pruned == 2
    assert imap_server.folder(skipped) == []
    staff_login(client, personas.sales)
    page = client.get("/en/staff/enquiries/").content.decode()
    assert "deleted there 10 days after it arrived" in page and "None waits there now." in page
