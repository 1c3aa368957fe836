"""Receiving, registering and working enquiries; each change writes an audit row with it."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vern.accounts.models import RoleGrant, User
from vern.accounts.roles import Capability, Role
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version, retention_body
from vern.enquiries.models import PURPOSE, ContactLog, Enquiry, MailboxDeletion, MailboxMessage, SearchTerm
from vern.enquiries.search import enquiry_digests
from vern.jobs.services import job_enqueue_once
from vern.lib.keys import email_index, phone_index
from vern.lib.normalise import normalise_email, normalise_phone
from vern.lib.ratelimit import Limit, hit
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.registry import surface

log = logging.getLogger(__name__)
# The legal basis of each kind (policy §4): a demo booking is a step the person asks for
# before a possible agreement (b); any other enquiry rests on legitimate interest (f).
BASIS = {Enquiry.Kind.CONTACT: "f", Enquiry.Kind.DEMO: "b"}
PER_NETWORK = Limit("enquiry-network", limit=10, window_seconds=3600)
# An enquiry is not confirmed from the mailbox, so anyone can type anyone's address: a limit per
# address would let them shut its owner out. The address only caps the acknowledgements it is
# sent; past the cap an enquiry is still taken and sales still told, without another mail.
ACKNOWLEDGEMENTS_PER_ADDRESS = Limit("enquiry-acknowledgements", limit=5, window_seconds=24 * 3600)


class EnquiryRefused(ValueError):
    """The enquiry cannot be taken; ``code`` picks the visitor's message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "unpublished", "basis", "throttled", "not_customer", "already_ended"


@dataclass(frozen=True)
class Intake:
    """What a person gave us, already checked and normalised by the form."""

    name: str
    email: str
    phone: str
    organisation: str
    message: str = ""
    preferred_date: dt.date | None = None
    preferred_time: str = ""


@dataclass(frozen=True)
class Received:
    enquiry: Enquiry
    created: bool  # False when the same form was sent again


def _allowed_basis(declaration: Declaration, kind: str) -> str:
    """The basis for this kind, if the declared purpose allows it (P5); refused otherwise."""
    basis = BASIS[Enquiry.Kind(kind)]
    purpose = declaration.purpose(PURPOSE)
    if purpose is None or basis not in purpose.legal_bases:
        raise EnquiryRefused("basis")
    return basis


def _subject_key(enquiry: Enquiry) -> str:
    return enquiry.email_index or enquiry.phone_index


def _audit(action: AuditEvent, enquiry: Enquiry, *, actor: Actor, data: dict[str, object] | None = None) -> None:
    """The audit row of a look at or a change to an enquiry, naming the person by blind index."""
    audit_record(
        action=action,
        actor=actor,
        object_type="enquiry",
        object_id=enquiry.pk,
        subject_key=_subject_key(enquiry),
        data=data,
    )


def enquiry_audit(action: AuditEvent, enquiry: Enquiry, *, actor: Actor, data: dict[str, object] | None = None) -> None:
    """The same audit row, for the app's other modules (registering as a rights request, downloads)."""
    _audit(action, enquiry, actor=actor, data=data)


def _store(
    *,
    kind: str,
    channel: str,
    intake: Intake,
    language: str,
    basis: str,
    version: PolicyVersion,
    received_at: dt.datetime,
    submission_key: str | None,
    registered_by: User | None,
    owner: User | None,
) -> Enquiry:
    enquiry = Enquiry.objects.create(
        kind=kind,
        channel=channel,
        name=intake.name,
        email=intake.email,
        email_index=email_index(intake.email) if intake.email else "",
        phone=intake.phone,
        phone_index=phone_index(intake.phone) if intake.phone else "",
        organisation=intake.organisation,
        message=intake.message,
        preferred_date=intake.preferred_date,
        preferred_time=intake.preferred_time,
        language=language,
        purpose=PURPOSE,
        legal_basis=basis,
        policy_version=version.number,
        received_at=received_at,
        last_contact_at=received_at,
        registered_by=registered_by,
        owner=owner,
        submission_key=submission_key,
    )
    SearchTerm.objects.bulk_create(
        SearchTerm(enquiry=enquiry, digest=term) for term in sorted(enquiry_digests(enquiry))
    )
    return enquiry


