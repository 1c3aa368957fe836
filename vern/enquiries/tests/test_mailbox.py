"""The support mailbox as an intake channel, read from a real dovecot on loopback (docs/mailbox.md).

Mail is delivered to the test mailbox by IMAP APPEND, as a mail server would put it there;
vern reads it over TLS with the settings an installation uses.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import secrets
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from vern.accounts.testing import staff_login
from vern.enquiries import mailbox
from vern.enquiries.models import ContactLog, Enquiry, MailboxAttachment, MailboxMessage
from vern.enquiries.selectors import mailbox_health
from vern.enquiries.services import enquiry_reply
from vern.lib import inbound
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due

pytestmark = pytest.mark.django_db
KARI = "kari.nordmann@example.no"


def letter(
    *,
    sender: str = f"Kari Nordmann <{KARI}>",
    subject: str = "Spørsmål om møteadm",
    text: str = "Hei! Hva koster møteadm for 40 brukere?",
    message_id: str | None = None,
    attachment: bytes | None = None,
    **headers: str,
) -> tuple[bytes, str]:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@kaukus.test"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(timezone.now())
    message_id = message_id or f"<{secrets.token_hex(8)}@mail.example.no>"
    message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if attachment is not None:
        message.add_attachment(attachment, maintype="application", subtype="pdf", filename="tilbud.pdf")
    return message.as_bytes(policy=email.policy.SMTP), message_id


def stored_text(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608  # table names written here
        return " ".join(str(row[0]) for row in cursor.fetchall())


def test_an_email_becomes_an_enquiry_with_its_attachment_encrypted_and_moves_to_the_vern_folder(
    published, imap_server, caplog
):
    raw, message_id = letter(attachment=b"%PDF-1.4 tilbud for Bergen kommune")
    imap_server.deliver(raw)
    caplog.set_level(logging.DEBUG)
    report = mailbox.mailbox_fetch()
    assert report.taken == 1
    enquiry = Enquiry.objects.get()
    assert (enquiry.channel, enquiry.kind, enquiry.name, enquiry.email) == ("email", "contact", "Kari Nordmann", KARI)
    assert "40 brukere" in enquiry.message and "Spørsmål om møteadm" in enquiry.message
    (attachment,) = MailboxAttachment.objects.filter(enquiry=enquiry)
    assert attachment.filename == "tilbud.pdf" and attachment.size == 34
    # Encrypted at rest like every personal field: neither the file nor its name is in the table.
    assert "tilbud" not in stored_text("enquiries_mailboxattachment", "filename")
    assert "JVBERi0" not in stored_text("enquiries_mailboxattachment", "content")  # base64 of "%PDF-"
    # The person gets the acknowledgement with the privacy notice, as from a form.
    assert OutboxMessage.objects.filter(kind="enquiry_received", to_index=email_index(KARI)).count() == 1
    # Moved on the server only now, once the enquiry is committed.
    assert imap_server.folder("INBOX") == []
    (kept,) = imap_server.folder(settings.VERN_MAILBOX_FOLDER)
    assert message_id.encode() in kept
    # Read again (another worker, or the next run): nothing more.
    assert mailbox.mailbox_fetch().taken == 0
    assert Enquiry.objects.count() == 1
    assert KARI not in caplog.text
    health = mailbox_health()
    assert health is not None and health.last_success_at is not None and health.taken == 1


def test_a_message_stored_by_a_worker_that_died_before_moving_it_is_moved_without_a_duplicate(published, imap_server):
    raw, _ = letter()
    imap_server.deliver(raw)
    read = inbound.read(raw, our_domains=frozenset(), max_attachment=10**6)
    assert isinstance(read, inbound.Letter)
    assert mailbox.take_letter(read, now=timezone.now()) is not None  # committed; the move never happened
    mailbox.mailbox_fetch()
    assert Enquiry.objects.count() == 1 and MailboxMessage.objects.count() == 1
    assert imap_server.folder("INBOX") == [] and len(imap_server.folder(settings.VERN_MAILBOX_FOLDER)) == 1


def test_a_reply_in_the_thread_is_a_contact_that_moves_the_retention_clock_and_our_answer_keeps_the_thread(
    published, imap_server, personas, smtp_server
):
    first, first_id = letter()
    imap_server.deliver(first)
    start = timezone.now() - dt.timedelta(days=100)
    mailbox.mailbox_fetch(now=start)
    enquiry = Enquiry.objects.get()
    assert enquiry.last_contact_at == start

    # Staff answer from the console: In-Reply-To and References name her mail.
    enquiry_reply(staff=personas.sales, enquiry=enquiry, subject="Svar", body="Det koster lite.", reply_key="r1")
    outbox_deliver_due()
    (answer,) = [m for m in smtp_server.messages if m["Subject"] == "Svar"]
    assert answer["In-Reply-To"] == first_id and answer["References"] == first_id

    # She answers our answer: a contact on the same enquiry, and the clock starts again.
    again, _ = letter(subject="Re: Svar", text="Takk, vi bestiller.", In_Reply_To=answer["Message-ID"])
    imap_server.deliver(again)
    later = timezone.now()
    report = mailbox.mailbox_fetch(now=later)
    assert (report.taken, report.joined) == (0, 1)
    enquiry.refresh_from_db()
    assert Enquiry.objects.count() == 1
    assert enquiry.last_contact_at == later and enquiry.state == Enquiry.State.OPEN
    contact = ContactLog.objects.get(enquiry=enquiry, kind=ContactLog.Kind.EMAIL)
    assert contact.note == "Takk, vi bestiller."
    # A reply now names the thread, her latest mail last.
    enquiry_reply(staff=personas.sales, enquiry=enquiry, subject="Flott", body="Vi sender avtalen.", reply_key="r2")
    second = OutboxMessage.objects.filter(kind="enquiry_reply").order_by("-pk").first()
    assert second is not None
    newest = MailboxMessage.objects.filter(enquiry=enquiry).order_by("-received_at").first()
    assert newest is not None and second.in_reply_to == newest.message_id
    assert second.references.split() == [first_id, answer["Message-ID"], newest.message_id]


DSN = """From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: noreply@{host}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{tag}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {recipient}
Action: failed
Status: {status}

