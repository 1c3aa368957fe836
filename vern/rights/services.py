"""Rights requests: intake, confirmation, the workflow's guarded steps, deadlines and reminders.

Every step checks the status it starts from (``TRANSITIONS``), writes a timeline
event and an audit row in the same transaction, and queues its mail in that
transaction too, so that a step that rolls back sends nothing. Audit rows name
the person by ``subject_key`` (a blind index), never by address.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from vern.accounts.models import RoleGrant, User
from vern.accounts.roles import Role
from vern.audit.services import Actor, audit_record
from vern.declaration.schema import Declaration
from vern.declaration.selectors import localise, published_declaration
from vern.lib import ratelimit
from vern.lib.ip import shorten_ip
from vern.lib.keys import digest, email_index, phone_index
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone
from vern.mail import emails
from vern.registry import surface
from vern.registry.entries import Entry, entries
from vern.rights import deadlines
from vern.rights.models import (
    OPEN_STATUSES,
    Download,
    Event,
    Request,
    Restriction,
    Right,
    Suppression,
    Tombstone,
)

log = logging.getLogger(__name__)

CONFIRM_HOURS = 72
TOKEN_BYTES = 32  # 256 bits (LAW.md §3: at least 128)
# Per shortened IP and per address; the same for every address, known or not.
LIMIT_PER_NETWORK = ratelimit.Limit("rights:network", 10, 3600)
LIMIT_PER_ADDRESS = ratelimit.Limit("rights:address", 3, 24 * 3600)
MAX_DETAILS = 5000

S = Request.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_CONFIRMATION: frozenset({S.CONFIRMED, S.LAPSED}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.EXTENDED, S.ANSWERED, S.REFUSED}),
    S.IN_PROGRESS: frozenset({S.EXTENDED, S.ANSWERED, S.REFUSED}),
    S.EXTENDED: frozenset({S.ANSWERED, S.REFUSED}),
    S.LAPSED: frozenset(),
    S.ANSWERED: frozenset(),
    S.REFUSED: frozenset(),
}
# What a privacy officer can do to a request that stays open; none of these changes the status.
WHILE_OPEN = frozenset(OPEN_STATUSES)


class RequestRefused(ValueError):
    """A step cannot be taken; ``code`` names why, for a message in the reader's language."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


def reference_of(request: Request) -> str:
    """How the request is named in mail and on screen: a number, nothing about the person."""
    return f"R-{request.pk}"


def _token_hash(token: str) -> str:
    return digest(token, purpose="rights:link")


