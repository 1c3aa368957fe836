"""Writing mail to the outbox, and delivering it over SMTP from the worker."""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone, translation

from vern.jobs.services import job_enqueue_once
from vern.lib.backoff import backoff
from vern.lib.keys import email_index, email_indexes
from vern.lib.logs import redact
from vern.lib.normalise import normalise_email
from vern.mail.models import OutboxMessage
from vern.registry import surface

log = logging.getLogger(__name__)

DELIVER_JOB = "mail.deliver"
# One or more Message-IDs, space-separated: nothing else may reach the In-Reply-To and References headers.
_MESSAGE_IDS = re.compile(r"<[^<>\s]{1,240}>(?: <[^<>\s]{1,240}>)*")
SENDING_LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(minutes=30)
# A message that fails for a reason of its own (not the server's, not a refusal) is given
# up after this many tries; while the server is down, mail waits however long it takes.
MAX_ATTEMPTS_BROKEN = 5


@dataclass(frozen=True)
class Rendered:
    subject: str
    body_text: str
    body_html: str


def mail_render(*, kind: str, language: str, context: Mapping[str, object]) -> Rendered:
    """Render ``mail/<kind>/subject.txt``, ``body.txt`` and ``body.html`` in the recipient's language."""
    with translation.override(language):
        full = {"site_url": settings.VERN_PUBLIC_URL, "language": language, **context}
        text = engines["text"]
        subject = " ".join(text.get_template(f"mail/{kind}/subject.txt").render(full).split())
        body_text = text.get_template(f"mail/{kind}/body.txt").render(full).strip() + "\n"
        body_html = render_to_string(f"mail/{kind}/body.html", full)
    return Rendered(subject=subject, body_text=body_text, body_html=body_html)


class _Mask(int):
    """A value shown as ``…`` whatever it stands for: text, a number (a plural's count), or a list of one."""

    def __str__(self) -> str:
        return "…"

    def __format__(self, spec: str) -> str:
        return "…"

    def __iter__(self) -> Iterator[_Mask]:
        return iter([self])

    def __len__(self) -> int:
        return 1


class _Masked(dict[str, object]):
    """A template context in which every value is ``…``: the outline of a mail, with nothing of the person."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> object:
        return dict.get(self, key, _Mask(2))


def mail_outline(*, kind: str, language: str) -> Rendered:
    """The subject and text of a kind of mail with every value masked (for the console backend's log)."""
    with translation.override(language):
        masked = _Masked(site_url=settings.VERN_PUBLIC_URL, language=language)
        text = engines["text"]
        subject = " ".join(text.get_template(f"mail/{kind}/subject.txt").render(masked).split())
        body_text = text.get_template(f"mail/{kind}/body.txt").render(masked).strip() + "\n"
    return Rendered(subject=subject, body_text=body_text, body_html="")


def mail_queue(
    *,
    kind: str,
    to: str,
    language: str,
    context: Mapping[str, object],
    about: str = "",
    ephemeral: bool = False,
    list_unsubscribe: str = "",
    in_reply_to: str = "",
    references: str = "",
) -> OutboxMessage:
    """Render an email and put it in the outbox, in the caller's transaction.

    ``about`` is the email address of the person the mail is about, when that is not the
    recipient. The worker delivers it; if the transaction rolls back, the mail is never sent.
    Mail that a withhold check stops is stored as withheld and never sent.
    An ``ephemeral`` mail goes to someone whose address must not stay (the answer to an
    erasure request): once it is sent, only its kind, status, dates and blind index remain.
    ``list_unsubscribe`` (mailings only) is the https address that unsubscribes the recipient
    with one POST (RFC 8058); the mail then carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post``.
    """
    if list_unsubscribe and (
        not list_unsubscribe.startswith(("https://", "http://")) or any(c in list_unsubscribe for c in "\r\n<> ")
    ):
        raise ValueError("list_unsubscribe must be one web address")
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"no such language: {language!r}")
    if not all(_MESSAGE_IDS.fullmatch(value) for value in (in_reply_to, references) if value):
        raise ValueError("in_reply_to and references must be Message-IDs")
    address = normalise_email(to)
    rendered = mail_render(kind=kind, language=language, context=context)
    to_index = email_index(address)
    about_index = email_index(about) if about else ""
    # Apps above this one say in their surfaces which mail must be held back (a restriction of
    # processing, an objection to marketing). Asked under every configured index key, so that a
    # restriction or objection not yet recomputed by `vern keys rotate` still holds mail back.
    about_indexes = email_indexes(about) if about else []
    withheld = any(
        surface.mail_withheld(kind, to_variant, about_indexes[number] if about_indexes else "")
        for number, to_variant in enumerate(email_indexes(address))
    )
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            kind=kind,
            to_address=address,
            to_index=to_index,
            about_index=about_index,
            status=OutboxMessage.Status.WITHHELD if withheld else OutboxMessage.Status.QUEUED,
            language=language,
            subject=rendered.subject,
            body_text=rendered.body_text,
            body_html=rendered.body_html,
            message_id=make_msgid(domain=settings.VERN_PUBLIC_HOST or "vern.invalid"),
            ephemeral=ephemeral,
            list_unsubscribe=list_unsubscribe,
            in_reply_to=in_reply_to,
            references=references,
        )
        if not withheld:
            job_enqueue_once(DELIVER_JOB, key=DELIVER_JOB)
    return message