def _acknowledge(enquiry: Enquiry, declaration: Declaration) -> None:
    emails.enquiry_received(
        to=enquiry.email,
        language=enquiry.language,
        kind=enquiry.kind,
        name=enquiry.name,
        basis=enquiry.legal_basis,
        controller=declaration.controller.name,
        contact_email=declaration.controller.email,
        retention=retention_body(rule, enquiry.language) if (rule := declaration.rule("enquiries")) else "",
        policy_link=_public_link("declaration:policy", enquiry.language),
        rights_link=_public_link("rights:center", enquiry.language),
    )


def _public_link(name: str, language: str, **kwargs: object) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs=kwargs or None)


def assignment_rule_owner() -> User | None:
    """The staff member new enquiries are given to (``VERN_ENQUIRY_OWNER``), if that account works enquiries."""
    address = settings.VERN_ENQUIRY_OWNER
    if not address:
        return None
    owner = User.objects.filter(email=address, is_active=True).first()
    if owner is None or not owner.can(Capability.WORK_ENQUIRIES):
        # The address is not logged: it names a person.
        log.warning("VERN_ENQUIRY_OWNER names no active staff account that works enquiries; the enquiry is unassigned")
        return None
    return owner


def notification_recipients(owner: User | None = None) -> list[tuple[str, str]]:
    """(address, language) of whoever hears of a new enquiry: its owner when the assignment rule
    gave it one, else the addresses of ``VERN_ENQUIRY_NOTIFY``, else every active holder of the sales role."""
    if owner is not None:
        return [(owner.email, owner.language)]
    if settings.VERN_ENQUIRY_NOTIFY:
        return [(address, settings.LANGUAGE_CODE) for address in settings.VERN_ENQUIRY_NOTIFY]
    staff = User.objects.filter(
        is_active=True, pk__in=RoleGrant.objects.filter(role=Role.SALES).values("user_id")
    ).order_by("pk")
    return [(user.email, user.language) for user in staff]


def _notify(enquiry: Enquiry) -> None:
    """Tell staff that an enquiry came. The mail is written to the outbox in the transaction that
    stores the enquiry, so it goes only once the enquiry is committed; it carries nothing of the
    person (no name, address or message), only a link to the enquiry's page in the console."""
    recipients = notification_recipients(enquiry.owner)
    if not recipients:
        log.warning(
            "enquiry %s came in and no one is told: give a staff member the sales role or set VERN_ENQUIRY_NOTIFY",
            enquiry.pk,
        )
    for address, language in recipients:
        emails.enquiry_notification(
            to=address,
            language=language,
            kind=enquiry.kind,
            link=_public_link("enquiries_staff:detail", language, pk=enquiry.pk),
            reason="yours" if enquiry.owner_id is not None else "new",
            about=enquiry.email,
        )


def enquiry_submit(
    *,
    kind: str,
    channel: str,
    intake: Intake,
    language: str,
    submission_key: str,
    network: str,
) -> Received:
    """Take an enquiry from a form (this site's or another's), acknowledge it and tell sales.

    Sending the same form twice gives back the first enquiry. Limits: ten enquiries an
    hour from one network (shortened IP); five acknowledgements a day to one email address.
    """
    version = latest_version()
    if version is None:
        raise EnquiryRefused("unpublished")
    declaration = declaration_of(version)
    basis = _allowed_basis(declaration, kind)
    earlier = Enquiry.objects.filter(submission_key=submission_key).first()
    if earlier is not None:
        return Received(earlier, created=False)
    network, address = network or "unknown", email_index(intake.email)
    try:
        with transaction.atomic():
            # Counted in the step that admits it; on the database store, a refused, repeated or
            # failed form rolls its count back with everything else, so it costs the visitor nothing.
            if not hit(PER_NETWORK, network):
                raise EnquiryRefused("throttled")
            enquiry = _store(
                kind=kind,
                channel=channel,
                intake=intake,
                language=language,
                basis=basis,
                version=version,
                received_at=timezone.now(),
                submission_key=submission_key,
                registered_by=None,
                owner=assignment_rule_owner(),
            )
            _audit(
                AuditEvent.ENQUIRY_RECEIVED,
                enquiry,
                actor=Actor.visitor(),
                data={"kind": kind, "channel": channel, "basis": basis, "policy_version": version.number},
            )
            if hit(ACKNOWLEDGEMENTS_PER_ADDRESS, address):
                _acknowledge(enquiry, declaration)
            else:
                log.info("enquiry %s is not acknowledged: its address had enough mail today", enquiry.pk)
            _notify(enquiry)
    except IntegrityError:
        # The same form, sent twice at the same moment: the other request stored it.
        earlier = Enquiry.objects.filter(submission_key=submission_key).first()
        if earlier is None:
            raise
        return Received(earlier, created=False)
    return Received(enquiry, created=True)


