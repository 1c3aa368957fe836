"""Intake and confirmation: a request from the privacy center or registered by staff, and its link.

Nothing here looks at the person's data before the request is confirmed, so the
answer and its timing are the same whether or not the company holds any (LAW.md
§3). Once the person is known, what needs no one's judgement is done at once
(``_on_confirmed``); a request never confirmed lapses, keeping only its keyed index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor
from vern.declaration.schema import Declaration
from vern.lib import ratelimit
from vern.lib.ip import shorten_ip
from vern.lib.keys import digest, email_index, phone_index
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone
from vern.mail import emails
from vern.registry import surface
from vern.rights import deadlines
from vern.rights.models import Request, Right
from vern.rights.services.downloads import download_offer
from vern.rights.services.restriction import consents_withdraw, marketing_suppress, restriction_start
from vern.rights.services.steps import (
    MAX_DETAILS,
    RequestRefused,
    S,
    declaration_required,
    fulfilled,
    move_to,
    record_audit,
    record_event,
    status_link,
)
from vern.rights.services.tokens import new_status_token, new_token, token_hashes
from vern.rights.services.workflow import request_answer_fulfilled
from vern.rights.texts import public_link

CONFIRM_HOURS = 72
# The same for every address, known or not. Every submission counts against its network
# (shortened IP). Against an address count only the requests confirmed from its mailbox, so
# whoever types someone else's address cannot use up their quota; what the address can be
# sent is capped on its own (a few more mails than confirmed requests, so that three planted
# requests still leave the owner room to send and confirm their own).
LIMIT_PER_NETWORK = ratelimit.Limit("rights:network", 10, 3600)
LIMIT_PER_ADDRESS = ratelimit.Limit("rights:address", 3, 24 * 3600)
MAILS_PER_ADDRESS = ratelimit.Limit("rights:mails", 6, 24 * 3600)


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
    declaration = declaration_required()
    network = shorten_ip(ip) if ip else "unknown"
    # Counted in the step that admits it, outside the transaction below: a refused or failed
    # submission counts too, so parallel ones cannot all slip past a check made before a count.
    if not ratelimit.hit(LIMIT_PER_NETWORK, network) or not ratelimit.hit(MAILS_PER_ADDRESS, address_index):
        raise RequestRefused("rate", "too many requests; try again later")
    token, hashed = new_token()
    status_token, status_hashed = new_status_token()
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
            status_token=status_token,
            status_hash=status_hashed,
        )
        record_event(request, "received", channel=request.channel, rights=chosen)
        record_audit(request, AuditEvent.RIGHTS_RECEIVED, Actor.visitor(), rights=chosen, channel=request.channel)
        emails.rights_confirm(
            to=address,
            language=language,
            link=public_link("rights:confirm", language, token=token),
            expires_hours=CONFIRM_HOURS,
            status_link=status_link(request),
        )
        record_event(request, "confirmation_sent")
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
    source: tuple[str, int, str] | None = None,
) -> Request:
    """A request that came by email, phone, letter or in person, registered by staff (P16).

    Its clock starts when it was received, not when it was typed in. If staff have checked
    who the person is (an email from the address on file, a call back to the number on
    file), it is confirmed at once; otherwise a confirmation link goes to the email given.
    The form's ``nonce`` makes a second submission of the same form return the first request;
    ``source`` (kind, id, console address: an enquiry it was registered from) does the same for
    a source, which registers one request only.
    """
    return _request_register(
        staff=staff,
        rights=rights,
        channel=channel,
        received_at=received_at,
        email=email,
        phone=phone,
        details=details,
        language=language,
        identity_checked=identity_checked,
        marketing_objection=marketing_objection,
        nonce=nonce,
        source=source,
    )[0]


def _request_register(
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
    source: tuple[str, int, str] | None = None,
) -> tuple[Request, bool]:
    """``request_register``, and whether it registered a new request (False: found the earlier one)."""
    if source is not None:
        earlier = _of_source(source)
        if earlier is not None:
            return earlier, False
    submission_key = digest(nonce, purpose="rights:register") if nonce else None
    if submission_key is not None:
        earlier = Request.objects.filter(submission_key=submission_key).first()
        if earlier is not None:
            return earlier, False
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
    declaration = declaration_required()
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
            source=source,
        ), True
    except IntegrityError:
        # Two submissions of the same form (or from the same source) at once: the other one registered it.
        earlier = Request.objects.filter(submission_key=submission_key).first() if submission_key else None
        if earlier is None and source is not None:
            earlier = _of_source(source)
        if earlier is None:
            raise
        return earlier, False


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
    source: tuple[str, int, str] | None = None,
) -> Request:
    address, address_index, number, number_index = contact
    now = timezone.now()
    token, hashed = new_token()
    status_token, status_hashed = new_status_token()
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
            status_token=status_token,
            status_hash=status_hashed,
            source=source[0] if source else "",
            source_id=source[1] if source else None,
            source_url=source[2][:200] if source else "",
        )
        extra = {"source": source[0]} if source else {}
        record_event(request, "received", actor=staff, channel=channel, rights=chosen, **extra)
        record_audit(request, AuditEvent.RIGHTS_REGISTERED, Actor.staff(staff), rights=chosen, channel=channel)
        if identity_checked:
            record_event(request, "confirmed", actor=staff, how="staff")
            _on_confirmed(request, Actor.staff(staff), staff)
        else:
            emails.rights_confirm(
                to=address,
                language=language,
                link=public_link("rights:confirm", language, token=token),
                expires_hours=CONFIRM_HOURS,
                status_link=status_link(request),
            )
            record_event(request, "confirmation_sent", actor=staff)
    return request


def _of_source(source: tuple[str, int, str]) -> Request | None:
    return Request.objects.filter(source=source[0], source_id=source[1]).first()


def request_register_from(intake: surface.RightsIntake) -> surface.RightsRegistration:
    """A request another app received (a mail in the support mailbox), confirmed by staff there
    in one click: registered like any staff-registered request (``request_register``).

    The person's identity is not taken as checked: the mail's From header proves nothing, so a
    confirmation link goes to the address, as for any request registered without a check; the
    deadline runs from ``received_at``, when the mail arrived. The Surface member
    ``rights_registrar``; a second call for the same source returns the first request."""
    try:
        request, created = _request_register(
            staff=intake.staff,
            rights=intake.rights,
            channel=intake.channel,
            received_at=intake.received_at,
            email=intake.email,
            phone=intake.phone,
            details=intake.details[:MAX_DETAILS],
            language=intake.language,
            identity_checked=False,
            marketing_objection=False,
            nonce="",
            source=(intake.source, intake.source_id, intake.source_url),
        )
    except RequestRefused as refused:
        raise surface.RightsRefused(refused.code) from refused
    return surface.RightsRegistration(
        request_id=request.pk,
        url=reverse("rights_staff:detail", kwargs={"pk": request.pk}),
        created=created,
        awaiting_confirmation=request.status == S.AWAITING_CONFIRMATION,
    )


def request_confirm(*, token: str) -> Request:
    """The person followed the link: the request is confirmed, and what can be done at once is done.

    Raises RequestRefused with "invalid" (forged, or never issued), "used" (already
    confirmed), "expired" (after 72 hours: the request has lapsed) or "rate" (this address
    confirmed ``LIMIT_PER_ADDRESS`` requests today already; the link stays valid, and the
    refused confirmation is not counted, as it rolls back).
    """
    if not token or len(token) > 100:
        raise RequestRefused("invalid")
    hashed = token_hashes(token)
    with transaction.atomic():
        request = Request.objects.select_for_update().filter(token_hash__in=hashed).first()
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
            form = request.channel == Request.Channel.FORM  # staff-registered requests are not limited
            if form and not ratelimit.hit(LIMIT_PER_ADDRESS, request.email_index):
                raise RequestRefused("rate", "this address confirmed enough requests for today")
            move_to(request, S.CONFIRMED)
            request.verified_at = now
            request.save(update_fields=["status", "verified_at"])
            record_event(request, "confirmed", how="link")
            record_audit(request, AuditEvent.RIGHTS_CONFIRMED, Actor.visitor())
            _on_confirmed(request, Actor.visitor(), None)
            return request
    raise RequestRefused("expired")


def _lapse(request: Request) -> None:
    """Never confirmed: whoever typed the address may not own it, so only its keyed index stays
    (as the record that a request came and lapsed), not the address, phone or text (Recital 64)."""
    move_to(request, S.LAPSED)
    now = timezone.now()
    request.closed_at = now
    request.email = request.phone = request.details = ""
    request.contact_erased_at = now
    request.save(update_fields=["status", "closed_at", "email", "phone", "details", "contact_erased_at"])
    record_event(request, "lapsed")
    record_audit(request, AuditEvent.RIGHTS_LAPSED, Actor.system())


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

    A right carried out here puts the request in progress (``mark_done``); when that was
    every right it asks for, the request is answered at once, with the answer mail that
    names the right to complain (P17), so nobody has to close what nobody had to do.
    """
    if Right.RESTRICTION in request.rights:
        restriction_start(request, actor=actor, staff=staff)
    if Right.WITHDRAW_CONSENT in request.rights:
        consents_withdraw(request, actor=actor, staff=staff)
    if Right.OBJECTION in request.rights and request.marketing_objection:
        marketing_suppress(request, actor=actor, staff=staff)
    for right in (Right.ACCESS, Right.PORTABILITY):
        if right in request.rights and request.email:
            download_offer(request, kind=right, actor=actor, staff=staff)
    # A phone number not yet verified may find more records, so staff keep the request open for it.
    phone_waits = bool(request.phone_index) and not request.phone_verified
    # Another system that is failing (a connector, through the registry's surface) may hold data the
    # copy would miss: staff close the request once it works, as they would close any other.
    if fulfilled(request) and not phone_waits and not surface.completion_blockers(request.pk):
        request_answer_fulfilled(request, actor=actor)