def new_token() -> tuple[str, str]:
    """A random single-use token, and the keyed hash that is all the database keeps of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, _token_hash(token)


def token_hash(token: str) -> str:
    return _token_hash(token)


def public_link(name: str, language: str, **kwargs: object) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs=kwargs or None)


def _declaration() -> Declaration:
    declaration = published_declaration()
    if declaration is None:
        raise RequestRefused("unpublished", "no privacy policy is published yet")
    return declaration


def authority_of(declaration: Declaration, language: str) -> dict[str, str]:
    """The supervisory authority, as the mail templates need it (P17)."""
    authority = declaration.authority
    return {
        "name": str(localise(authority.name, language)),
        "address": str(localise(authority.address, language)),
        "email": str(authority.email),
        "website": str(authority.website),
        "complaint_text": str(localise(authority.complaint_text, language)),
    }


def _event(request: Request, kind: str, *, actor: User | None = None, note: str = "", **data: Any) -> Event:
    return Event.objects.create(request=request, kind=kind, actor=actor, note=note, data=data)


def _audit(request: Request, action: str, actor: Actor, **data: Any) -> None:
    audit_record(
        action=f"rights.{action}",
        actor=actor,
        object_type="rights.request",
        object_id=request.pk,
        subject_key=request.subject_key,
        data=data,
    )


def erased(request: Request) -> bool:
    """The person's data has been erased, by this request or by another of theirs while this one
    was open: mail to them keeps nothing once sent, and the request forgets the address when it
    closes (P23)."""
    if Right.ERASURE in request.done:
        return True
    keys = [request.email_index, request.phone_index if request.phone_verified else ""]
    return Tombstone.objects.filter(
        kind__in=(Tombstone.Kind.EMAIL, Tombstone.Kind.PHONE),
        key__in=[key for key in keys if key],
        erased_at__gte=request.received_at,
    ).exists()


def _move(request: Request, to: str) -> None:
    if to not in TRANSITIONS[request.status]:
        raise RequestRefused("status", f"a request that is {request.status} cannot become {to}")
    request.status = to


def _locked(request: Request) -> Request:
    """The request again, locked for this transaction, so two clicks cannot both act on it."""
    return Request.objects.select_for_update().get(pk=request.pk)


def _clean_rights(rights: Iterable[str]) -> list[str]:
    chosen = [right for right in Right.values if right in set(rights)]
    if not chosen or len(chosen) != len(set(rights)):
        raise RequestRefused("rights", "choose at least one of the rights")
    return chosen


def _keys(email: str, phone: str) -> tuple[str, str, str, str]:
    """Normalised email and phone with their blind indexes; raises RequestRefused for a bad one."""
    email, phone = email.strip(), phone.strip()
    if not email and not phone:
        raise RequestRefused("contact", "an email address or a phone number is needed")
    try:
        address = normalise_email(email) if email else ""
    except InvalidIdentifier:
        raise RequestRefused("email", "the email address is not valid") from None
    try:
        number = normalise_phone(phone) if phone else ""
    except InvalidIdentifier:
        raise RequestRefused("phone", "the phone number is not valid") from None
    return (
        address,
        email_index(address) if address else "",
        number,
        phone_index(number) if number else "",
    )


def request_submit(
    *,
    rights: Sequence[str],
    email: str,
    phone: str = "",
    details: str = "",
    language: str,
    consent_id: str = "",
    ip: str = "",
    marketing_objection: bool = False,
) -> Request:
    """A request from the privacy center: stored unconfirmed, and a link sent to the address.

    Nothing here looks at the person's data, so the answer and its timing are the same
    whether or not the company holds any (LAW.md §3). The link goes only to the address
    given; the request counts from now (R11) but nothing is done until it is confirmed.
    """
    chosen = _clean_rights(rights)
    if not email.strip():
        raise RequestRefused("email_required", "the privacy center needs an email address to send the link to")
    if len(details) > MAX_DETAILS:
        raise RequestRefused("details", "the details are too long")
    address, address_index, number, number_index = _keys(email, phone)
    declaration = _declaration()
    network = shorten_ip(ip) if ip else "unknown"
    if not ratelimit.allowed(LIMIT_PER_NETWORK, network) or not ratelimit.allowed(LIMIT_PER_ADDRESS, address_index):
        raise RequestRefused("rate", "too many requests; try again later")
    ratelimit.hit(LIMIT_PER_NETWORK, network)
    ratelimit.hit(LIMIT_PER_ADDRESS, address_index)
    token, hashed = new_token()
    now = timezone.now()
    with transaction.atomic():
        request = Request.objects.create(
            rights=chosen,
            channel=Request.Channel.FORM,
            status=S.AWAITING_CONFIRMATION,
            language=language,
            email=address,
            email_index=address_index,
            phone=number,
            phone_index=number_index,
            consent_id=consent_id if len(consent_id) == 32 else "",
            details=details.strip(),
            marketing_objection=marketing_objection and Right.OBJECTION in chosen,
            received_at=now,
            due_on=deadlines.due_on(now, response_days=declaration.rights.response_days),
            token_hash=hashed,
            token_expires_at=now + dt.timedelta(hours=CONFIRM_HOURS),
        )
        _event(request, "received", channel=request.channel, rights=chosen)
        _audit(request, "received", Actor.visitor(), rights=chosen, channel=request.channel)
        emails.rights_confirm(
            to=address,
            language=language,
            link=public_link("rights:confirm", language, token=token),
            expires_hours=CONFIRM_HOURS,
        )
        _event(request, "confirmation_sent")
    return request


def request_register(
    *,
    staff: User,
    rights: Sequence[str],
    channel: str,
    received_at: dt.datetime,
    email: str = "",
    phone: str = "",
    details: str = "",
    language: str = "nb",
    identity_checked: bool = False,
    marketing_objection: bool = False,
    nonce: str = "",
) -> Request:
    """A request that came by email, phone, letter or in person, registered by staff (P16).

    Its clock starts when it was received, not when it was typed in. If staff have checked
    who the person is (an email from the address on file, a call back to the number on
    file), it is confirmed at once; otherwise a confirmation link goes to the email given.
    The form's ``nonce`` makes a second submission of the same form return the first request.
    """
    submission_key = digest(nonce, purpose="rights:register") if nonce else None
    if submission_key is not None:
        earlier = Request.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            return earlier
    chosen = _clean_rights(rights)
    if channel not in Request.Channel.values or channel == Request.Channel.FORM:
        raise RequestRefused("channel", "choose how the request arrived")
    now = timezone.now()
    if received_at > now + dt.timedelta(minutes=5):
        raise RequestRefused("future", "a request cannot be received in the future")
    if received_at < now - dt.timedelta(days=365):
        raise RequestRefused("past", "the date received is more than a year ago")
    address, address_index, number, number_index = _keys(email, phone)
    if not identity_checked and not address:
        raise RequestRefused("unverifiable", "without an email address, check the person's identity yourself")
    declaration = _declaration()
    try:
        return _register(
            staff=staff,
            chosen=chosen,
            channel=channel,
            received_at=received_at,
            contact=(address, address_index, number, number_index),
            details=details,
            language=language,
            identity_checked=identity_checked,
            marketing_objection=marketing_objection,
            submission_key=submission_key,
            declaration=declaration,
        )
    except IntegrityError:
        # Two submissions of the same form at once: the other one registered it.
        earlier = Request.objects.filter(submission_key=submission_key).first() if submission_key else None
        if earlier is None:
            raise
        return earlier


def _register(
    *,
    staff: User,
    chosen: list[str],
    channel: str,
    received_at: dt.datetime,
    contact: tuple[str, str, str, str],
    details: str,
    language: str,
    identity_checked: bool,
    marketing_objection: bool,
    submission_key: str | None,
    declaration: Declaration,
) -> Request:
    address, address_index, number, number_index = contact
    now = timezone.now()
    token, hashed = new_token()
    with transaction.atomic():
        request = Request.objects.create(
            rights=chosen,
            channel=channel,
            status=S.CONFIRMED if identity_checked else S.AWAITING_CONFIRMATION,
            language=language,
            email=address,
            email_index=address_index,
            phone=number,
            phone_index=number_index,
            phone_verified=identity_checked and bool(number),
            details=details.strip(),
            marketing_objection=marketing_objection and Right.OBJECTION in chosen,
            received_at=received_at,
            verified_at=now if identity_checked else None,
            due_on=deadlines.due_on(received_at, response_days=declaration.rights.response_days),
            registered_by=staff,
            assigned_to=staff,
            submission_key=submission_key,
            token_hash=None if identity_checked else hashed,
            token_expires_at=None if identity_checked else now + dt.timedelta(hours=CONFIRM_HOURS),
        )
        _event(request, "received", actor=staff, channel=channel, rights=chosen)
        _audit(request, "registered", Actor.staff(staff), rights=chosen, channel=channel)
        if identity_checked:
            _event(request, "confirmed", actor=staff, how="staff")
            _on_confirmed(request, Actor.staff(staff), staff)
        else:
            emails.rights_confirm(
                to=address,
                language=language,
                link=public_link("rights:confirm", language, token=token),
                expires_hours=CONFIRM_HOURS,
            )
            _event(request, "confirmation_sent", actor=staff)
    return request


def request_confirm(*, token: str) -> Request:
    """The person followed the link: the request is confirmed, and what can be done at once is done.

    Raises RequestRefused with "invalid" (forged, or never issued), "used" (already
    confirmed) or "expired" (after 72 hours: the request has lapsed).
    """
    if not token or len(token) > 100:
        raise RequestRefused("invalid")
    hashed = _token_hash(token)
    with transaction.atomic():
        request = Request.objects.select_for_update().filter(token_hash=hashed).first()
        if request is None:
            raise RequestRefused("invalid")
        if request.status == S.LAPSED:
            raise RequestRefused("expired")
        if request.status != S.AWAITING_CONFIRMATION:
            raise RequestRefused("used")
        now = timezone.now()
        if request.token_expires_at is None or request.token_expires_at <= now:
            _lapse(request)
        else:
            _move(request, S.CONFIRMED)
            request.verified_at = now
            request.save(update_fields=["status", "verified_at"])
            _event(request, "confirmed", how="link")
            _audit(request, "confirmed", Actor.visitor())
            _on_confirmed(request, Actor.visitor(), None)
            return request
    raise RequestRefused("expired")


def _lapse(request: Request) -> None:
    """Never confirmed: whoever typed the address may not own it, so only its keyed index stays
    (as the record that a request came and lapsed), not the address, phone or text (Recital 64)."""
    _move(request, S.LAPSED)
    now = timezone.now()
    request.closed_at = now
    request.email = request.phone = request.details = ""
    request.contact_erased_at = now
    request.save(update_fields=["status", "closed_at", "email", "phone", "details", "contact_erased_at"])
    _event(request, "lapsed")
    _audit(request, "lapsed", Actor.system())


def requests_lapse(now: dt.datetime | None = None) -> int:
    """Requests whose confirmation never came lapse, and the lapse is recorded; returns how many."""
    now = now or timezone.now()
    lapsed = 0
    due = Request.objects.filter(status=S.AWAITING_CONFIRMATION, token_expires_at__lte=now).values_list("pk", flat=True)
    for pk in list(due[:1000]):
        with transaction.atomic():
            request = Request.objects.select_for_update().get(pk=pk)
            if request.status == S.AWAITING_CONFIRMATION:
                _lapse(request)
                lapsed += 1
    return lapsed


def _on_confirmed(request: Request, actor: Actor, staff: User | None) -> None:
    """What needs no one's judgement is done as soon as the person is known (in the caller's transaction).

    - access and portability: a single-use download link goes to the person;
    - withdrawal of consent: every consent found by their keys is withdrawn;
    - restriction: processing is restricted at once, before anything else is looked at;
    - an objection to direct marketing: the address is suppressed (Art. 21(3) is absolute).
    Rectification, erasure and other objections wait for a privacy officer.
    """
    from vern.rights import packages  # the package builder walks every registered model

    if Right.RESTRICTION in request.rights:
        restriction_start(request, actor=actor, staff=staff)
    if Right.WITHDRAW_CONSENT in request.rights:
        consents_withdraw(request, actor=actor, staff=staff)
    if Right.OBJECTION in request.rights and request.marketing_objection:
        marketing_suppress(request, actor=actor, staff=staff)
    for right in (Right.ACCESS, Right.PORTABILITY):
        if right in request.rights and request.email:
            packages.download_offer(request, kind=right, actor=actor, staff=staff)


def mark_done(request: Request, right: str, *, actor: Actor, staff: User | None, **data: Any) -> None:
    """One right of the request is fulfilled; the timeline and the audit log say how."""
    if right not in request.rights:
        raise RequestRefused("right", f"the request does not ask for {right}")
    if right not in request.done:
        request.done = [*request.done, right]
        request.save(update_fields=["done"])
    _event(request, f"done_{right}", actor=staff, **data)
    _audit(request, "fulfilled", actor, right=right, **data)


def _restriction_keys(request: Request) -> list[str]:
    """Every key the person has proven: the email, and the phone once verified."""
    keys = [request.email_index]
    if request.phone_index and (request.phone_verified or not request.email_index):
        keys.append(request.phone_index)
    return [key for key in keys if key]


def _restrict(request: Request) -> Restriction | None:
    """An active restriction on each of the person's proven keys; the first one is returned."""
    first = None
    for key in _restriction_keys(request):
        restriction = Restriction.objects.filter(subject_key=key, lifted_at__isnull=True).first()
        restriction = restriction or Restriction.objects.create(subject_key=key, request=request)
        first = first or restriction
    return first


