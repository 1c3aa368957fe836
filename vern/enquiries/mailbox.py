"""The support mailbox as an intake channel (docs/mailbox.md).

The job ``enquiries.mailbox`` reads the configured IMAP folder (``IMAP_URL``). Each message:

- a person writing becomes an enquiry with channel "email", or, when it answers a mail of
  a kept enquiry (In-Reply-To or References name it), a contact on that enquiry that starts
  its retention clock again;
- a delivery status notification (RFC 3464) is handed to the outbox's delivery records
  (``vern.mail.services.outbox_bounced``): a permanent failure of a newsletter counts toward
  the subscriber's suppression; it is not an enquiry;
- an automatic reply, a mail loop (our own mail coming back) or a message vern cannot read is
  not an enquiry either.

What vern took is moved to the ``vern`` folder, the rest to ``vern-skipped`` (for a person to
look at, for ``VERN_MAILBOX_SKIPPED_DAYS``: each reading then deletes there what the server
received before that many days ago), each only after the database has committed what vern made of it: a worker that dies
in between leaves the message where it was, and the next run finds it already stored (by the
keyed digest of its Message-ID) and only moves it. When retention, an erasure request or staff
delete the enquiry, its mails are deleted from the ``vern`` folder by the job
``enquiries.mailbox_delete``, from rows written in the deleting transaction and kept until the
server has done it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from vern.enquiries import services
from vern.enquiries.models import (
    ContactLog,
    Enquiry,
    MailboxAttachment,
    MailboxDeletion,
    MailboxMessage,
    MailboxStatus,
)
from vern.lib import inbound
from vern.lib.keys import digest, digests
from vern.lib.normalise import normalise_email
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_bounced

log = logging.getLogger(__name__)

FETCH_JOB = "enquiries.mailbox"
DELETE_JOB = services.MAILBOX_DELETE_JOB
KEY_PURPOSE = "mailbox-message"
BATCH = 20
MAX_TEXT = 100_000
TIMEOUT = 30.0


class MailboxError(Exception):
    """The mailbox could not be read; ``code`` says why (``error_text`` puts it in words), with no address."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return error_text(self.code)


def configured() -> bool:
    return bool(settings.IMAP_URL)


def message_key(message_id: str) -> str:
    return digest(message_id, purpose=KEY_PURPOSE)


def skipped_folder() -> str:
    return f"{settings.VERN_MAILBOX_FOLDER}-skipped"


# ------------------------------------------------------------------ the connection


# What went wrong, stored as a code and put in words when shown, in the reader's language; never
# the server's own text, which may quote an address.
_ERRORS = {
    "login": _("The mailbox refused the user name or password. Check IMAP_URL and IMAP_PASSWORD_FILE."),
    "tls": _("The mailbox's TLS certificate could not be verified. Check the server name or IMAP_CA_FILE."),
    "timeout": _("The mailbox did not answer in time. vern tries again in a few minutes."),
    "unreachable": _("The mailbox server could not be reached. vern tries again in a few minutes."),
    "unpublished": _("No privacy policy is published, so no email can be taken as an enquiry yet. Publish one."),
}


def error_text(code: str) -> str:
    """A stored error code in words, in the active language."""
    if code in _ERRORS:
        return str(_ERRORS[code])
    kind = code.partition(":")[2] or code
    return str(_("The mailbox answered with an error (%(kind)s). vern tries again in a few minutes.")) % {"kind": kind}


def _code(exc: BaseException) -> str:
    if isinstance(exc, LoginError):
        return "login"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timeout"
    if isinstance(exc, OSError):
        return "unreachable"
    return f"server:{type(exc).__name__}"


