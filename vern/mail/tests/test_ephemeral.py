"""An ephemeral mail (the answer to an erasure request) forgets its address and content once sent (P23)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.mail.services import mail_queue, outbox_deliver_due

pytestmark = pytest.mark.django_db
LINK = "https://example.com/staff/password/set/abc/def/"


def queue(to: str, *, ephemeral: bool) -> OutboxMessage:
    return mail_queue(
        kind="staff_password_reset",
        to=to,
        language="nb",
        context={"name": "Kari", "link": LINK},
        ephemeral=ephemeral,
    )


def test_an_ephemeral_mail_is_delivered_and_then_keeps_only_its_kind_status_dates_and_index(smtp_server):
    forgotten = queue("kari@example.no", ephemeral=True)
    kept = queue("ola@example.no", ephemeral=False)

    assert outbox_deliver_due().sent == 2

    delivered = {message["To"]: message for message in smtp_server.messages}
    assert LINK in delivered["kari@example.no"].get_body(("plain",)).get_content()
    forgotten.refresh_from_db()
    assert forgotten.status == OutboxMessage.Status.SENT and forgotten.sent_at and forgotten.attempts == 1
    assert (forgotten.to_address, forgotten.subject, forgotten.body_text, forgotten.body_html) == ("", "", "", "")
    assert forgotten.kind == "staff_password_reset" and forgotten.to_index == email_index("kari@example.no")
    kept.refresh_from_db()
    assert kept.to_address == "ola@example.no" and LINK in kept.body_text
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_address, body_text FROM mail_outboxmessage WHERE id = %s", [forgotten.pk])
        raw = cursor.fetchone()
    assert all("kari" not in column for column in raw)
    assert outbox_deliver_due().sent == 0  # nothing is sent twice, and a blank message is never sent


def test_an_ephemeral_mail_keeps_its_content_while_the_server_is_down(smtp_server):
    smtp_server.stop()
    message = queue("kari@example.no", ephemeral=True)
    assert outbox_deliver_due().deferred == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED and message.to_address == "kari@example.no"

    smtp_server.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert outbox_deliver_due().sent == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.to_address == ""
    assert smtp_server.messages[0]["To"] == "kari@example.no"