def restriction_start(request: Request, *, actor: Actor, staff: User | None) -> Restriction | None:
    restriction = _restrict(request)
    mark_done(request, Right.RESTRICTION, actor=actor, staff=staff)
    return restriction


def restriction_schedule_lift(*, restriction: Restriction, staff: User, lift_on: dt.date) -> Restriction:
    """Tell the person the restriction ends on ``lift_on`` (Art. 18(3)); it ends then, not before."""
    today = deadlines.local_day(timezone.now())
    if lift_on <= today:
        raise RequestRefused("lift_date", "the person must be told before: choose a later day")
    with transaction.atomic():
        restriction = Restriction.objects.select_for_update().get(pk=restriction.pk)
        if restriction.lifted_at is not None:
            raise RequestRefused("lifted", "the restriction has already ended")
        request = restriction.request
        if request is None or not request.email:
            raise RequestRefused("no_address", "there is no address to tell the person at")
        # Every key of the same request ends together (email and verified phone).
        Restriction.objects.filter(request=request, lifted_at__isnull=True).update(
            lift_at=dt.datetime.combine(lift_on, dt.time(), tzinfo=deadlines.OSLO)
        )
        emails.rights_restriction_ending(
            to=request.email,
            language=request.language,
            reference=reference_of(request),
            lift_on=day_text(lift_on, request.language),
            ephemeral=erased(request),
        )
        _event(request, "restriction_lift_announced", actor=staff, lift_on=lift_on.isoformat())
        _audit(request, "restriction_lift_announced", Actor.staff(staff), lift_on=lift_on.isoformat())
    return restriction


