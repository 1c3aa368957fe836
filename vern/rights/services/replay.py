"""Replaying the erasure journal after a restore (R16, P23): everyone erased is erased again.

A restored backup of vern's database brings back the rows of people erased since it was
taken, and the tombstone table as it was then. The journal kept apart
(``vern.rights.journal``) still names them; ``replay_tombstones`` erases again whatever the
registry finds for each of its keys, with the routine an erasure uses (``erasure.erase_model``),
and writes the tombstones the restore lost back into the table.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.registry import surface
from vern.registry.entries import entries
from vern.rights.journal import journal_read, legacy_read
from vern.rights.models import Request, Tombstone
from vern.rights.services.erasure import REQUEST_LABEL, erase_model

log = logging.getLogger(__name__)

REPLAY_CHUNK = 200  # keys per query while replaying, well under SQLite's limit of parameters


def _key_chunks(keys: dict[tuple[str, str], dt.datetime | None]) -> Iterator[dict[tuple[str, str], dt.datetime | None]]:
    items = sorted(keys.items())
    for start in range(0, len(items), REPLAY_CHUNK):
        yield dict(items[start : start + REPLAY_CHUNK])


def _cutoff(entry_model: type[models.Model], clock: str, moment: dt.datetime) -> Q:
    """Rows whose clock is not after the erasure: what a person gave after it is theirs again."""
    clock_field = entry_model._meta.get_field(clock)
    if isinstance(clock_field, models.DateTimeField):
        return Q(**{f"{clock}__lte": moment})
    if isinstance(clock_field, models.DateField):
        return Q(**{f"{clock}__lte": moment.date()})
    return Q()


def _replay_condition(
    model: type[models.Model], identifiers: dict[str, tuple[str, ...]], clock: str, chunk: dict[tuple[str, str], Any]
) -> Q:
    """The rows of ``chunk``'s people, each erased key only up to its erasure time when that is known."""
    condition = Q(pk__in=[])
    for (kind, key), erased_at in chunk.items():
        for name in identifiers.get(kind, ()):
            match = Q(**{name: key})
            if erased_at is not None and clock:
                match &= _cutoff(model, clock, erased_at)
            condition |= match
    return condition


def _kept_apart(journal: str | None, legacy_file: Path | None) -> dict[tuple[str, str], dt.datetime | None]:
    """The keys of the journal kept apart, with the journal file of earlier versions when there is one."""
    if legacy_file is not None:  # a text journal of an earlier version, named by hand
        return legacy_read(legacy_file)
    found = journal_read(journal)
    if journal is None:  # the configured journal, and the text file an earlier version may have left
        for pair, when in legacy_read().items():
            known = found.get(pair, when)
            found[pair] = when if known is None or (when is not None and when > known) else known
    return found


def replay_tombstones(
    *, actor: Actor, journal: str | None = None, legacy_file: Path | None = None, other_systems: bool = False
) -> dict[str, int]:
    """After a backup is restored: erase again whatever the registry finds for every key in the
    journal (the tombstone table and the journal kept apart, ``vern.rights.journal``, together);
    returns rows erased per model. ``journal`` names another copy of the journal by its URL, and
    ``legacy_file`` one of the text files earlier versions wrote; without either, the configured
    journal is read, with the text file in the data directory if an earlier version left one.

    Tombstones that are only in the journal are written back to the table. A row whose retention
    clock is later than the key's erasure was given again after it, and stays. The person's
    restored rights requests lose their contact details again (counted under rights.Request).

    The company's other systems are reached only with ``other_systems`` (``surface.external_replay``):
    vern's restore brings nothing back there, and a person erased years ago may have come back to
    such a system since, with rows that are theirs again. Only when such a system was itself restored
    from a backup older than some erasures are its rows of the journal's people erased again,
    counted per source (``moeteadm.users``) beside vern's models.
    """
    from_file = _kept_apart(journal, legacy_file)
    keys: dict[tuple[str, str], dt.datetime | None] = {}
    for kind, key, erased_at in Tombstone.objects.values_list("kind", "key", "erased_at"):
        earlier = keys.get((kind, key))
        keys[(kind, key)] = erased_at if earlier is None or erased_at > earlier else earlier
    missing = [pair for pair in from_file if pair not in keys]
    for pair, when in from_file.items():
        known = keys.get(pair)
        if known is None or (when is not None and when > known):
            keys[pair] = when
    if missing:
        with transaction.atomic():
            Tombstone.objects.bulk_create(
                Tombstone(kind=kind, key=key, erased_at=from_file[(kind, key)] or timezone.now())
                for kind, key in missing
            )

    counts: dict[str, int] = {}
    for entry in entries():
        if not any(kind in entry.identifiers for kind, key in keys):
            continue
        for chunk in _key_chunks(keys):
            condition = _replay_condition(entry.model, entry.identifiers, entry.clock, chunk)
            if entry.label == REQUEST_LABEL:
                cleared = _replay_forget_contact(chunk, actor=actor)
                if cleared:
                    counts[REQUEST_LABEL] = counts.get(REQUEST_LABEL, 0) + cleared
                continue
            if entry.erasure == "retain":
                continue
            records = entry.model._default_manager.filter(condition)
            deleted, anonymised = erase_model(
                entry, records, request=None, actor=actor, subject_key="", action=AuditEvent.RIGHTS_ERASURE_REPLAYED
            )
            for label, n in (*deleted.items(), *anonymised.items()):
                counts[label] = counts.get(label, 0) + n
    if other_systems:
        for source, n in surface.external_replay(list(keys)).items():
            counts[source] = counts.get(source, 0) + n
    audit_record(
        action=AuditEvent.RIGHTS_ERASURES_REPLAYED,
        actor=actor,
        object_type="rights.tombstone",
        data={"keys": len(keys), "from_file_only": len(missing), "erased": counts},
    )
    log.info("erasure journal replayed: %d keys, %d rows erased again", len(keys), sum(counts.values()))
    return dict(sorted(counts.items()))


def _replay_forget_contact(chunk: dict[tuple[str, str], Any], *, actor: Actor) -> int:
    """Restored requests of erased people: their address, phone and details are cleared again.

    Every request received before the erasure, open or not: a backup from before it brings back
    the erasure request itself as open, with the address that its answer has since forgotten.
    """
    fields = {"email": "email_index", "phone": "phone_index"}
    condition = Q(pk__in=[])
    for (kind, key), erased_at in chunk.items():
        if kind in fields:
            match = Q(**{fields[kind]: key})
            if erased_at is not None:
                match &= Q(received_at__lte=erased_at)
            condition |= match
    with transaction.atomic():
        # Told apart without decrypting: a request restored from before the erasure has no mark.
        rows = Request.objects.filter(condition, contact_erased_at__isnull=True)
        cleared = rows.update(email="", phone="", details="", contact_erased_at=timezone.now())
        if cleared:
            audit_record(
                action=AuditEvent.RIGHTS_ERASURE_REPLAYED,
                actor=actor,
                object_type="rights.tombstone",
                data={"model": REQUEST_LABEL, "contact_cleared": cleared},
            )
    return cleared