def _version_at(moment: dt.datetime) -> PolicyVersion | None:
    """The version in force at ``moment``; for an enquiry older than vern's first, that first one."""
    versions = PolicyVersion.objects.defer("source", "content")
    return versions.filter(published_at__lte=moment).order_by("-number").first() or versions.order_by("number").first()


@transaction.atomic
def enquiry_register(
    *,
    staff: User,
    kind: str,
    channel: str,
    received_at: dt.datetime,
    intake: Intake,
    language: str,
    acknowledge: bool,
    submission_key: str | None = None,
) -> Enquiry:
    """An enquiry that came by email or telephone, entered by staff (P3).

    The record names the policy the person was given: the current one when the
    acknowledgement (which carries the notice) goes out now, else the one in force when
    the enquiry came. The same form sent twice registers one enquiry.
    """
    if channel not in (Enquiry.Channel.EMAIL, Enquiry.Channel.PHONE):
        raise ValueError(f"staff register enquiries that came by email or phone, not {channel!r}")
    if submission_key is not None:
        earlier = Enquiry.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            return earlier
    acknowledging = acknowledge and bool(intake.email)
    version = latest_version() if acknowledging else _version_at(received_at)
    if version is None:
        raise EnquiryRefused("unpublished")
    declaration = declaration_of(version)
    basis = _allowed_basis(declaration, kind)
    enquiry = _store(
        kind=kind,
        channel=channel,
        intake=intake,
        language=language,
        basis=basis,
        version=version,
        received_at=received_at,
        submission_key=submission_key,
        registered_by=staff,
        owner=staff,  # whoever took the call or the mail answers it, unless they give it on
    )
    _audit(
        AuditEvent.ENQUIRY_REGISTERED,
        enquiry,
        actor=Actor.staff(staff),
        data={"kind": kind, "channel": channel, "basis": basis, "policy_version": version.number},
    )
    if acknowledging:
        _acknowledge(enquiry, declaration)
    return enquiry


def enquiry_from_mail(*, intake: Intake, received_at: dt.datetime) -> Enquiry:
    """An email to the support mailbox that starts a new enquiry (channel "email"), in the caller's
    transaction. It is acknowledged with the privacy notice like a form (at most five a day to one
    address) and sales are told, as for a form."""
    version = latest_version()
    if version is None:
        raise EnquiryRefused("unpublished")
    declaration = declaration_of(version)
    basis = _allowed_basis(declaration, Enquiry.Kind.CONTACT)
    enquiry = _store(
        kind=Enquiry.Kind.CONTACT,
        channel=Enquiry.Channel.EMAIL,
        intake=intake,
        language=settings.LANGUAGE_CODE,
        basis=basis,
        version=version,
        received_at=received_at,
        submission_key=None,
        registered_by=None,
        owner=assignment_rule_owner(),
    )
    _audit(
        AuditEvent.ENQUIRY_RECEIVED,
        enquiry,
        actor=Actor.system(),
        data={"kind": enquiry.kind, "channel": enquiry.channel, "basis": basis, "policy_version": version.number},
    )
    if hit(ACKNOWLEDGEMENTS_PER_ADDRESS, email_index(intake.email)):
        _acknowledge(enquiry, declaration)
    _notify(enquiry)
    return enquiry