def restrictions_lift_due(now: dt.datetime | None = None) -> int:
    """Restrictions whose announced end has come are lifted; returns how many."""
    now = now or timezone.now()
    count = 0
    for restriction in Restriction.objects.filter(lifted_at__isnull=True, lift_at__lte=now):
        with transaction.atomic():
            Restriction.objects.filter(pk=restriction.pk, lifted_at__isnull=True).update(lifted_at=now)
            audit_record(
                action="rights.restriction_lifted",
                actor=Actor.system(),
                object_type="rights.restriction",
                object_id=restriction.pk,
                subject_key=restriction.subject_key,
            )
            count += 1
    return count


def consents_withdraw(request: Request, *, actor: Actor, staff: User | None) -> int:
    """Withdraw every consent found by the request's keys (cookie consent by consent id, …)."""
    keys = {"email": request.email_index, "phone": request.phone_index if request.phone_verified else ""}
    if request.consent_id:
        keys["consent_id"] = request.consent_id
    withdrawn = surface.withdraw_consents({kind: key for kind, key in keys.items() if key})
    mark_done(request, Right.WITHDRAW_CONSENT, actor=actor, staff=staff, withdrawn=withdrawn)
    return withdrawn


def marketing_suppress(request: Request, *, actor: Actor, staff: User | None) -> None:
    """An objection to direct marketing: the address never gets marketing again (Art. 21(3))."""
    for key in (request.email_index, request.phone_index):
        if key:
            Suppression.objects.get_or_create(subject_key=key, defaults={"request": request})
    _event(request, "marketing_suppressed", actor=staff)
    _audit(request, "marketing_suppressed", actor)