@contextlib.contextmanager
def connected() -> Iterator[tuple[IMAPClient, str]]:
    """A logged-in connection over TLS (imaps://, or imap:// with STARTTLS) and the folder to read."""
    url = urlsplit(settings.IMAP_URL)
    context = ssl.create_default_context(cafile=settings.IMAP_CA_FILE or None)
    client: IMAPClient | None = None
    try:
        if url.scheme == "imaps":
            client = IMAPClient(
                url.hostname or "", port=url.port or 993, ssl=True, ssl_context=context, timeout=TIMEOUT
            )
        else:
            client = IMAPClient(url.hostname or "", port=url.port or 143, ssl=False, timeout=TIMEOUT)
            client.starttls(context)  # required: a mailbox is never read in the clear
        client.login(unquote(url.username or ""), settings.IMAP_PASSWORD)
    except (IMAPClientError, OSError) as exc:
        if client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
                client.shutdown()
        raise MailboxError(_code(exc)) from exc
    try:
        for folder in (settings.VERN_MAILBOX_FOLDER, skipped_folder()):
            if not client.folder_exists(folder):
                client.create_folder(folder)
        yield client, unquote(url.path.strip("/")) or "INBOX"
    finally:
        with contextlib.suppress(IMAPClientError, OSError):
            client.logout()


# ------------------------------------------------------------------ reading


@dataclass
class FetchReport:
    taken: int = 0
    joined: int = 0
    bounces: int = 0
    skipped: int = 0
    pruned: int = 0  # deleted from the skipped folder, past VERN_MAILBOX_SKIPPED_DAYS


def _our_domains() -> frozenset[str]:
    return frozenset({(settings.VERN_PUBLIC_HOST or "vern.invalid").lower()})


def _loop_marks() -> frozenset[str]:
    url = urlsplit(settings.IMAP_URL)
    return frozenset({unquote(url.username or "").lower()} - {""})


def _thread_of(letter: inbound.Letter) -> Enquiry | None:
    """The kept enquiry this letter answers: a mail of it read earlier, or a reply sent from the console."""
    if not letter.refers_to:
        return None
    keys = [key for ref in letter.refers_to for key in digests(ref, purpose=KEY_PURPOSE)]
    found = MailboxMessage.objects.filter(key__in=keys).order_by("-received_at").values_list("enquiry_id", flat=True)
    enquiry_id = found.first()
    if enquiry_id is None:
        ours = OutboxMessage.objects.filter(message_id__in=letter.refers_to).values("pk")
        enquiry_id = (
            ContactLog.objects.filter(mail_id__in=ours).order_by("-happened_at").values_list("enquiry_id", flat=True)
        ).first()
    return Enquiry.objects.filter(pk=enquiry_id).first() if enquiry_id else None


def _store_mail(
    enquiry: Enquiry, letter: inbound.Letter, key: str, now: dt.datetime, contact: ContactLog | None
) -> None:
    left_out = "\n".join(f"{name} ({size} bytes)" for name, size in letter.too_big)
    mail = MailboxMessage.objects.create(
        enquiry=enquiry,
        contact=contact,
        key=key,
        message_id=letter.message_id,
        subject=letter.subject,
        text=letter.text[:MAX_TEXT],
        left_out=left_out,
        received_at=now,
        asks_for_rights=inbound.asks_for_rights(letter.subject, letter.text),
    )
    MailboxAttachment.objects.bulk_create(
        MailboxAttachment(
            enquiry=enquiry,
            message=mail,
            filename=item.filename,
            content_type=item.content_type[:120],
            size=len(item.data),
            content=base64.b64encode(item.data).decode("ascii"),
        )
        for item in letter.attachments
    )


def take_letter(letter: inbound.Letter, *, now: dt.datetime) -> tuple[Enquiry, bool] | None:
    """Store a person's mail: a new enquiry, or a contact on the enquiry it answers; (enquiry, joined).

    None when it was stored before (the same Message-ID) or cannot be taken; idempotent."""
    key = message_key(letter.message_id)
    if MailboxMessage.objects.filter(key__in=digests(letter.message_id, purpose=KEY_PURPOSE)).exists():
        return None
    try:
        address = normalise_email(letter.sender)
    except ValueError:
        return None
    try:
        with transaction.atomic():
            thread = _thread_of(letter)
            if thread is not None:
                contact = services.enquiry_mail_contact(
                    enquiry=thread, happened_at=now, subject=letter.subject, text=letter.text[:MAX_TEXT]
                )
                _store_mail(contact.enquiry, letter, key, now, contact)
                return contact.enquiry, True
            enquiry = services.enquiry_from_mail(
                intake=services.Intake(
                    name=letter.sender_name or address.partition("@")[0],
                    email=address,
                    phone="",
                    organisation="",
                    message=(letter.subject + "\n\n" + letter.text).strip()[:MAX_TEXT],
                ),
                received_at=now,
            )
            _store_mail(enquiry, letter, key, now, None)
            return enquiry, False
    except IntegrityError:
        return None  # another worker stored the same message at the same moment