def _backoff(attempts: int) -> dt.timedelta:
    return backoff(attempts, base=dt.timedelta(seconds=30), cap=MAX_BACKOFF)


def _refused_for_good(exc: Exception) -> bool:
    """A 5xx answer about this message itself: every recipient refused, or the content refused."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _about_this_message(exc: Exception) -> bool:
    """Errors that concern one message; anything else (no connection, greeting, login, sender
    refused, a 4xx from the server) is the server's, and would fail every message the same way."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) or not isinstance(
        exc, smtplib.SMTPException | OSError
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def outbox_reclaim_stuck(*, now: dt.datetime) -> int:
    """Mail a dead worker was sending goes back to the queue (at worst it is sent twice, same Message-ID)."""
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING, lease_expires_at__lt=now).update(
        status=OutboxMessage.Status.QUEUED, lease_expires_at=None
    )


def outbox_deliver_due(*, batch_size: int = 50) -> DeliveryReport:
    """Send what is due; a message that cannot go now waits with backoff, nothing is dropped."""
    now = timezone.now()
    report = DeliveryReport()
    outbox_reclaim_stuck(now=now)
    due = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not due:
        return report
    connection = get_connection(fail_silently=False)
    opened = False
    try:
        for pk in due:
            claimed = OutboxMessage.objects.filter(pk=pk, status=OutboxMessage.Status.QUEUED).update(
                status=OutboxMessage.Status.SENDING, lease_expires_at=timezone.now() + SENDING_LEASE
            )
            if not claimed:
                continue  # another worker took it
            # Only the plain columns now: a ciphertext that cannot be opened fails inside the
            # try below, is recorded on this message, and does not stop the batch.
            message = OutboxMessage.objects.only(
                "pk", "kind", "attempts", "message_id", "ephemeral", "in_reply_to", "references"
            ).get(pk=pk)
            try:
                if not opened:
                    connection.open()  # one connection for the whole batch
                    opened = True
                _send(message, connection)
            except Exception as exc:  # each message's failure is recorded; none is lost
                _record_failure(message, exc, report)
                if not _about_this_message(exc):
                    break  # the server is the problem; the rest keep their place in the queue
            else:
                OutboxMessage.objects.filter(pk=pk).update(
                    status=OutboxMessage.Status.SENT,
                    sent_at=timezone.now(),
                    attempts=message.attempts + 1,
                    lease_expires_at=None,
                    last_error="",
                    **(_BLANKED if message.ephemeral else {}),
                )
                report.sent += 1
    finally:
        if opened:
            try:
                connection.close()
            except (smtplib.SMTPException, OSError):
                pass
    return report