def request_assign(*, request: Request, staff: User, assignee: User | None) -> Request:
    with transaction.atomic():
        request = _locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be assigned")
        request.assigned_to = assignee
        request.save(update_fields=["assigned_to"])
        _event(request, "assigned", actor=staff, to=assignee.pk if assignee else None)
        _audit(request, "assigned", Actor.staff(staff), to=assignee.pk if assignee else None)
    return request


def request_start(*, request: Request, staff: User) -> Request:
    with transaction.atomic():
        request = _locked(request)
        _move(request, S.IN_PROGRESS)
        if request.assigned_to is None:
            request.assigned_to = staff
        request.save(update_fields=["status", "assigned_to"])
        _event(request, "started", actor=staff)
        _audit(request, "started", Actor.staff(staff))
    return request


def request_note(*, request: Request, staff: User, note: str) -> Event:
    note = note.strip()
    if not note:
        raise RequestRefused("note", "write the note first")
    if len(note) > MAX_DETAILS:
        raise RequestRefused("details", "the note is too long")
    with transaction.atomic():
        event = _event(request, "note", actor=staff, note=note)
        _audit(request, "noted", Actor.staff(staff))
    return event


def phone_verify(*, request: Request, staff: User) -> Request:
    """Staff checked that the person holds the phone number given; records found by it now count."""
    with transaction.atomic():
        request = _locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be changed")
        if not request.phone_index:
            raise RequestRefused("no_phone", "the request gives no phone number")
        request.phone_verified = True
        request.save(update_fields=["phone_verified"])
        if Right.RESTRICTION in request.done:
            _restrict(request)  # the restriction now covers the phone's records too
        _event(request, "phone_verified", actor=staff)
        _audit(request, "phone_verified", Actor.staff(staff))
    return request