def enquiry_mail_contact(*, enquiry: Enquiry, happened_at: dt.datetime, subject: str, text: str) -> ContactLog:
    """The person wrote again (an answer in the same thread): a contact that starts the retention
    clock again (P11) and opens the enquiry again, in the caller's transaction."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    entry = ContactLog.objects.create(
        enquiry=locked, kind=ContactLog.Kind.EMAIL, happened_at=happened_at, subject=subject, note=text, staff=None
    )
    changes = _contact_made(locked, happened_at)
    if locked.state != Enquiry.State.OPEN:
        locked.state = Enquiry.State.OPEN
        changes.append("state")
    if changes:
        locked.save(update_fields=changes)
    _audit(
        AuditEvent.ENQUIRY_CONTACT_LOGGED,
        locked,
        actor=Actor.system(),
        data={
            "kind": ContactLog.Kind.EMAIL,
            "happened_at": happened_at.isoformat(),
            "clock_moved": "last_contact_at" in changes,
        },
    )
    return entry


def enquiry_viewed(*, staff: User, enquiry: Enquiry) -> None:
    _audit(AuditEvent.ENQUIRY_VIEWED, enquiry, actor=Actor.staff(staff))


def inbox_viewed(*, staff: User, shown: list[int], status: str, searched: bool) -> None:
    """The list shows names and addresses, so looking at it is recorded too (which rows, not the search)."""
    audit_record(
        action=AuditEvent.ENQUIRY_LIST_VIEWED,
        actor=Actor.staff(staff),
        object_type="enquiry",
        data={"shown": shown, "filter": status, "searched": searched},
    )


def _contact_made(locked: Enquiry, happened_at: dt.datetime) -> list[str]:
    """A contact with the person moves the retention clock to it, if it is the latest (P11), and a
    new enquiry is no longer new. Returns the fields it changed; the caller saves them."""
    changes = []
    if happened_at > locked.last_contact_at:
        locked.last_contact_at = happened_at
        changes.append("last_contact_at")
    if locked.status == Enquiry.Status.NEW:
        locked.status = Enquiry.Status.OPEN
        changes.append("status")
    return changes


@transaction.atomic
def enquiry_log_contact(*, staff: User, enquiry: Enquiry, kind: str, happened_at: dt.datetime, note: str) -> ContactLog:
    """A contact with the person: the retention clock starts again from the latest one (P11)."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    entry = ContactLog.objects.create(enquiry=locked, kind=kind, happened_at=happened_at, note=note, staff=staff)
    changes = _contact_made(locked, happened_at)
    if changes:
        locked.save(update_fields=changes)
    _audit(
        AuditEvent.ENQUIRY_CONTACT_LOGGED,
        locked,
        actor=Actor.staff(staff),
        data={"kind": kind, "happened_at": happened_at.isoformat(), "clock_moved": "last_contact_at" in changes},
    )
    return entry


def reply_subject(enquiry: Enquiry, controller: str) -> str:
    """The subject a reply starts with, in the language of the enquiry."""
    with translation.override(enquiry.language):
        if enquiry.kind == Enquiry.Kind.DEMO:
            return _("Your demo booking with %(controller)s") % {"controller": controller}
        return _("Your enquiry to %(controller)s") % {"controller": controller}


def _thread_headers(enquiry: Enquiry) -> tuple[str, str]:
    """In-Reply-To and References for a reply: the person's latest mail, after the thread's earlier
    ones (theirs and our replies), oldest first; ("", "") for an enquiry that did not come by mail."""
    theirs = list(MailboxMessage.objects.filter(enquiry=enquiry).order_by("received_at", "pk"))
    if not theirs:
        return "", ""
    ours = OutboxMessage.objects.filter(
        pk__in=ContactLog.objects.filter(enquiry=enquiry, mail__isnull=False).values("mail_id")
    ).values_list("created_at", "message_id")
    thread = sorted([(m.received_at, m.message_id) for m in theirs] + list(ours))
    ids = [message_id for _, message_id in thread if "@no-message-id.invalid" not in message_id]
    latest = theirs[-1].message_id
    if latest not in ids:
        return "", ""
    # RFC 5322 §3.6.4: the parent last; keep the header short (the first and the latest ones).
    earlier = list(dict.fromkeys(i for i in ids if i != latest))
    earlier = earlier[:1] + earlier[1:][-8:] if len(earlier) > 9 else earlier
    return latest, " ".join([*earlier, latest])


