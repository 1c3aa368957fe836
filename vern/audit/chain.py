"""Append-only tables chained by a keyed hash: the audit log, and the consent proof.

Each row's ``mac`` is an HMAC (under a key derived from the current index key,
which is not in the database) over its own fields and the previous row's
``mac``; ``seq`` counts rows without gaps; a head row holds the newest ``seq``
and ``mac``. Appending locks the head, so two transactions never chain onto the
same predecessor. ``verify`` recomputes the chain and names every row that was
edited, inserted or deleted; anchors kept outside the database catch a deletion
of the newest rows together with a rewritten head.

Retention removes the oldest rows with ``prune``: only a prefix, and the head
keeps the number and mac of the last removed row (its floor), so the remaining
chain still verifies from there.

Index-key rotation (docs/adr/0003-keys.md): a row is never re-keyed (that would
take the power to forge from whoever holds the new key), so each row keeps the
mac of the key that was current when it was written, and a row verifies when its
mac matches under any configured index key. An old index key therefore stays
configured until retention has pruned the last row written under it;
``vern keys status`` counts them.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from vern.audit.models import Entry, Head
from vern.lib.crypto import chain_mac
from vern.lib.keys import index_key, index_keys
from vern.registry import surface

GENESIS = "0" * 64
# The audit action that records a pruning; verify requires one for the chain's floor.
PRUNED_ACTION = "retention.chain_pruned"


class ChainBroken(RuntimeError):
    pass


@dataclass(frozen=True)
class Verification:
    rows: int
    problems: list[str]
    floor: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


@dataclass(frozen=True)
class HashChain:
    """One chain: its row model, the fields its hash covers, and its head row's id."""

    name: str
    model: type[models.Model]
    head_id: int
    fields: tuple[str, ...]
    describe: Callable[[Any], str] = lambda row: ""

    def payload(self, row: Any) -> bytes:
        values = {name: _plain(getattr(row, name)) for name in self.fields}
        values["seq"] = row.seq
        values["prev_mac"] = row.prev_mac
        return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def mac(self, row: Any) -> str:
        """The row's mac under the current index key: what an append writes."""
        return chain_mac(self.payload(row), root_key=index_key(), chain=self.name)

    def key_of(self, row: Any) -> str | None:
        """The id of the configured index key the row's mac was made with; None when none matches."""
        payload, keys = self.payload(row), index_keys()
        for key_id, root in sorted(keys.keys.items(), key=lambda item: item[0] != keys.current):
            if hmac.compare_digest(chain_mac(payload, root_key=root, chain=self.name), row.mac):
                return key_id
        return None

    def intact(self, row: Any) -> bool:
        """Whether the row's mac matches its fields under one of the configured index keys."""
        return self.key_of(row) is not None

    def append(self, row: Any) -> Any:
        """Number, chain and save ``row`` in the caller's transaction."""
        with transaction.atomic():
            head = Head.objects.select_for_update().filter(pk=self.head_id).first()
            if head is None:
                # The first row (or a table someone emptied): create the head unless another
                # writer just did, then take its lock like every other append.
                Head.objects.bulk_create([Head(pk=self.head_id, seq=0, mac=GENESIS)], ignore_conflicts=True)
                head = Head.objects.select_for_update().get(pk=self.head_id)
                if head.seq == 0 and self.model._default_manager.exists():
                    raise ChainBroken(f"the {self.name} chain's head row is missing; verify the chain")
            row.seq = head.seq + 1
            row.prev_mac = head.mac or GENESIS
            row.mac = self.mac(row)
            row.save(force_insert=True)
            Head.objects.filter(pk=self.head_id).update(seq=row.seq, mac=row.mac)
        return row

    def anchor(self) -> str:
        """``seq:mac`` of the newest row: a line to keep outside the database."""
        head = Head.objects.filter(pk=self.head_id).first()
        return f"{head.seq}:{head.mac}" if head is not None else f"0:{GENESIS}"

    def prune(self, *, through_seq: int, witness: Callable[[int, str, int], Any]) -> int:
        """Remove rows up to and including ``through_seq``, oldest first; returns how many went.

        Each call is one transaction: the rows are checked (a row changed or missing inside
        the range stops the pruning, so that retention never hides tampering), the floor
        moves, the rows go, and ``witness(through_seq, floor_mac, removed)`` writes the
        record that ``verify`` requires for a floor (an audit row, chained and keyed). Call
        it with ranges of a bounded size.
        """
        with transaction.atomic():
            head = Head.objects.select_for_update().filter(pk=self.head_id).first()
            if head is None:
                raise ChainBroken(f"the {self.name} chain's head row is missing; verify the chain")
            through_seq = min(through_seq, head.seq)
            if through_seq <= head.floor_seq:
                return 0
            rows: Any = self.model._default_manager
            prev_mac, expected = head.floor_mac or GENESIS, head.floor_seq + 1
            for row in rows.filter(seq__gt=head.floor_seq, seq__lte=through_seq).order_by("seq").iterator():
                if row.seq != expected or row.prev_mac != prev_mac or not self.intact(row):
                    raise ChainBroken(f"row #{expected} of the {self.name} chain is missing or changed; verify it")
                prev_mac, expected = row.mac, row.seq + 1
            if expected != through_seq + 1:
                raise ChainBroken(f"rows up to #{through_seq} of the {self.name} chain are missing; verify it")
            after = rows.filter(seq=through_seq + 1).values_list("prev_mac", flat=True).first()
            if after is not None and after != prev_mac:
                raise ChainBroken(f"row #{through_seq + 1} of the {self.name} chain does not follow; verify it")
            deleted, _ = rows.filter(seq__gt=head.floor_seq, seq__lte=through_seq).delete()
            Head.objects.filter(pk=self.head_id).update(floor_seq=through_seq, floor_mac=prev_mac)
            witness(through_seq, prev_mac, deleted)
        return int(deleted)

    def witness_matches(self, floor_seq: int, floor_mac: str) -> bool:
        """Whether the newest record of a pruning of this chain names this floor and is intact."""
        record = Entry.objects.filter(action=PRUNED_ACTION, object_type=f"chain.{self.name}").order_by("-seq").first()
        return (
            record is not None
            and record.object_id == str(floor_seq)
            and record.data.get("floor_mac") == floor_mac
            and AUDIT_CHAIN.intact(record)
        )

    def floor(self) -> int:
        return Head.objects.filter(pk=self.head_id).values_list("floor_seq", flat=True).first() or 0

    def verify(self, *, batch_size: int = 2000, anchors: list[str] | None = None) -> Verification:
        first = self._verify(batch_size=batch_size, anchors=anchors or [])
        if first.problems and self.floor() != first.floor:
            # Retention pruned while we read: what looked deleted was removed properly. Again.
            return self._verify(batch_size=batch_size, anchors=anchors or [])
        return first

    def _verify(self, *, batch_size: int, anchors: list[str]) -> Verification:
        rows_table = self.model._default_manager
        head = Head.objects.filter(pk=self.head_id).first()
        floor, floor_mac = (head.floor_seq, head.floor_mac) if head is not None and head.floor_seq else (0, GENESIS)
        problems = self._check_anchors(anchors, floor=floor, floor_mac=floor_mac)
        if floor and not self.witness_matches(floor, floor_mac):
            problems.append(
                f"the chain starts after row #{floor}, but no intact record says that retention removed "
                "the rows before it: they were deleted"
            )
        prev_mac, expected_seq, rows, last_seq, after = floor_mac, floor + 1, 0, floor, floor
        while True:
            chunk: list[Any] = list(rows_table.filter(seq__gt=after).order_by("seq")[:batch_size])
            if not chunk:
                break
            for row in chunk:
                rows += 1
                if row.seq != expected_seq:
                    problems.append(f"rows #{expected_seq}-#{row.seq - 1} are missing (deleted)")
                elif row.prev_mac != prev_mac:
                    problems.append(f"row #{row.seq} does not follow row #{row.seq - 1}: the chain is broken")
                if not self.intact(row):
                    label = self.describe(row)
                    problems.append(f"row #{row.seq}{f' ({label})' if label else ''} was changed after it was written")
                prev_mac, expected_seq, last_seq = row.mac, row.seq + 1, row.seq
            after = chunk[-1].seq
        if head is None:
            if rows:
                problems.append("the head row is missing: the end of the chain cannot be checked")
        elif head.seq != last_seq:
            problems.append(
                f"the head says the last row is #{head.seq}, but the table ends at #{last_seq}: "
                "rows at the end were deleted"
            )
        elif head.seq and head.mac != prev_mac:
            problems.append(f"the head's hash does not match row #{last_seq}")
        return Verification(rows=rows, problems=problems, floor=floor)

    def _check_anchors(self, anchors: list[str], *, floor: int, floor_mac: str) -> list[str]:
        problems = []
        for anchor in anchors:
            seq_text, _, mac = anchor.partition(":")
            if not seq_text.isdigit() or len(mac) != 64:
                problems.append(f"the anchor {anchor!r} is not of the form SEQ:MAC")
                continue
            if int(seq_text) == floor and floor:
                if mac != floor_mac:
                    problems.append(f"row #{seq_text}, removed by retention, differs from the anchor kept outside")
                continue
            if int(seq_text) < floor:
                continue  # removed by retention, which the floor's record proves
            found = self.model._default_manager.filter(seq=int(seq_text)).values_list("mac", flat=True).first()
            if found is None:
                problems.append(f"row #{seq_text}, recorded in an anchor outside the database, is gone")
            elif found != mac:
                problems.append(f"row #{seq_text} differs from the anchor recorded outside the database")
        return problems


# The audit log itself; the audit app's surface names it (with the consent proof's chain in
# the consent app's), so that retention prunes every chain as a prefix.
AUDIT_CHAIN = HashChain(
    name="audit",
    model=Entry,
    head_id=1,
    fields=("created_at", "actor_kind", "actor_id", "action", "object_type", "object_id", "subject_key", "data"),
    describe=lambda entry: entry.action,
)


def chain_of(model: type[models.Model]) -> HashChain | None:
    """The hash chain whose rows ``model`` holds, as its app's surface declares it."""
    chain = surface.chain_of(model)
    return chain if isinstance(chain, HashChain) else None