# "29. desember 2026", "29 December 2026": a date as people write it, not "Dec. 29, 2026".
DAY_FORMAT = {"nb": "j. F Y", "en": "j F Y"}


def day_text(day: dt.date, language: str) -> str:
    """A day in a text to the person, in their language."""
    with translation.override(language):
        return date_format(day, DAY_FORMAT[language])


def request_extend(*, request: Request, staff: User, until: dt.date, reason: str) -> Request:
    """Extend the deadline by up to two further months (Art. 12(3)), with reasons, before the due date.

    The person is told, with the reasons, in the same transaction; an extension after the
    original due date has passed, beyond two months, or without reasons is refused.
    """
    reason = reason.strip()
    if len(reason) < 20:
        raise RequestRefused("reason", "give the reasons for the extension; the person is told them")
    now = timezone.now()
    with transaction.atomic():
        request = _locked(request)
        if request.extended_to is not None:
            raise RequestRefused("extended", "the request has already been extended")
        if deadlines.local_day(now) > request.due_on:
            raise RequestRefused("too_late", "the due date has passed: an extension had to be announced before it")
        if until <= request.due_on or until > deadlines.latest_extension(request.due_on):
            raise RequestRefused("until", "an extension moves the due date by at most two months")
        if not request.email:
            raise RequestRefused("no_address", "there is no address to tell the person at")
        _move(request, S.EXTENDED)
        request.extended_to = until
        request.extension_reason = reason
        request.reminded = []  # the reminders count towards the new date
        request.save(update_fields=["status", "extended_to", "extension_reason", "reminded"])
        emails.rights_extended(
            to=request.email,
            language=request.language,
            reference=reference_of(request),
            due_on=day_text(request.due_on, request.language),
            extended_to=day_text(until, request.language),
            reason=reason,
            authority=authority_of(_declaration(), request.language),
            ephemeral=erased(request),
        )
        _event(request, "extended", actor=staff, note=reason, extended_to=until.isoformat())
        _audit(request, "extended", Actor.staff(staff), extended_to=until.isoformat())
    return request


def outcome_lines(request: Request) -> list[str]:
    """One line per right asked for, in the request's language, saying what was done."""
    from vern.rights.texts import outcome_text

    with translation.override(request.language):
        return [outcome_text(right, right in request.done) for right in request.rights]


def request_answer(*, request: Request, staff: User, message: str = "") -> Request:
    """Close the request as answered; the person gets what was done and the right to complain (P17)."""
    with transaction.atomic():
        request = _locked(request)
        _move(request, S.ANSWERED)
        request.closed_at = timezone.now()
        request.outcome = message.strip()
        request.save(update_fields=["status", "closed_at", "outcome"])
        if request.email:
            emails.rights_answered(
                to=request.email,
                language=request.language,
                reference=reference_of(request),
                outcomes=outcome_lines(request),
                message=request.outcome,
                authority=authority_of(_declaration(), request.language),
                ephemeral=erased(request),  # the outbox forgets the address once the answer is sent (P23)
            )
        _forget_if_erased(request)
        _event(request, "answered", actor=staff, note=request.outcome, done=request.done)
        _audit(request, "answered", Actor.staff(staff), done=request.done)
    return request


