"""Writing and verifying the audit log.

Call ``audit_record`` inside the transaction of the change it records: the row
and the change commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from vern.audit.models import Entry, Head
from vern.lib.crypto import audit_mac
from vern.lib.keys import index_key
from vern.lib.logs import find_identifiers

GENESIS = "0" * 64
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class AuditChainBroken(RuntimeError):
    pass


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


def _payload(entry: Entry) -> bytes:
    fields = {
        "seq": entry.seq,
        "created_at": entry.created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "subject_key": entry.subject_key,
        "data": entry.data,
        "prev_mac": entry.prev_mac,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_mac(entry: Entry) -> str:
    return audit_mac(_payload(entry), root_key=index_key())


def audit_record(
    *,
    action: str,
    actor: Actor,
    object_type: str = "",
    object_id: str | int = "",
    subject_key: str = "",
    data: dict[str, Any] | None = None,
) -> Entry:
    """Append one row to the chain, in the caller's transaction."""
    if not _ACTION.match(action):
        raise ValueError(f"audit action {action!r} must look like 'area.verb', in lower case")
    data = data or {}
    _check_data(data)
    with transaction.atomic():
        head = Head.objects.select_for_update().filter(pk=1).first()
        if head is None:
            # The very first row (or a database someone emptied): create the head if
            # no other writer just did, then take its lock like every other append.
            Head.objects.bulk_create([Head(pk=1, seq=0, mac=GENESIS)], ignore_conflicts=True)
            head = Head.objects.select_for_update().get(pk=1)
            if head.seq == 0 and Entry.objects.exists():
                raise AuditChainBroken("the audit log's head row is missing; run `vern audit verify`")
        entry = Entry(
            seq=head.seq + 1,
            created_at=timezone.now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            subject_key=subject_key,
            data=data,
            prev_mac=head.mac or GENESIS,
        )
        entry.mac = compute_mac(entry)
        entry.save(force_insert=True)
        Head.objects.filter(pk=1).update(seq=entry.seq, mac=entry.mac)
    return entry


@dataclass(frozen=True)
class Verification:
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_anchor() -> str:
    """``seq:mac`` of the newest row: a line to keep outside the database."""
    head = Head.objects.filter(pk=1).first()
    return f"{head.seq}:{head.mac}" if head is not None else f"0:{GENESIS}"


def audit_verify(*, batch_size: int = 2000, anchors: list[str] | None = None) -> Verification:
    """Recompute the whole chain; every edited, inserted or deleted row is named.

    Each anchor (``seq:mac``, as logged by the checkpoint job) must still be in the chain.
    """
    problems: list[str] = []
    for anchor in anchors or []:
        seq_text, _, mac = anchor.partition(":")
        if not seq_text.isdigit() or len(mac) != 64:
            problems.append(f"the anchor {anchor!r} is not of the form SEQ:MAC")
            continue
        if int(seq_text) == 0:
            continue
        row = Entry.objects.filter(seq=int(seq_text)).values_list("mac", flat=True).first()
        if row is None:
            problems.append(f"row #{seq_text}, recorded in an anchor outside the database, is gone")
        elif row != mac:
            problems.append(f"row #{seq_text} differs from the anchor recorded outside the database")
    head = Head.objects.filter(pk=1).first()
    prev_mac, expected_seq, rows, last_seq = GENESIS, 1, 0, 0
    after = 0
    while True:
        chunk = list(Entry.objects.filter(seq__gt=after).order_by("seq")[:batch_size])
        if not chunk:
            break
        for entry in chunk:
            rows += 1
            if entry.seq != expected_seq:
                problems.append(f"rows #{expected_seq}-#{entry.seq - 1} are missing (deleted)")
            elif entry.prev_mac != prev_mac:
                problems.append(f"row #{entry.seq} does not follow row #{entry.seq - 1}: the chain is broken")
            if compute_mac(entry) != entry.mac:
                problems.append(f"row #{entry.seq} ({entry.action}) was changed after it was written")
            prev_mac, expected_seq, last_seq = entry.mac, entry.seq + 1, entry.seq
        after = chunk[-1].seq
    if head is None:
        if rows:
            problems.append("the head row is missing: the end of the chain cannot be checked")
    elif head.seq != last_seq:
        problems.append(
            f"the head says the last row is #{head.seq}, but the table ends at #{last_seq}: "
            "rows at the end were deleted"
        )
    elif rows and head.mac != prev_mac:
        problems.append(f"the head's hash does not match row #{last_seq}")
    return Verification(rows=rows, problems=problems)
