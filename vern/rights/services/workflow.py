"""The workflow of a confirmed request: who works on it, its deadline, and how it closes (LAW.md R11, R12).

Each step locks the request, checks the status it starts from (``steps.TRANSITIONS``)
and records itself on the timeline and in the audit log; a step that tells the
person queues the mail in the same transaction. The hourly job reminds the
privacy officers of the due dates (``reminders_send``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor
from vern.lib.days import local_day
from vern.mail import emails
from vern.registry import surface
from vern.rights import deadlines, selectors
from vern.rights.models import OPEN_STATUSES, Download, Event, Request, Right
from vern.rights.selectors import privacy_officers
from vern.rights.services.downloads import DOWNLOAD_HOURS
from vern.rights.services.erasure import erasure_queued, forget_contact
from vern.rights.services.restriction import restrict
from vern.rights.services.steps import (
    MAX_DETAILS,
    WHILE_OPEN,
    RequestRefused,
    S,
    declaration_required,
    erased,
    locked,
    move_to,
    record_audit,
    record_event,
    status_link,
)
from vern.rights.texts import authority_of, day_text, outcome_lines, public_link, reference_of

MAX_MESSAGE = 2000  # a short message; the answer itself goes with "Answer"


def request_assign(*, request: Request, staff: User, assignee: User | None) -> Request:
    with transaction.atomic():
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be assigned")
        request.assigned_to = assignee
        request.save(update_fields=["assigned_to"])
        record_event(request, "assigned", actor=staff, to=assignee.pk if assignee else None)
        record_audit(request, AuditEvent.RIGHTS_ASSIGNED, Actor.staff(staff), to=assignee.pk if assignee else None)
    return request


def request_start(*, request: Request, staff: User) -> Request:
    with transaction.atomic():
        request = locked(request)
        move_to(request, S.IN_PROGRESS)
        if request.assigned_to is None:
            request.assigned_to = staff
        request.save(update_fields=["status", "assigned_to"])
        record_event(request, "started", actor=staff)
        record_audit(request, AuditEvent.RIGHTS_STARTED, Actor.staff(staff))
    return request


def request_note(*, request: Request, staff: User, note: str) -> Event:
    note = note.strip()
    if not note:
        raise RequestRefused("note", "write the note first")
    if len(note) > MAX_DETAILS:
        raise RequestRefused("details", "the note is too long")
    with transaction.atomic():
        event = record_event(request, "note", actor=staff, note=note)
        record_audit(request, AuditEvent.RIGHTS_NOTED, Actor.staff(staff))
    return event


def phone_verify(*, request: Request, staff: User) -> Request:
    """Staff checked that the person holds the phone number given; records found by it now count."""
    with transaction.atomic():
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be changed")
        if not request.phone_index:
            raise RequestRefused("no_phone", "the request gives no phone number")
        request.phone_verified = True
        request.save(update_fields=["phone_verified"])
        if Right.RESTRICTION in request.done:
            restrict(request)  # the restriction now covers the phone's records too
        record_event(request, "phone_verified", actor=staff)
        record_audit(request, AuditEvent.RIGHTS_PHONE_VERIFIED, Actor.staff(staff))
    return request


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
        request = locked(request)
        if request.extended_to is not None:
            raise RequestRefused("extended", "the request has already been extended")
        if local_day(now) > request.due_on:
            raise RequestRefused("too_late", "the due date has passed: an extension had to be announced before it")
        if until <= request.due_on or until > deadlines.latest_extension(request.due_on):
            raise RequestRefused("until", "an extension moves the due date by at most two months")
        if not request.email:
            raise RequestRefused("no_address", "there is no address to tell the person at")
        move_to(request, S.EXTENDED)
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
            authority=authority_of(declaration_required(), request.language),
            ephemeral=erased(request),
            status_link=status_link(request),
        )
        record_event(request, "extended", actor=staff, note=reason, extended_to=until.isoformat())
        record_audit(request, AuditEvent.RIGHTS_EXTENDED, Actor.staff(staff), extended_to=until.isoformat())
    return request


def _not_while_erasing(request: Request) -> None:
    """A request is closed only once the erasure handed to the worker is carried out (or refused by it),
    and only while every other system it reaches works and has answered (through the registry's
    surface: a failing connector, a webhook erasure or a processor's task not yet confirmed)."""
    if erasure_queued(request) is not None:
        raise RequestRefused("erasure_pending", "the erasure is still being carried out")
    blockers = surface.completion_blockers(request.pk)
    if blockers:
        raise RequestRefused("connectors", " ".join(blockers))


def request_answer(*, request: Request, staff: User, message: str = "") -> Request:
    """Close the request as answered; the person gets what was done and the right to complain (P17)."""
    with transaction.atomic():
        request = locked(request)
        _not_while_erasing(request)
        move_to(request, S.ANSWERED)
        request.closed_at = timezone.now()
        request.outcome = message.strip()
        request.save(update_fields=["status", "closed_at", "outcome"])
        if request.email:
            emails.rights_answered(
                to=request.email,
                language=request.language,
                reference=reference_of(request),
                outcomes=outcome_lines(request, backups_gone_by=selectors.erasure_backups_gone_by(request)),
                message=request.outcome,
                authority=authority_of(declaration_required(), request.language),
                ephemeral=erased(request),  # the outbox forgets the address once the answer is sent (P23)
                status_link=status_link(request),
            )
        _forget_if_erased(request)
        record_event(request, "answered", actor=staff, note=request.outcome, done=request.done)
        record_audit(request, AuditEvent.RIGHTS_ANSWERED, Actor.staff(staff), done=request.done)
    return request


def request_answer_fulfilled(request: Request, *, actor: Actor) -> Request:
    """Close a request that vern's automation fulfilled entirely (in the caller's transaction).

    Nobody had to judge anything (a copy of the data, a withdrawal of consent, a restriction),
    so the answer goes at once: what was done, where the data is, and the right to complain (P17).
    """
    with translation.override(request.language):
        message = _("We have done everything you asked for.")
        if any(right in request.rights for right in (Right.ACCESS, Right.PORTABILITY)):
            days = DOWNLOAD_HOURS // 24
            message += " " + ngettext(
                "The link to your data came in a separate email. It works once, for %(days)s day.",
                "The link to your data came in a separate email. It works once, for %(days)s days.",
                days,
            ) % {"days": days}
    move_to(request, S.ANSWERED)
    request.closed_at = timezone.now()
    request.outcome = message
    request.save(update_fields=["status", "closed_at", "outcome"])
    if request.email:
        emails.rights_answered(
            to=request.email,
            language=request.language,
            reference=reference_of(request),
            outcomes=outcome_lines(request),
            message=message,
            authority=authority_of(declaration_required(), request.language),
            ephemeral=erased(request),
            status_link=status_link(request),
        )
    record_event(request, "answered", note=message, done=request.done, automatic=True)
    record_audit(request, AuditEvent.RIGHTS_ANSWERED, actor, done=request.done, automatic=True)
    return request


def request_message(*, request: Request, staff: User, message: str) -> Event:
    """A short message to the person about their request: mailed through the outbox, shown on the
    status page, kept on the timeline (encrypted) and audited. Only while the request is open."""
    message = message.strip()
    if not message:
        raise RequestRefused("message", "write the message first")
    if len(message) > MAX_MESSAGE:
        raise RequestRefused("message_long", "the message is too long")
    with transaction.atomic():
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be changed")
        if not request.email:
            raise RequestRefused("no_address", "there is no address to tell the person at")
        emails.rights_message(
            to=request.email,
            language=request.language,
            reference=reference_of(request),
            message=message,
            status_link=status_link(request),
            ephemeral=erased(request),
        )
        event = record_event(request, "message", actor=staff, note=message)
        record_audit(request, AuditEvent.RIGHTS_MESSAGED, Actor.staff(staff), length=len(message))
    return event


def request_refuse(*, request: Request, staff: User, ground: str, justification: str) -> Request:
    """Refuse the request with a ground and a written justification (Art. 12(5), R12); the person is told
    the reasons and the rights to complain to the authority and to go to court."""
    justification = justification.strip()
    if ground not in Request.Ground.values:
        raise RequestRefused("ground", "choose the ground for refusing")
    if len(justification) < 20:
        raise RequestRefused("justification", "a refusal needs a written justification")
    with transaction.atomic():
        request = locked(request)
        _not_while_erasing(request)
        move_to(request, S.REFUSED)
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
                authority=authority_of(declaration_required(), request.language),
                ephemeral=erased(request),
                status_link=status_link(request),
            )
        # A refused request hands out nothing more: its unopened download links end now.
        Download.objects.filter(request=request, downloaded_at__isnull=True, expires_at__gt=request.closed_at).update(
            expires_at=request.closed_at
        )
        _forget_if_erased(request)
        record_event(request, "refused", actor=staff, note=justification, ground=ground)
        record_audit(request, AuditEvent.RIGHTS_REFUSED, Actor.staff(staff), ground=ground)
    return request


def _forget_if_erased(request: Request) -> None:
    """On closing a request whose erasure was carried out, its address, phone and text go too (P23)."""
    if erased(request):
        forget_contact(request)


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
                current = locked(request)
                if days in current.reminded:
                    continue
                current.reminded = [*current.reminded, days]
                current.save(update_fields=["reminded"])
                for officer in officers:
                    emails.rights_reminder(
                        to=officer.email,
                        language=officer.language,
                        reference=reference_of(current),
                        days_left=left,
                        link=public_link("rights_staff:detail", officer.language, pk=current.pk),
                    )
                record_event(current, "reminder", days_left=left)
                sent += 1
    return sent