def request_refuse(*, request: Request, staff: User, ground: str, justification: str) -> Request:
    """Refuse the request with a ground and a written justification (Art. 12(5), R12); the person is told
    the reasons and the rights to complain to the authority and to go to court."""
    justification = justification.strip()
    if ground not in Request.Ground.values:
        raise RequestRefused("ground", "choose the ground for refusing")
    if len(justification) < 20:
        raise RequestRefused("justification", "a refusal needs a written justification")
    with transaction.atomic():
        request = _locked(request)
        _move(request, S.REFUSED)
        request.closed_at = timezone.now()
        request.refusal_ground = ground
        request.outcome = justification
        request.save(update_fields=["status", "closed_at", "refusal_ground", "outcome"])
        if request.email:
            with translation.override(request.language):
                ground_text = str(Request.Ground(ground).label)
            emails.rights_refused(
                to=request.email,
                language=request.language,
                reference=reference_of(request),
                ground=ground_text,
                justification=justification,
                authority=authority_of(_declaration(), request.language),
                ephemeral=erased(request),
            )
        # A refused request hands out nothing more: its unopened download links end now.
        Download.objects.filter(request=request, downloaded_at__isnull=True, expires_at__gt=request.closed_at).update(
            expires_at=request.closed_at
        )
        _forget_if_erased(request)
        _event(request, "refused", actor=staff, note=justification, ground=ground)
        _audit(request, "refused", Actor.staff(staff), ground=ground)
    return request


def _forget_if_erased(request: Request) -> None:
    """On closing a request whose erasure was carried out, its address, phone and text go too (P23)."""
    if erased(request):
        from vern.rights.erasure import forget_contact  # erasure builds on this module

        forget_contact(request)


def privacy_officers() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, pk__in=RoleGrant.objects.filter(role=Role.PRIVACY_OFFICER).values("user_id")
        ).order_by("pk")
    )


def reminders_send(now: dt.datetime | None = None) -> int:
    """Remind privacy officers of open requests due in 7 and in 2 days (R11); each reminder goes once."""
    now = now or timezone.now()
    officers = privacy_officers()
    sent = 0
    for request in Request.objects.filter(status__in=OPEN_STATUSES).order_by("due_on"):
        left = deadlines.days_left(request.deadline, now)
        for days in deadlines.REMINDER_DAYS:
            if left > days or days in request.reminded:
                continue
            # A reminder missed (the worker was down) still goes, once; the nearer one replaces it.
            if any(other < days and left <= other for other in deadlines.REMINDER_DAYS):
                continue
            with transaction.atomic():
                locked = _locked(request)
                if days in locked.reminded:
                    continue
                locked.reminded = [*locked.reminded, days]
                locked.save(update_fields=["reminded"])
                for officer in officers:
                    emails.rights_reminder(
                        to=officer.email,
                        language=officer.language,
                        reference=reference_of(locked),
                        days_left=left,
                        link=public_link("rights_staff:detail", officer.language, pk=locked.pk),
                    )
                _event(locked, "reminder", days_left=left)
                sent += 1
    return sent


# Fields that record how we process, not what the person told us or is: not theirs to correct.
PROCESSING_FIELDS = frozenset({"purpose", "legal_basis", "status", "kind", "channel", "language", "policy_version"})
# Records of what happened, not statements about the person: a copy of a mail as it was sent, and
# technical logs. Correcting them would falsify the record; a note on the request says what was wrong.
NOT_CORRECTED = frozenset({"mail.OutboxMessage", "analytics.Hit", "analytics.LogEvent"})