def _take_bounce(bounce: inbound.Bounce, now: dt.datetime) -> None:
    for recipient, status in bounce.recipients or (("", ""),):
        with transaction.atomic():
            outbox_bounced(original_message_id=bounce.original_message_id, recipient=recipient, status=status, now=now)


def _status() -> MailboxStatus:
    status = MailboxStatus.objects.order_by("pk").first()
    return status if status is not None else MailboxStatus.objects.create()


def _record(*, now: dt.datetime, error: str = "", taken: int = 0, skipped: int = 0) -> None:
    status = _status()
    status.last_attempt_at = now
    if error:
        status.last_error, status.last_error_at = error, now
    else:
        status.last_success_at, status.last_error = now, ""
    status.taken += taken
    status.skipped += skipped
    status.save()


def _handle(raw: bytes, size: int, now: dt.datetime, report: FetchReport) -> bool:
    """What one message becomes; True when it goes to the vern folder, False to the skipped one."""
    if size > settings.VERN_MAILBOX_MESSAGE_MAX_BYTES:
        log.warning("a mailbox message of %s bytes is over VERN_MAILBOX_MESSAGE_MAX_BYTES; left for a person", size)
        report.skipped += 1
        return False
    read = inbound.read(
        raw,
        our_domains=_our_domains(),
        loop_marks=_loop_marks(),
        max_attachment=settings.VERN_MAILBOX_ATTACHMENT_MAX_BYTES,
    )
    if isinstance(read, inbound.Letter):
        try:
            taken = take_letter(read, now=now)
        except services.EnquiryRefused as exc:  # no policy published: the mail waits in the mailbox
            raise MailboxError(exc.code) from exc
        if taken is None and not MailboxMessage.objects.filter(key=message_key(read.message_id)).exists():
            report.skipped += 1
            return False
        if taken is not None:
            report.joined += int(taken[1])
            report.taken += int(not taken[1])
        return True
    if isinstance(read, inbound.Bounce):
        _take_bounce(read, now)
        report.bounces += 1
    else:
        log.info("a mailbox message was not taken: %s %s", read.reason, read.detail)
    report.skipped += 1
    return False


