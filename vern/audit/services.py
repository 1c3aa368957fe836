"""Writing and verifying the audit log.

Call ``audit_record`` inside the transaction of the change it records: the row
and the change commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.http import HttpRequest
from django.utils import timezone

from vern.audit.chain import AUDIT_CHAIN, HashChain, Verification
from vern.audit.events import AuditEvent
from vern.audit.models import Entry
from vern.lib.logs import find_identifiers


class _HasPk(Protocol):
    pk: Any


@dataclass(frozen=True)
class Actor:
    kind: Entry.ActorKind
    id: int | None = None

    @classmethod
    def staff(cls, user: _HasPk) -> Actor:
        return cls(Entry.ActorKind.STAFF, int(user.pk))

    @classmethod
    def system(cls) -> Actor:
        return cls(Entry.ActorKind.SYSTEM)

    @classmethod
    def visitor(cls) -> Actor:
        return cls(Entry.ActorKind.VISITOR)

    @classmethod
    def cli(cls) -> Actor:
        return cls(Entry.ActorKind.CLI)

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls.staff(user)
        return cls.visitor()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _check_data(data: dict[str, Any]) -> None:
    json.dumps(data)
    for text in _strings(data):
        kinds = find_identifiers(text)
        if kinds:
            raise ValueError(
                f"audit data must not hold a raw {kinds[0]}: record the subject_key, or a shortened IP address"
            )


def _event(action: AuditEvent | str) -> AuditEvent:
    try:
        return AuditEvent(action)
    except ValueError:
        raise ValueError(
            f"audit action {action!r} is not an AuditEvent: add it to vern/audit/events.py, "
            "as 'area.verb' in lower case, with its label"
        ) from None


def audit_record(
    *,
    action: AuditEvent,
    actor: Actor,
    object_type: str = "",
    object_id: str | int = "",
    subject_key: str = "",
    data: dict[str, Any] | None = None,
) -> Entry:
    """Append one row to the chain, in the caller's transaction.

    ``action`` is a member of ``AuditEvent``; anything else is refused at run time too, except
    a plain string that is a member's value (what a caller outside the type checks may pass).
    """
    event = _event(action)
    data = data or {}
    _check_data(data)
    entry = Entry(
        created_at=timezone.now(),
        actor_kind=actor.kind,
        actor_id=actor.id,
        action=event.value,
        object_type=object_type,
        object_id=str(object_id),
        subject_key=subject_key,
        data=data,
    )
    AUDIT_CHAIN.append(entry)
    return entry


def chain_prune(chain: HashChain, *, through_seq: int, actor: Actor) -> int:
    """Remove a chain's oldest rows through ``through_seq``, with the audit record that ``verify``
    requires for the new start of the chain; returns how many rows went."""

    def witness(floor_seq: int, floor_mac: str, removed: int) -> None:
        audit_record(
            action=AuditEvent.CHAIN_PRUNED,
            actor=actor,
            object_type=f"chain.{chain.name}",
            object_id=floor_seq,
            data={"floor_mac": floor_mac, "removed": removed},
        )

    return chain.prune(through_seq=through_seq, witness=witness)


def audit_anchor() -> str:
    """``seq:mac`` of the newest row: a line to keep outside the database."""
    return AUDIT_CHAIN.anchor()


def audit_verify(*, batch_size: int = 2000, anchors: list[str] | None = None) -> Verification:
    """Recompute the whole chain; every edited, inserted or deleted row is named.

    Each anchor (``seq:mac``, as logged by the checkpoint job) must still be in the chain.
    """
    return AUDIT_CHAIN.verify(batch_size=batch_size, anchors=anchors)
