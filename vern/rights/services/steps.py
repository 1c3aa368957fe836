"""What every step on a rights request shares: the allowed moves, the refusal, the timeline and the audit row.

Every step checks the status it starts from (``TRANSITIONS``), writes a timeline
event and an audit row in the same transaction, and queues its mail in that
transaction too, so that a step that rolls back sends nothing. Audit rows name
the person by ``subject_key`` (a blind index), never by address.
"""

from __future__ import annotations

from typing import Any

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.schema import Declaration
from vern.declaration.selectors import published_declaration
from vern.rights.models import OPEN_STATUSES, Event, Request, Right, Tombstone
from vern.rights.services.tokens import new_status_token
from vern.rights.texts import public_link

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


def declaration_required() -> Declaration:
    """The published declaration; a step that needs one is refused while none is published."""
    declaration = published_declaration()
    if declaration is None:
        raise RequestRefused("unpublished", "no privacy policy is published yet")
    return declaration


def record_event(request: Request, kind: str, *, actor: User | None = None, note: str = "", **data: Any) -> Event:
    return Event.objects.create(request=request, kind=kind, actor=actor, note=note, data=data)


def record_audit(request: Request, action: AuditEvent, actor: Actor, **data: Any) -> None:
    audit_record(
        action=action,
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


def move_to(request: Request, to: str) -> None:
    if to not in TRANSITIONS[request.status]:
        raise RequestRefused("status", f"a request that is {request.status} cannot become {to}")
    request.status = to


def locked(request: Request) -> Request:
    """The request again, locked for this transaction, so two clicks cannot both act on it."""
    return Request.objects.select_for_update().get(pk=request.pk)


def mark_done(request: Request, right: str, *, actor: Actor, staff: User | None, **data: Any) -> None:
    """One right of the request is fulfilled; the timeline and the audit log say how.

    A confirmed request on which a right is carried out is in progress from then on,
    whether a privacy officer or vern's own automation did it: the work has started.
    """
    if right not in request.rights:
        raise RequestRefused("right", f"the request does not ask for {right}")
    if right not in request.done:
        request.done = [*request.done, right]
        request.save(update_fields=["done"])
    record_event(request, f"done_{right}", actor=staff, **data)
    record_audit(request, AuditEvent.RIGHTS_FULFILLED, actor, right=right, **data)
    if request.status == S.CONFIRMED:
        move_to(request, S.IN_PROGRESS)
        request.save(update_fields=["status"])
        record_event(request, "started", actor=staff, automatic=staff is None, right=right)
        record_audit(request, AuditEvent.RIGHTS_STARTED, actor, automatic=staff is None, right=right)


def fulfilled(request: Request) -> bool:
    """Every right the request asks for has been carried out."""
    return bool(request.rights) and set(request.rights) <= set(request.done)


def status_link(request: Request) -> str:
    """The link the person follows the request by, in their language (``services/tokens.py``).

    A request from before status links gets its token the first time a mail needs one.
    """
    if not request.status_token:
        token, hashed = new_status_token()
        request.status_token, request.status_hash = token, hashed
        request.save(update_fields=["status_token", "status_hash"])
    return public_link("rights:status", request.language, token=request.status_token)