def _move(client: IMAPClient, uid: int, folder: str) -> None:
    """MOVE (RFC 6851) where the server has it, else copy, flag deleted and expunge that one message."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.delete_messages([uid])
    _expunge(client, [uid])


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def mailbox_fetch(*, now: dt.datetime | None = None) -> FetchReport:
    """Read every message in the mailbox's folder, store what it is, then move it on the server.

    An unreachable mailbox or a wrong password is recorded on the status row (the inbox page
    shows it) and raised, so that the job is retried; no message is moved before its rows commit.
    """
    now = now or timezone.now()
    report = FetchReport()
    if not configured():
        return report
    try:
        with connected() as (client, folder):
            client.select_folder(folder)
            uids = client.search(["NOT", "DELETED"])
            for start in range(0, len(uids), BATCH):
                batch = uids[start : start + BATCH]
                sizes = client.fetch(batch, ["RFC822.SIZE"])
                small = [
                    uid
                    for uid in batch
                    if sizes.get(uid, {}).get(b"RFC822.SIZE", 0) <= settings.VERN_MAILBOX_MESSAGE_MAX_BYTES
                ]
                bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
                for uid in batch:
                    size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                    raw = bodies.get(uid, {}).get(b"BODY[]", b"")
                    took = _handle(raw, size, now, report)
                    _move(client, uid, settings.VERN_MAILBOX_FOLDER if took else skipped_folder())
            report.pruned, waiting, oldest = _prune_skipped(client, now)
            _record_skipped(pruned=report.pruned, waiting=waiting, oldest=oldest)
    except MailboxError as exc:
        _record(now=now, error=exc.code)
        raise
    except (IMAPClientError, OSError) as exc:
        _record(now=now, error=_code(exc), taken=report.taken + report.joined, skipped=report.skipped)
        raise MailboxError(_code(exc)) from exc
    _record(now=now, taken=report.taken + report.joined, skipped=report.skipped)
    return report


# ------------------------------------------------------------------ deleting from the server


def skipped_cutoff(now: dt.datetime) -> dt.date:
    """Messages the server received before this day (IMAP ``SEARCH BEFORE``, by INTERNALDATE) are
    past ``VERN_MAILBOX_SKIPPED_DAYS`` and deleted from the skipped folder."""
    return timezone.localdate(now) - dt.timedelta(days=settings.VERN_MAILBOX_SKIPPED_DAYS)


def skipped_deletion_at(received: dt.datetime) -> dt.date:
    """The day a skipped message that arrived at ``received`` is deleted (on the first reading then)."""
    return timezone.localdate(received) + dt.timedelta(days=settings.VERN_MAILBOX_SKIPPED_DAYS + 1)


def _prune_skipped(client: IMAPClient, now: dt.datetime) -> tuple[int, int, dt.datetime | None]:
    """Delete and expunge what the skipped folder received before the cut-off; (deleted, left, oldest left).

    What to delete is asked of the server each time (its INTERNALDATE), so nothing needs to be
    remembered in between: a run that dies half-way is finished by the next, and a message is
    deleted once however often it runs. The folder is selected afresh, then the inbox folder is
    no longer selected (nothing else is done there after this)."""
    client.select_folder(skipped_folder())
    old = client.search(["BEFORE", skipped_cutoff(now), "NOT", "DELETED"])
    for start in range(0, len(old), 200):
        batch = old[start : start + 200]
        client.delete_messages(batch)
        _expunge(client, batch)
    left = client.search(["NOT", "DELETED"])
    oldest: dt.datetime | None = None
    client.normalise_times = False  # INTERNALDATE with the server's offset, not naive local time
    for start in range(0, len(left), 500):
        for data in client.fetch(left[start : start + 500], ["INTERNALDATE"]).values():
            arrived = data.get(b"INTERNALDATE")
            if isinstance(arrived, dt.datetime):
                arrived = arrived if timezone.is_aware(arrived) else arrived.replace(tzinfo=dt.UTC)
                oldest = arrived if oldest is None or arrived < oldest else oldest
    if old:
        log.info("deleted %s messages from the skipped folder, past VERN_MAILBOX_SKIPPED_DAYS", len(old))
    return len(old), len(left), oldest


def _record_skipped(*, pruned: int, waiting: int, oldest: dt.datetime | None) -> None:
    status = _status()
    status.skipped_deleted += pruned
    status.skipped_waiting, status.skipped_oldest_at = waiting, oldest
    status.save(update_fields=["skipped_deleted", "skipped_waiting", "skipped_oldest_at"])


def mailbox_delete_pending() -> int:
    """Delete from the vern folder every mail whose enquiry is gone; how many rows were done.

    A row goes only once the server has deleted (and expunged) the message, or has none of
    that Message-ID left; a failure is counted on the row and raised, so that the job retries."""
    pending = list(MailboxDeletion.objects.order_by("pk")[:200])
    if not pending or not configured():
        return 0
    done = 0
    try:
        with connected() as (client, _folder):
            client.select_folder(settings.VERN_MAILBOX_FOLDER)
            for row in pending:
                uids = client.search(["HEADER", "Message-ID", row.message_id])
                if uids:
                    client.delete_messages(uids)
                    _expunge(client, uids)
                row.delete()
                done += 1
    except (MailboxError, IMAPClientError, OSError) as exc:
        error = exc.code if isinstance(exc, MailboxError) else _code(exc)
        MailboxDeletion.objects.filter(pk__in=[row.pk for row in pending[done:]]).update(last_error=error)
        for row in pending[done:]:
            MailboxDeletion.objects.filter(pk=row.pk).update(attempts=row.attempts + 1)
        raise MailboxError(error) from exc
    return done