@transaction.atomic
def enquiry_reply(*, staff: User, enquiry: Enquiry, subject: str, body: str, reply_key: str) -> ContactLog:
    """Answer the person by email from the console, in the language of the form they used.

    The mail goes through the outbox, written in this transaction. The reply is a contact: it
    is kept in the enquiry's history, starts the retention clock again (P11), marks the enquiry
    answered, and gives it to whoever answered if nobody had it. The same form sent twice (a
    retry, a double click: the same ``reply_key``) sends one mail and records one reply.
    """
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    earlier = ContactLog.objects.filter(reply_key=reply_key).first()
    if earlier is not None:
        return earlier
    if not locked.email:
        raise EnquiryRefused("no_email")
    if surface.is_restricted({"email": locked.email_index, "phone": locked.phone_index}):
        raise EnquiryRefused("restricted")
    version = latest_version()
    controller = declaration_of(version).controller if version is not None else None
    now = timezone.now()
    in_reply_to, references = _thread_headers(locked)
    mail = emails.enquiry_reply(
        to=locked.email,
        language=locked.language,
        subject=subject,
        body=body,
        staff_name=staff.name,
        controller=controller.name if controller is not None else "",
        contact_email=controller.email if controller is not None else "",
        received_at=locked.received_at,
        policy_link=_public_link("declaration:policy", locked.language),
        in_reply_to=in_reply_to,
        references=references,
    )
    entry = ContactLog.objects.create(
        enquiry=locked,
        kind=ContactLog.Kind.REPLY,
        happened_at=now,
        subject=subject,
        note=body,
        staff=staff,
        mail=mail,
        reply_key=reply_key,
    )
    changes = _contact_made(locked, now)
    was = locked.state
    locked.state = Enquiry.State.ANSWERED
    changes.append("state")
    took = locked.owner_id is None
    if took:
        locked.owner = staff
        changes.append("owner")
    locked.save(update_fields=changes)
    _audit(
        AuditEvent.ENQUIRY_REPLIED,
        locked,
        actor=Actor.staff(staff),
        data={"contact": entry.pk, "mail": mail.pk, "language": locked.language, "was": was, "took_it": took},
    )
    return entry


# Where each state may go by hand; a reply makes any enquiry answered.
TRANSITIONS: dict[str, frozenset[str]] = {
    Enquiry.State.OPEN: frozenset({Enquiry.State.ANSWERED, Enquiry.State.CLOSED}),
    Enquiry.State.ANSWERED: frozenset({Enquiry.State.OPEN, Enquiry.State.CLOSED}),
    Enquiry.State.CLOSED: frozenset({Enquiry.State.OPEN}),
}


class NothingChanged(EnquiryRefused):
    """The enquiry already is as asked: nothing is done, nothing is audited."""


@transaction.atomic
def enquiry_set_state(*, staff: User, enquiry: Enquiry, state: str) -> Enquiry:
    """Mark the enquiry answered (answered another way than from the console), closed, or open again."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if locked.state == state:
        raise NothingChanged("same_state")
    if state not in TRANSITIONS.get(locked.state, frozenset()):
        raise EnquiryRefused("state")
    was = locked.state
    locked.state = state
    locked.save(update_fields=["state"])
    _audit(AuditEvent.ENQUIRY_STATE_CHANGED, locked, actor=Actor.staff(staff), data={"from": was, "to": state})
    return locked


@transaction.atomic
def enquiry_assign(*, staff: User, enquiry: Enquiry, owner: User | None) -> Enquiry:
    """Give the enquiry to a staff member who works enquiries (or to nobody); the new owner is
    told by a mail with only a link, unless they gave it to themselves."""
    if owner is not None and not owner.can(Capability.WORK_ENQUIRIES):
        raise EnquiryRefused("owner")
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if locked.owner_id == (owner.pk if owner is not None else None):
        raise NothingChanged("same_owner")
    was = locked.owner_id
    locked.owner = owner
    locked.save(update_fields=["owner"])
    _audit(
        AuditEvent.ENQUIRY_ASSIGNED,
        locked,
        actor=Actor.staff(staff),
        data={"from": was, "to": owner.pk if owner is not None else None},
    )
    if owner is not None and owner.pk != staff.pk:
        emails.enquiry_notification(
            to=owner.email,
            language=owner.language,
            kind=locked.kind,
            link=_public_link("enquiries_staff:detail", owner.language, pk=locked.pk),
            reason="yours",
            about=locked.email,
        )
    return locked


@transaction.atomic
def enquiry_mark_customer(*, staff: User, enquiry: Enquiry, note: str) -> Enquiry:
    """The enquiry led to a customer relationship (or a former customer came back): it follows
    the customer rule, kept while the relationship lasts."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if locked.status == Enquiry.Status.CUSTOMER and locked.relationship_ended_at is None:
        return locked
    again = locked.status == Enquiry.Status.CUSTOMER
    locked.status = Enquiry.Status.CUSTOMER
    locked.became_customer_at = timezone.now()
    locked.customer_note = note
    locked.relationship_ended_at = None
    locked.save(update_fields=["status", "became_customer_at", "customer_note", "relationship_ended_at"])
    _audit(
        AuditEvent.ENQUIRY_BECAME_CUSTOMER,
        locked,
        actor=Actor.staff(staff),
        data={"retention_rule": "customers", "again": again},
    )
    return locked


