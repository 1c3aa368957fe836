"""The support mailbox under the person's rights and the retention rules, and its bounces under the
newsletter's suppression: one real dovecot, the rights and retention apps' own routines (docs/mailbox.md)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.utils import timezone

from vern.audit.services import Actor
from vern.enquiries import mailbox
from vern.enquiries.models import Enquiry, MailboxAttachment, MailboxDeletion, MailboxMessage
from vern.enquiries.selectors import mailbox_health
from vern.enquiries.tests.test_mailbox import KARI, dsn, letter
from vern.lib.keys import email_index
from vern.mail.services import outbox_deliver_due
from vern.newsletter import services as newsletter
from vern.newsletter.models import Subscription, Suppression
from vern.newsletter.tests.helpers import confirmed, send_all
from vern.retention.services import retention_sweep
from vern.rights.packages.rendering import access_package
from vern.rights.services import intake
from vern.rights.services.erasure import erasure_carry_out
from vern.tests.test_rights_packages import access_request, block, unzip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _journal_in_its_own_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_an_emailed_enquiry_is_in_the_access_package_and_an_erasure_deletes_it_here_and_in_the_mailbox(
    published, personas, imap_server
):
    imap_server.deliver(letter(attachment=b"%PDF-1.4 tilbud")[0])
    imap_server.deliver(letter(sender="Per <per@example.no>", text="Per spør om noe annet.")[0])
    mailbox.mailbox_fetch()
    assert len(imap_server.folder(settings.VERN_MAILBOX_FOLDER)) == 2

    data = json.loads(unzip(access_package(access_request({"email": KARI, "phone": ""})))["data.json"])
    (mail,) = block(data, "enquiries.MailboxMessage")["rows"]
    assert "40 brukere" in mail["text"]
    (attached,) = block(data, "enquiries.MailboxAttachment")["rows"]
    assert attached["filename"] == "tilbud.pdf"

    pia = personas.privacy_officer
    request = intake.request_register(
        staff=pia,
        rights=["erasure"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=1),
        email=KARI,
        phone="",
        identity_checked=True,
    )
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert not Enquiry.objects.filter(email_index=email_index(KARI)).exists()
    assert MailboxMessage.objects.count() == 1 and MailboxAttachment.objects.count() == 0
    # Written with the erasure; the server is asked by the job, which keeps the row until it is done.
    assert MailboxDeletion.objects.count() == 1
    good_url = settings.IMAP_URL
    settings.IMAP_URL = good_url.replace(str(imap_server.port), str(imap_server.port + 1))
    with pytest.raises(mailbox.MailboxError):
        mailbox.mailbox_delete_pending()
    (waiting,) = MailboxDeletion.objects.all()
    assert waiting.attempts == 1 and waiting.last_error == "unreachable"
    health = mailbox_health()
    assert health is not None and health.deletions_waiting == 1 and health.deletion_error_text
    settings.IMAP_URL = good_url
    assert mailbox.mailbox_delete_pending() == 1
    assert not MailboxDeletion.objects.exists()
    (left,) = imap_server.folder(settings.VERN_MAILBOX_FOLDER)
    assert b"per@example.no" in left and KARI.encode() not in left


def test_an_old_emailed_enquiry_is_deleted_by_the_retention_sweep_here_and_in_the_mailbox(published, imap_server):
    imap_server.deliver(letter()[0])
    mailbox.mailbox_fetch(now=timezone.now() - dt.timedelta(days=2 * 366))
    imap_server.deliver(letter(sender="Per <per@example.no>")[0])
    mailbox.mailbox_fetch()
    retention_sweep(trigger="worker", actor=Actor.system())
    assert list(Enquiry.objects.values_list("email", flat=True)) == ["per@example.no"]
    assert mailbox.mailbox_delete_pending() == 1
    (left,) = imap_server.folder(settings.VERN_MAILBOX_FOLDER)
    assert b"per@example.no" in left


def test_a_delivery_status_notification_counts_toward_the_newsletter_suppression(
    published, imap_server, smtp_server, personas
):
    marketer = personas.admin
    confirmed("gone@example.no")
    confirmed("kari@example.no")
    limit = 3
    for round_ in range(limit):
        send_all(marketer)
        outbox_deliver_due()  # the receiving server accepts it; the refusal comes later, by mail
        (sent,) = [m for m in smtp_server.messages if m["To"] == "gone@example.no" and m["List-Unsubscribe"]][-1:]
        # One report returns the mail's headers; another names only the recipient.
        imap_server.deliver(dsn("gone@example.no", "5.1.1", original=sent["Message-ID"] if round_ else ""))
        imap_server.deliver(dsn("kari@example.no", "4.2.2"))  # temporary: not a refusal
        report = mailbox.mailbox_fetch()
        assert report.bounces == 2 and not Enquiry.objects.exists()
        newsletter.refusals_count()
        suppressed = Suppression.objects.filter(email_index=email_index("gone@example.no")).exists()
        assert suppressed == (round_ == limit - 1)
    assert Subscription.objects.get(email_index=email_index("kari@example.no")).status == "confirmed"