# What an ephemeral message keeps of its content once sent: nothing. Blanked in the same
# update that marks it sent, so that a worker killed before that update sends it again
# (as any message, at worst twice), and one killed after it has nothing left to send.
_BLANKED: dict[str, str] = {
    "to_address": "",
    "subject": "",
    "body_text": "",
    "body_html": "",
    "list_unsubscribe": "",
}


def _send(message: OutboxMessage, connection: object) -> None:
    headers = {"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"}
    if message.list_unsubscribe:
        # RFC 8058: the receiving mailbox unsubscribes with one POST to this address, no page needed.
        headers["List-Unsubscribe"] = f"<{message.list_unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.references or message.in_reply_to
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        connection=connection,
        headers=headers,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    email.send()


def _record_failure(message: OutboxMessage, exc: Exception, report: DeliveryReport) -> None:
    attempts = message.attempts + 1
    error = redact(f"{type(exc).__name__}: {exc}")[:2000]
    report.errors.append(error)
    broken_message = not isinstance(exc, smtplib.SMTPException | OSError)
    if _refused_for_good(exc) or (broken_message and attempts >= MAX_ATTEMPTS_BROKEN):
        status = OutboxMessage.Status.FAILED
        report.failed += 1
        log.error("mail %s #%s cannot be delivered: %s", message.kind, message.pk, error)
    else:
        status = OutboxMessage.Status.QUEUED
        report.deferred += 1
        log.warning("mail %s #%s deferred (attempt %s): %s", message.kind, message.pk, attempts, error)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status,
        attempts=attempts,
        last_error=error,
        lease_expires_at=None,
        next_attempt_at=timezone.now() + _backoff(attempts),
    )


def outbox_requeue(*, message_id: int) -> OutboxMessage:
    """Staff send a failed message again."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message_id)
        if message.status != OutboxMessage.Status.FAILED:
            raise ValueError(f"only failed mail can be sent again; this one is {message.status}")
        message.status = OutboxMessage.Status.QUEUED
        message.next_attempt_at = timezone.now()
        message.save(update_fields=["status", "next_attempt_at"])
        job_enqueue_once(DELIVER_JOB, key=DELIVER_JOB)
    return message


# What ``outbox_bounced`` writes as the error: newsletter suppression counts it like a 5xx refusal.
BOUNCED = "DeliveryStatusNotification"
BOUNCE_WINDOW = dt.timedelta(days=30)


def outbox_bounced(*, original_message_id: str, recipient: str, status: str, now: dt.datetime) -> OutboxMessage | None:
    """A delivery status notification (RFC 3464) read from the support mailbox says a mail failed.

    The mail is the one the report returned the Message-ID of, else the latest one sent to
    ``recipient`` in the last 30 days. A permanent failure (status 5.x.x) marks it failed,
    with an error the newsletter's refusal count reads like the SMTP server's own 5xx;
    a temporary one (4.x.x) changes nothing. Reading the same report twice changes nothing more.
    """
    if not status.startswith("5."):
        return None
    found = None
    if original_message_id:
        found = OutboxMessage.objects.filter(message_id=original_message_id).first()
    if found is None and recipient:
        try:
            indexes = email_indexes(recipient)
        except ValueError:
            return None
        found = (
            OutboxMessage.objects.filter(
                to_index__in=indexes, status=OutboxMessage.Status.SENT, sent_at__gte=now - BOUNCE_WINDOW
            )
            .order_by("-sent_at", "-pk")
            .first()
        )
    if found is None or found.status != OutboxMessage.Status.SENT:
        return found  # already counted as failed, or never sent
    OutboxMessage.objects.filter(pk=found.pk, status=OutboxMessage.Status.SENT).update(
        status=OutboxMessage.Status.FAILED, last_error=f"{BOUNCED}: {status} (reported by the receiving server)"
    )
    log.info("mail %s #%s bounced: %s", found.kind, found.pk, status)
    return found