@transaction.atomic
def enquiry_end_relationship(*, staff: User, enquiry: Enquiry, ended_at: dt.datetime) -> Enquiry:
    """The customer relationship ended: the customer rule's clock starts."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    if locked.status != Enquiry.Status.CUSTOMER:
        raise EnquiryRefused("not_customer")
    # Recorded once: moving the date afterwards would move the deletion date with it.
    if locked.relationship_ended_at is not None:
        raise EnquiryRefused("already_ended")
    if locked.became_customer_at is not None and ended_at < locked.became_customer_at:
        ended_at = locked.became_customer_at
    locked.relationship_ended_at = ended_at
    locked.save(update_fields=["relationship_ended_at"])
    _audit(
        AuditEvent.ENQUIRY_RELATIONSHIP_ENDED, locked, actor=Actor.staff(staff), data={"ended_at": ended_at.isoformat()}
    )
    return locked


@transaction.atomic
def enquiry_delete(*, staff: User, enquiry: Enquiry, reason: str) -> None:
    """Delete the enquiry with its contact log (and its mails in the mailbox); the audit row keeps
    the reason, not the content."""
    _audit(AuditEvent.ENQUIRY_DELETED, enquiry, actor=Actor.staff(staff), data={"kind": enquiry.kind, "reason": reason})
    mailbox_forget(Enquiry.objects.filter(pk=enquiry.pk))
    enquiry.delete()


MAILBOX_DELETE_JOB = "enquiries.mailbox_delete"


def mailbox_forget(enquiries: QuerySet[Enquiry]) -> None:
    """The mails of these enquiries are to be deleted from the mailbox too (the surface's
    ``on_removal``, called before a sweep or an erasure removes them, and by ``enquiry_delete``).

    Only rows, in the caller's transaction, so they exist exactly when the enquiries are gone;
    the job ``enquiries.mailbox_delete`` talks to the server, and retries until it is done."""
    ids = list(MailboxMessage.objects.filter(enquiry__in=enquiries.values("pk")).values_list("message_id", flat=True))
    if not ids:
        return
    MailboxDeletion.objects.bulk_create(MailboxDeletion(message_id=message_id) for message_id in ids)
    job_enqueue_once(MAILBOX_DELETE_JOB, key=MAILBOX_DELETE_JOB)


def enquiry_rectify(enquiry: Enquiry, field: str, value: str) -> None:
    """Correct one field of an enquiry on the person's request (Art. 16), keeping its indexes true.

    The registry calls this (``rectify`` in the app's surface); the caller holds the transaction and writes
    the audit row. A corrected email or phone gets its blind index again, and a corrected name
    or organisation its search digests. Raises ValueError for a value the field cannot take.
    """
    value = value.strip()
    updates = [field]
    if field == "email":
        value = normalise_email(value) if value else ""
        enquiry.email_index = email_index(value) if value else ""
        updates.append("email_index")
    elif field == "phone":
        value = normalise_phone(value) if value else ""
        enquiry.phone_index = phone_index(value) if value else ""
        updates.append("phone_index")
    elif field in ("name", "organisation") and not value:
        raise ValueError(f"{field} cannot be empty")
    setattr(enquiry, field, value)
    if not (enquiry.email_index or enquiry.phone_index):
        raise ValueError("an enquiry needs an email address or a phone number")
    enquiry.save(update_fields=updates)
    if field in ("name", "organisation", "email"):
        SearchTerm.objects.filter(enquiry=enquiry).delete()
        SearchTerm.objects.bulk_create(
            SearchTerm(enquiry=enquiry, digest=term) for term in sorted(enquiry_digests(enquiry))
        )
