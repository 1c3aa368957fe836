"""Reading one message from the support mailbox: what it is, and what of it vern keeps.

Plain parsing with the standard library's ``email`` package (its modern policy), no
database and no vern imports. ``read(raw)`` says whether a message is a person
writing (``Letter``), a delivery status notification (``Bounce``, RFC 3464), an
automatic reply, a mail loop, or something vern cannot read; the mailbox job
decides what to do with each.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# An enhanced status code (RFC 3463): class.subject.detail; 5 is a permanent failure.
OUR_LOCAL_PART = re.compile(r"\d+\.\d+\.\d+")
STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")


# Words that ask for a right under the GDPR, in Bokmål and English (folded to lower case). A hint
# for staff, who decide: an email is never made a rights request by a word in it.
RIGHTS_WORDS = re.compile(
    r"\b(innsyn|innsynsbegjæring|slett(e|ing)?|personopplysning(er|ene)?|gdpr|personvernforordningen|"
    r"retting|dataportabilitet|begrens(e|ning)|protestere|reservere|"
    r"access request|subject access|right to (be forgotten|erasure|access|object)|erase|erasure|"
    r"delete my (data|account|information)|data portability|rectif(y|ication)|art(icle|\.)? ?1[5-8])\b",
    re.IGNORECASE,
)


def asks_for_rights(subject: str, text: str) -> bool:
    """Whether a mail seems to ask for a right (access, erasure, rectification, portability, objection)."""
    return bool(RIGHTS_WORDS.search(subject) or RIGHTS_WORDS.search(text[:5000]))


# Which right a mail seems to ask for, by words in both languages (docs/mailbox.md). A guess
# only, made to pre-select the right on the enquiry's page: staff read the mail and confirm.
# The keys are the rights' ids in the declaration (``vern.rights.models.Right``), in its order.
RIGHT_WORDS: dict[str, re.Pattern[str]] = {
    key: re.compile(words, re.IGNORECASE)
    for key, words in (
        (
            "access",
            r"\b(innsyn\w*|hvilke (person)?opplysninger|access request|subject access|right (of|to) access|"
            r"(copy|access to) (of )?my (personal )?(data|information)|what (personal )?data|art(icle|\.)? ?15)\b",
        ),
        ("rectification", r"\b(rett(e|ing)|korriger\w*|rectif(y|ication)|correct my|art(icle|\.)? ?16)\b"),
        (
            "erasure",
            r"\b(slett(e|ing|er)?|bli glemt|erase|erasure|delete|deletion|forgotten|art(icle|\.)? ?17)\b",
        ),
        ("restriction", r"\b(begrens(e|ning)\w*|restrict(ion)?|art(icle|\.)? ?18)\b"),
        ("portability", r"\b(\w*portabilitet|portability|art(icle|\.)? ?20)\b"),
        ("objection", r"\b(protest(ere|erer)?|motsett\w*|reserver\w*|object(ion)? to|objection|art(icle|\.)? ?21)\b"),
        ("withdraw_consent", r"\b(trekk\w* tilbake\W+(mitt |et )?samtykke|withdraw\w* (my )?consent)\b"),
    )
}


def guess_rights(subject: str, text: str) -> tuple[str, ...]:
    """The rights a mail's words seem to ask for, in the declaration's order; empty when none."""
    words = f"{subject}\n{text[:5000]}"
    return tuple(key for key, pattern in RIGHT_WORDS.items() if pattern.search(words))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Letter:
    """A message a person wrote."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    sent_at: dt.datetime | None
    # The Message-IDs it answers (In-Reply-To first, then References, newest first).
    refers_to: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()
    # Attachments too big to keep: (file name, size in bytes).
    too_big: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification: which recipients failed, with which status, for which message."""

    message_id: str
    # (final recipient address, status code such as "5.1.1")
    recipients: tuple[tuple[str, str], ...]
    # The Message-ID of the mail that could not be delivered, if the report returned its headers.
    original_message_id: str = ""


@dataclass(frozen=True)
class Skipped:
    """Not an enquiry: ``reason`` is "auto_reply", "loop" or "unreadable" (with what was wrong in ``detail``)."""

    message_id: str
    reason: str
    detail: str = ""


Read = Letter | Bounce | Skipped


@dataclass
class _Parts:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    too_big: list[tuple[str, int]] = field(default_factory=list)


def fallback_id(raw: bytes) -> str:
    """An id for a message without a Message-ID: its content's digest (the same bytes, the same id)."""
    return "<" + hashlib.sha256(raw).hexdigest() + "@no-message-id.invalid>"


def message_ids(value: str | None) -> list[str]:
    return MESSAGE_ID.findall(str(value or ""))


def _auto_reply(message: Message) -> bool:
    """RFC 3834's Auto-Submitted, and the older headers that vacation replies and lists still send."""
    submitted = str(message.get("Auto-Submitted", "no")).strip().lower()
    if submitted and not submitted.startswith("no"):
        return True
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return True
    precedence = str(message.get("Precedence", "")).strip().lower()
    return precedence in {"bulk", "auto_reply", "junk", "list"}


