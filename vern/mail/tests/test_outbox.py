"""Mail goes through the outbox and a real SMTP server; an outage loses nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from vern.jobs.models import Job
from vern.lib.keys import email_index
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due, outbox_requeue

pytestmark = pytest.mark.django_db

LINK = "https://example.com/staff/password/set/abc/def/"


def queue_one(to: str = "ola@example.no", language: str = "nb") -> OutboxMessage:
    return emails.staff_password_reset(to=to, language=language, name="Ola", link=LINK)


def test_mail_is_written_to_the_outbox_with_the_change_and_a_delivery_job_is_queued():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_one()
        raise RuntimeError("the change is rolled back")
    assert not OutboxMessage.objects.exists()
    message = queue_one()
    assert message.status == OutboxMessage.Status.QUEUED
    assert Job.objects.filter(name="mail.deliver", status=Job.Status.QUEUED).count() == 1


def test_recipient_subject_and_body_are_encrypted_at_rest_and_found_by_blind_index():
    message = queue_one("Ola@Example.no")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_address, subject, body_text, body_html, to_index FROM mail_outboxmessage")
        raw = cursor.fetchone()
    assert all("ola@example.no" not in column.lower() for column in raw[:4])
    assert all(LINK not in column for column in raw[:4])
    assert raw[4] == email_index("ola@example.no")
    assert OutboxMessage.objects.get(to_index=email_index("OLA@example.no")).pk == message.pk
    with pytest.raises(TypeError, match="encrypted"):
        OutboxMessage.objects.filter(to_address="ola@example.no").exists()


def test_the_worker_delivers_over_smtp_in_the_recipients_language(smtp_server):
    queue_one("ola@example.no", "nb")
    queue_one("kari@example.no", "en")
    report = outbox_deliver_due()
    assert report.sent == 2
    by_recipient = {m["To"]: m for m in smtp_server.messages}
    norwegian, english = by_recipient["ola@example.no"], by_recipient["kari@example.no"]
    assert norwegian["Subject"] == "Sett et nytt passord for personalkontoen din"
    assert english["Subject"] == "Set a new password for your staff account"
    assert LINK in norwegian.get_body(("plain",)).get_content()
    assert LINK in english.get_body(("html",)).get_content()
    assert norwegian["Message-ID"] == OutboxMessage.objects.get(to_index=email_index("ola@example.no")).message_id
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxMessage.Status.SENT}


def test_an_smtp_outage_loses_no_mail_and_it_goes_out_once_the_server_is_back(smtp_server):
    """Nothing is lost while the mail server is down, and nothing is sent twice after."""
    smtp_server.stop()
    first, second = queue_one("ola@example.no"), queue_one("kari@example.no")
    report = outbox_deliver_due()
    assert report.sent == 0 and report.deferred == 1  # the batch stops at the first connection error
    first.refresh_from_db()
    assert first.status == OutboxMessage.Status.QUEUED and first.attempts == 1
    assert "Connection refused" in first.last_error or "ConnectionRefused" in first.last_error
    assert first.next_attempt_at > timezone.now()
    assert outbox_deliver_due().sent == 0  # the second waits its turn; the first waits its backoff

    smtp_server.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert outbox_deliver_due().sent == 2
        assert outbox_deliver_due().sent == 0
    assert sorted(m["To"] for m in smtp_server.messages) == ["kari@example.no", "ola@example.no"]
    second.refresh_from_db()
    assert second.status == OutboxMessage.Status.SENT and second.sent_at is not None


def test_a_recipient_refused_for_good_is_marked_not_delivered_and_staff_can_send_it_again(smtp_server):
    message = queue_one("bounce@example.no")
    report = outbox_deliver_due()
    assert report.failed == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert "550" in message.last_error and "bounce@example.no" not in message.last_error
    requeued = outbox_requeue(message_id=message.pk)
    assert requeued.status == OutboxMessage.Status.QUEUED
    with pytest.raises(ValueError):
        outbox_requeue(message_id=message.pk)


def test_mail_a_dead_worker_was_sending_is_sent_again(smtp_server):
    message = queue_one()
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENDING, lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert outbox_deliver_due().sent == 1
    assert len(smtp_server.messages) == 1


def test_an_address_that_is_not_an_email_is_refused_before_anything_is_stored():
    with pytest.raises(ValueError):
        queue_one("not-an-address")
    assert not OutboxMessage.objects.exists()


def test_a_server_that_refuses_service_fails_no_mail_for_good(smtp_server):
    """A 5xx greeting or sender refusal is the server's problem: every message waits and is retried."""
    first, second = queue_one("ola@example.no"), queue_one("kari@example.no")
    for knob in ("refuse_greeting", "refuse_sender"):
        setattr(smtp_server.handler, knob, True)
        report = outbox_deliver_due()
        assert report.failed == 0 and report.sent == 0
        assert OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count() == 0
        setattr(smtp_server.handler, knob, False)
        OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_deliver_due().sent == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == OutboxMessage.Status.SENT


def test_one_connection_carries_a_whole_batch(smtp_server):
    for n in range(5):
        queue_one(f"person{n}@example.no")
    assert outbox_deliver_due().sent == 5
    assert smtp_server.handler.greetings == 1


def test_a_message_that_cannot_be_read_is_given_up_after_some_tries_without_holding_up_the_rest(smtp_server, settings):
    from vern.lib.crypto import Keyring, generate_key

    broken = queue_one("ola@example.no")
    # Encrypted with a key that is then removed from the configuration.
    settings.VERN_ENCRYPTION_KEYS = f"gone:{generate_key()}"
    OutboxMessage.objects.filter(pk=broken.pk).update(
        body_text=Keyring.parse(settings.VERN_ENCRYPTION_KEYS).encrypt(
            "x", associated_data="mail.OutboxMessage.body_text"
        )
    )
    settings.VERN_ENCRYPTION_KEYS = f"new:{generate_key()},{vern_env_key()}"
    queue_one("kari@example.no")
    report = outbox_deliver_due()
    assert report.sent == 1 and report.deferred == 1
    for _ in range(5):
        OutboxMessage.objects.filter(pk=broken.pk).update(next_attempt_at=timezone.now())
        outbox_deliver_due()
    broken.refresh_from_db(fields=["status", "last_error"])  # its body can no longer be read
    assert broken.status == OutboxMessage.Status.FAILED
    assert "DecryptionError" in broken.last_error
    assert [m["To"] for m in smtp_server.messages] == ["kari@example.no"]


def vern_env_key() -> str:
    import os

    return os.environ["VERN_ENCRYPTION_KEYS"]