def rectifiable_fields(entry: Entry) -> list[str]:
    """The fields of a registered model a privacy officer may correct: exported plain text without
    fixed choices, other than the fields that describe our processing; none for records kept as
    evidence (``retain``) or records of what happened (``NOT_CORRECTED``)."""
    if entry.erasure == "retain" or entry.label in NOT_CORRECTED:
        return []
    found = []
    for name in entry.export:
        model_field = entry.model._meta.get_field(name)
        if name in PROCESSING_FIELDS or getattr(model_field, "choices", None):
            continue
        if isinstance(model_field, models.CharField | models.TextField):
            found.append(name)
    return found


def rectify(*, request: Request, staff: User, model_label: str, pk: str | int, field: str, value: str) -> list[str]:
    """Correct one field of one of the person's records (Art. 16); returns the recipients to tell (Art. 19).

    Only a record found by the request's own keys, and a field the model exports, can be
    corrected. The old and new values go into the request's timeline, encrypted; the audit
    row names the model and field only, since a value may be an address. A model whose
    indexes follow the field corrects itself (``rectify`` in its app's surface).
    """
    from vern.rights.selectors import person_keys, records_by_keys

    entry = next((item for item in entries() if item.label == model_label), None)
    if entry is None or field not in rectifiable_fields(entry):
        raise RequestRefused("field", "this field cannot be corrected here")
    if len(value) > MAX_DETAILS:
        raise RequestRefused("details", "the value is too long")
    declaration = _declaration()
    with transaction.atomic():
        request = _locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be acted on")
        if Right.RECTIFICATION not in request.rights:
            raise RequestRefused("right", "the request does not ask for rectification")
        found = next((f for f in records_by_keys(person_keys(request), counted=False) if f.entry == entry), None)
        record = found.records.select_for_update().filter(pk=pk).first() if found else None
        if record is None:
            raise RequestRefused("not_found", "no such record of this person")
        old = str(getattr(record, field) or "")
        try:
            if entry.rectify is not None:
                entry.rectify(record, field, value)
            else:
                setattr(record, field, value.strip())
                record.full_clean(validate_unique=False, validate_constraints=False)
                record.save(update_fields=[field])
        except (ValueError, InvalidIdentifier, ValidationError) as exc:
            raise RequestRefused("value", "the new value is not valid for this field") from exc
        purpose = declaration.purpose(entry.purpose)
        recipients = []
        if purpose is not None:
            for processor_id in purpose.recipients:
                processor = declaration.processor(processor_id)
                recipients.append(processor.name if processor is not None else processor_id)
        _event(
            request,
            "rectified",
            actor=staff,
            note=f"{entry.model._meta.verbose_name} #{record.pk}, {field}: «{old}» → «{value.strip()}»",
            model=model_label,
            field=field,
            recipients=recipients,
        )
        _audit(request, "rectified", Actor.staff(staff), model=model_label, record=str(record.pk), field=field)
        if Right.RECTIFICATION not in request.done:
            mark_done(request, Right.RECTIFICATION, actor=Actor.staff(staff), staff=staff)
    return recipients


def objection_decide(*, request: Request, staff: User, decision: str, grounds: str) -> Request:
    """Record the decision on an objection to processing on legitimate interest (Art. 21(1), R19).

    ``upheld``: the processing stops (the officer then erases or restricts the records);
    ``overridden``: compelling legitimate grounds override it, which must be written down.
    Either way the decision is recorded; an objection is never closed silently.
    """
    grounds = grounds.strip()
    if decision not in ("upheld", "overridden"):
        raise RequestRefused("decision", "choose whether the objection is upheld")
    if decision == "overridden" and len(grounds) < 20:
        raise RequestRefused("grounds", "write down the compelling legitimate grounds")
    with transaction.atomic():
        request = _locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be acted on")
        if Right.OBJECTION not in request.rights:
            raise RequestRefused("right", "the request does not object to anything")
        _event(request, "objection_decided", actor=staff, note=grounds, decision=decision)
        mark_done(request, Right.OBJECTION, actor=Actor.staff(staff), staff=staff, decision=decision)
    return request