def _is_ours(message: Message, our_domains: frozenset[str], loop_marks: frozenset[str]) -> bool:
    """A mail loop: our own mail coming back (a Message-ID the outbox made), or an X-Loop naming the mailbox."""
    for mark in message.get_all("X-Loop", []) or []:
        if str(mark).strip().lower() in loop_marks:
            return True
    for found in message_ids(message.get("Message-ID")):
        local, _, domain = found[1:-1].rpartition("@")
        # The shape of the outbox's Message-IDs (Python's make_msgid: time.pid.random@host), not
        # just the domain: a colleague's mail program at the same domain writes others.
        if domain.lower() in our_domains and OUR_LOCAL_PART.fullmatch(local):
            return True
    return False


def _walk(message: EmailMessage, parts: _Parts, max_attachment: int) -> None:
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        kind = part.get_content_type()
        filename = part.get_filename() or ""
        if disposition == "attachment" or (filename and kind not in ("text/plain", "text/html")):
            data = _bytes_of(part)
            name = filename or "attachment"
            if len(data) > max_attachment:
                parts.too_big.append((name, len(data)))
            else:
                parts.attachments.append(Attachment(filename=name, content_type=kind, data=data))
        elif kind == "text/plain":
            parts.text.append(_text_of(part))
        elif kind == "text/html":
            parts.html.append(_text_of(part))


def _bytes_of(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text_of(part: Message) -> str:
    payload = _bytes_of(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return payload.decode("utf-8", errors="replace")


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def _html_to_text(html: str) -> str:
    """The words of an HTML-only message; vern never shows a sender's HTML."""
    import html as html_module

    return re.sub(r"\n\s*\n+", "\n\n", html_module.unescape(_TAGS.sub("\n", html))).strip()


def _bounce(message: EmailMessage, message_id: str) -> Bounce | None:
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    recipients: list[tuple[str, str]] = []
    original = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            # Its body is groups of header fields: the per-message group, then one per recipient.
            blocks = part.get_payload()
            groups = blocks if isinstance(blocks, list) else [email.message_from_string(str(blocks))]
            for group in groups:
                if not isinstance(group, Message):
                    continue
                recipient = str(group.get("Final-Recipient", "") or group.get("Original-Recipient", ""))
                status = str(group.get("Status", "")).strip().split(" ")[0]
                if recipient and STATUS.match(status):
                    address = recipient.partition(";")[2].strip() or recipient.strip()
                    recipients.append((address, status))
        elif kind in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = message_ids(inner[0].get("Message-ID"))
            else:
                found = message_ids(
                    email.message_from_string(str(inner), policy=email.policy.default).get("Message-ID")
                )
            original = found[0] if found else ""
    return Bounce(message_id=message_id, recipients=tuple(recipients), original_message_id=original)


def read(
    raw: bytes,
    *,
    our_domains: frozenset[str],
    loop_marks: frozenset[str] = frozenset(),
    max_attachment: int,
) -> Read:
    """What ``raw`` is. Never raises on bad input: a message that cannot be read is ``Skipped``."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found = message_ids(message.get("Message-ID"))
        message_id = found[0] if found else fallback_id(raw)
    except Exception as exc:  # the parser is lenient; this is the last guard
        return Skipped(message_id=fallback_id(raw), reason="unreadable", detail=type(exc).__name__)
    try:
        if _is_ours(message, our_domains, loop_marks):
            return Skipped(message_id=message_id, reason="loop")
        bounce = _bounce(message, message_id)
        if bounce is not None:
            return bounce
        if _auto_reply(message):
            return Skipped(message_id=message_id, reason="auto_reply")
        senders = [(name, address) for name, address in getaddresses([str(message.get("From", ""))]) if "@" in address]
        if not senders:
            return Skipped(message_id=message_id, reason="unreadable", detail="no sender address")
        name, address = senders[0]
        parts = _Parts()
        _walk(message, parts, max_attachment)
        text = "\n\n".join(t.strip() for t in parts.text if t.strip())
        if not text and parts.html:
            text = _html_to_text("\n".join(parts.html))
        refers: list[str] = message_ids(message.get("In-Reply-To"))
        refers += [ref for ref in reversed(message_ids(message.get("References"))) if ref not in refers]
        try:
            sent_at = parsedate_to_datetime(str(message.get("Date"))) if message.get("Date") else None
        except (TypeError, ValueError, IndexError):
            sent_at = None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = None
        return Letter(
            message_id=message_id,
            sender=address.strip(),
            sender_name=" ".join(str(name).split()),
            subject=" ".join(str(message.get("Subject", "")).split()),
            text=text,
            sent_at=sent_at,
            refers_to=tuple(refers),
            attachments=tuple(parts.attachments),
            too_big=tuple(parts.too_big),
        )
    except Exception as exc:  # a header or part the parser chokes on: refused, never lost
        return Skipped(message_id=message_id, reason="unreadable", detail=type(exc).__name__)
