"""Restriction, objection and withdrawal of consent: the rights that stop processing without erasing.

A restriction (Art. 18) starts as soon as the request is confirmed, on every key
the person has proven, and ends only on a day the person was told of first. An
objection to direct marketing (Art. 21(3)) suppresses the address at once; any
other objection waits for a privacy officer's decision (Art. 21(1)). A withdrawal
of consent (Art. 7(3)) withdraws every consent the request's keys find.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.lib.days import day_start, local_day
from vern.mail import emails
from vern.registry import surface
from vern.rights.models import Request, Restriction, Right, Suppression
from vern.rights.selectors import person_keys
from vern.rights.services.steps import (
    WHILE_OPEN,
    RequestRefused,
    erased,
    locked,
    mark_done,
    record_audit,
    record_event,
    status_link,
)
from vern.rights.texts import day_text, reference_of


def _restriction_keys(request: Request) -> list[str]:
    """Every key the person has proven: the email, and the phone once verified."""
    keys = [request.email_index]
    if request.phone_index and (request.phone_verified or not request.email_index):
        keys.append(request.phone_index)
    return [key for key in keys if key]


def restrict(request: Request) -> Restriction | None:
    """An active restriction on each of the person's proven keys; the first one is returned."""
    first = None
    for key in _restriction_keys(request):
        restriction = Restriction.objects.filter(subject_key=key, lifted_at__isnull=True).first()
        restriction = restriction or Restriction.objects.create(subject_key=key, request=request)
        first = first or restriction
    return first


def restriction_start(request: Request, *, actor: Actor, staff: User | None) -> Restriction | None:
    restriction = restrict(request)
    mark_done(request, Right.RESTRICTION, actor=actor, staff=staff)
    return restriction


def restriction_schedule_lift(*, restriction: Restriction, staff: User, lift_on: dt.date) -> Restriction:
    """Tell the person the restriction ends on ``lift_on`` (Art. 18(3)); it ends then, not before."""
    today = local_day(timezone.now())
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
        Restriction.objects.filter(request=request, lifted_at__isnull=True).update(lift_at=day_start(lift_on))
        emails.rights_restriction_ending(
            to=request.email,
            language=request.language,
            reference=reference_of(request),
            lift_on=day_text(lift_on, request.language),
            ephemeral=erased(request),
            status_link=status_link(request),
        )
        record_event(request, "restriction_lift_announced", actor=staff, lift_on=lift_on.isoformat())
        record_audit(
            request, AuditEvent.RIGHTS_RESTRICTION_LIFT_ANNOUNCED, Actor.staff(staff), lift_on=lift_on.isoformat()
        )
    return restriction


def restrictions_lift_due(now: dt.datetime | None = None) -> int:
    """Restrictions whose announced end has come are lifted; returns how many."""
    now = now or timezone.now()
    count = 0
    for restriction in Restriction.objects.filter(lifted_at__isnull=True, lift_at__lte=now):
        with transaction.atomic():
            Restriction.objects.filter(pk=restriction.pk, lifted_at__isnull=True).update(lifted_at=now)
            audit_record(
                action=AuditEvent.RIGHTS_RESTRICTION_LIFTED,
                actor=Actor.system(),
                object_type="rights.restriction",
                object_id=restriction.pk,
                subject_key=restriction.subject_key,
            )
            count += 1
    return count


def consents_withdraw(request: Request, *, actor: Actor, staff: User | None) -> int:
    """Withdraw every consent found by the request's keys (cookie consent by consent id, …)."""
    # Every stored form of the person's keys: during an index key rotation a subscription may still
    # be under the old key while the request is under the new one.
    withdrawn = surface.withdraw_consents(person_keys(request))
    mark_done(request, Right.WITHDRAW_CONSENT, actor=actor, staff=staff, withdrawn=withdrawn)
    return withdrawn


def marketing_suppress(request: Request, *, actor: Actor, staff: User | None) -> None:
    """An objection to direct marketing: the address never gets marketing again (Art. 21(3))."""
    for key in (request.email_index, request.phone_index):
        if key:
            Suppression.objects.get_or_create(subject_key=key, defaults={"request": request})
    record_event(request, "marketing_suppressed", actor=staff)
    record_audit(request, AuditEvent.RIGHTS_MARKETING_SUPPRESSED, actor)


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
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be acted on")
        if Right.OBJECTION not in request.rights:
            raise RequestRefused("right", "the request does not object to anything")
        record_event(request, "objection_decided", actor=staff, note=grounds, decision=decision)
        mark_done(request, Right.OBJECTION, actor=Actor.staff(staff), staff=staff, decision=decision)
    return request