--B
Content-Type: text/rfc822-headers

Message-ID: {original}
Subject: Nytt fra oss

--B--
"""


def dsn(recipient: str, status: str, original: str = "") -> bytes:
    text = DSN.format(
        host=settings.VERN_PUBLIC_HOST,
        tag=secrets.token_hex(4),
        recipient=recipient,
        status=status,
        original=original or "<unknown@example.org>",
    )
    return text.replace("\n", "\r\n").encode()


def test_bounces_automatic_replies_loops_and_unreadable_mail_are_not_enquiries_and_nothing_is_lost(
    published, imap_server
):
    imap_server.deliver(dsn("someone@example.org", "5.1.1"))
    imap_server.deliver(letter(Auto_Submitted="auto-replied", subject="Fravær")[0])
    imap_server.deliver(letter(X_Autoreply="yes")[0])
    imap_server.deliver(letter(Precedence="bulk")[0])
    ours = make_msgid(domain=settings.VERN_PUBLIC_HOST)
    imap_server.deliver(letter(message_id=ours)[0])  # our own mail, back again
    # A colleague's mail program at the same domain is not a loop.
    imap_server.deliver(letter(message_id=f"<CAF=x+9@{settings.VERN_PUBLIC_HOST}>", sender="Ola <ola@kaukus.no>")[0])
    imap_server.deliver(letter(X_Loop="support@kaukus.test")[0])
    imap_server.deliver(b"Subject: =?broken\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\x00\xff--\r\n")
    report = mailbox.mailbox_fetch()
    assert (report.taken, report.bounces, report.skipped) == (1, 1, 7)
    (colleague,) = Enquiry.objects.all()
    assert colleague.name == "Ola"
    # Only the colleague is answered; nothing went back to a robot or to ourselves.
    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == {"enquiry_received"}
    assert imap_server.folder("INBOX") == []
    assert len(imap_server.folder(mailbox.skipped_folder())) == 7  # left for a person, not deleted


def test_malformed_mime_is_read_as_far_as_it_goes_or_refused_never_raised():
    broken = [
        b"",
        b"\xff\xfe\x00garbage",
        b"From: =?utf-8?q?\xff?= <a@example.org>\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
        b"From: a@example.org\r\nContent-Type: text/plain; charset=nonexistent-8\r\n\r\nhei \xe6\xf8\xe5",
        b"From: a@example.org\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--",
        b"From: a@example.org\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
    ]
    results = [inbound.read(raw, our_domains=frozenset(), max_attachment=100) for raw in broken]
    assert [type(r).__name__ for r in results] == ["Skipped", "Skipped", "Letter", "Letter", "Bounce", "Letter"]
    assert isinstance(results[3], inbound.Letter) and results[3].text.startswith("hei ")


def test_a_huge_attachment_is_not_kept_and_a_huge_message_is_left_for_a_person(published, imap_server, settings):
    settings.VERN_MAILBOX_ATTACHMENT_MAX_BYTES = 1000
    settings.VERN_MAILBOX_MESSAGE_MAX_BYTES = 20_000
    imap_server.deliver(letter(attachment=b"x" * 5000)[0])
    imap_server.deliver(letter(sender="Per <per@example.no>", attachment=b"y" * 30_000)[0])
    report = mailbox.mailbox_fetch()
    assert (report.taken, report.skipped) == (1, 1)
    mail = MailboxMessage.objects.get()
    assert mail.left_out == "tilbud.pdf (5000 bytes)" and not MailboxAttachment.objects.exists()
    assert len(imap_server.folder(mailbox.skipped_folder())) == 1


def test_a_wrong_password_or_an_unreachable_mailbox_is_said_in_plain_words_and_no_message_moves(
    published, imap_server, settings
):
    imap_server.deliver(letter()[0])
    settings.IMAP_PASSWORD = "wrong"
    with pytest.raises(mailbox.MailboxError) as refused:
        mailbox.mailbox_fetch()
    assert refused.value.code == "login"
    settings.IMAP_PASSWORD = imap_server.password
    settings.IMAP_URL = imap_server.url.replace(str(imap_server.port), str(imap_server.port + 1))
    with pytest.raises(mailbox.MailboxError) as unreachable:
        mailbox.mailbox_fetch()
    assert unreachable.value.code == "unreachable"
    health = mailbox_health()
    with translation.override("en"):
        assert health is not None and health.last_success_at is None
        assert health.last_error_text == "The mailbox server could not be reached. vern tries again in a few minutes."
    assert len(imap_server.folder("INBOX")) == 1 and not Enquiry.objects.exists()
    settings.IMAP_URL = imap_server.url
    mailbox.mailbox_fetch()
    health = mailbox_health()
    assert Enquiry.objects.count() == 1 and health is not None and health.last_error == ""


def test_before_a_policy_is_published_an_email_waits_in_the_mailbox(db, imap_server):
    imap_server.deliver(letter()[0])
    with pytest.raises(mailbox.MailboxError) as refused:
        mailbox.mailbox_fetch()
    assert refused.value.code == "unpublished"
    assert not Enquiry.objects.exists() and len(imap_server.folder("INBOX")) == 1


def test_a_mail_that_asks_for_a_right_is_pointed_out_to_staff_who_register_it_as_a_request(
    client, published, personas, imap_server
):
    assert inbound.asks_for_rights("Innsynsbegjæring", "") and inbound.asks_for_rights("", "Please erase my data.")
    assert inbound.asks_for_rights("", "Jeg ber om innsyn i personopplysningene dere har om meg.")
    assert not inbound.asks_for_rights("Pris", "Hva koster møteadm for 40 brukere?")
    imap_server.deliver(letter(subject="Innsyn", text="Jeg ber om innsyn i personopplysninger om meg.")[0])
    mailbox.mailbox_fetch()
    enquiry = Enquiry.objects.get()
    staff_login(client, personas.privacy_officer)
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "This looks like a rights request" in page
    assert f'action="/en/staff/enquiries/{enquiry.pk}/rights-request/"' in page
    client.logout()
    staff_login(client, personas.sales)
    page = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "This looks like a rights request" in page and "rights-request/" not in page
