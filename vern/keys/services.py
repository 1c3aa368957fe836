"""``vern keys rotate``: every stored value under the current keys, online and resumable.

Three steps, each in batches ordered by primary key, each batch one short transaction
that also moves the step's cursor (``RotationCursor``), so a rotation that is killed
continues after the last finished batch when it runs again:

1. **Encryption**: every ``EncryptedTextField`` of every installed model whose value was
   written under another key than the first of ``VERN_ENCRYPTION_KEYS`` is decrypted and
   encrypted again under it.
2. **Blind indexes**, when ``VERN_INDEX_KEYS`` lists more than one key: an index beside
   its plain value (``email_index`` beside ``email``) is computed again from it; an index
   without one (``subject_key``, ``about_index``) is translated through the indexes of the
   people whose plain value is stored; the enquiries' search digests are rebuilt from the
   names. Rows of a hash chain (the audit log) are never rewritten: they keep the mac and
   the keyed references of the key they were written under (ADR 0003).
3. **Counting**: the values per key are counted and recorded for ``vern keys status`` and
   the deploy check.

Why compare-and-swap, not locks: the site keeps serving while this runs, and a page may
save a row at any moment. Each row is written with ``UPDATE … WHERE pk = %s AND column =
<the ciphertext or index just read>``. When someone changed the row in between, the update
touches nothing; the row is read again and tried again, so a concurrent write is never
overwritten with a stale value, and no serving row waits for a lock held across a whole
table. The one exception is the search digests, a set of rows per enquiry: there the
enquiries of a batch are locked (``select_for_update``) for the short batch, so that a
correction of a name (which replaces the set) and the rebuild never interleave.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, connection, models, transaction

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.keys.columns import EncryptedTable, IndexColumn, encrypted_tables, index_columns
from vern.keys.models import RotationCursor
from vern.keys.selectors import IndexMap, columns_of, index_map, key_use_count, key_use_record
from vern.lib.crypto import DecryptionError, IndexKeys, Keyring, blind_index
from vern.lib.keys import index_keys, keyring
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# How often one row is read again when others keep changing it under the rotation.
ATTEMPTS = 5


@dataclass
class Progress:
    """Counts only (never a value): what one run did."""

    values_reencrypted: int = 0
    indexes_recomputed: int = 0
    search_digests_rebuilt: int = 0
    rows_changed_meanwhile: int = 0  # a concurrent write won; the row was read again
    values_unreadable: int = 0  # under a key that is not configured, or damaged
    references_untranslatable: int = 0  # no stored plain value to compute the index from
    references_duplicate: int = 0  # the new index is already stored in a unique column
    batches: int = 0
    complete: bool = False

    def counts(self) -> dict[str, Any]:
        return asdict(self)


class _Stop(Exception):
    """The batch limit was reached; the cursors say where to continue."""


@dataclass
class _Budget:
    max_batches: int | None
    progress: Progress
    after_batch: Callable[[Progress], None] = field(default=lambda progress: None)

    def spend(self) -> None:
        self.progress.batches += 1
        self.after_batch(self.progress)
        if self.max_batches is not None and self.progress.batches >= self.max_batches:
            raise _Stop


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _q(model._meta.db_table)


def _pk(model: type[models.Model]) -> str:
    return _q(model._meta.pk.column)


def _select(
    model: type[models.Model], columns: list[str], *, after: int | None = None, pk: int | None = None, limit: int = 1
) -> list[tuple[Any, ...]]:
    """Rows as stored (ciphertexts, not plain text), by primary key."""
    where, params = (f"{_pk(model)} > %s", [after]) if pk is None else (f"{_pk(model)} = %s", [pk])
    sql = (
        f"SELECT {_pk(model)}, {', '.join(_q(c) for c in columns)} FROM {_table(model)} "  # noqa: S608 (quoted model names)
        f"WHERE {where} ORDER BY {_pk(model)} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return list(cursor.fetchall())


def _newest(model: type[models.Model]) -> int:
    newest = model._default_manager.aggregate(newest=models.Max("pk"))["newest"]
    return int(newest or 0)


def _swap(model: type[models.Model], pk: int, new: dict[str, str], expected: dict[str, str | None]) -> bool:
    """``UPDATE … SET new WHERE pk AND every expected column still holds what was read``."""
    sets = ", ".join(f"{_q(column)} = %s" for column in new)
    conditions = " AND ".join(
        f"{_q(column)} IS NULL" if value is None else f"{_q(column)} = %s" for column, value in expected.items()
    )
    params: list[str | int] = [*new.values(), pk, *(value for value in expected.values() if value is not None)]
    with connection.cursor() as cursor:
        # The names are the model's own, quoted; every value is a parameter.
        sql = f"UPDATE {_table(model)} SET {sets} WHERE {_pk(model)} = %s AND {conditions}"  # noqa: S608
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)


def _cursor(step: str, target: str) -> RotationCursor:
    cursor, _ = RotationCursor.objects.get_or_create(step=step, defaults={"target_key_id": target})
    if cursor.target_key_id != target:
        cursor.target_key_id, cursor.last_pk = target, 0
        cursor.save(update_fields=["target_key_id", "last_pk", "updated_at"])
    return cursor


def _batches(
    model: type[models.Model], columns: list[str], *, step: str, target: str, batch_size: int, budget: _Budget
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield each batch inside its own transaction; the cursor moves when the caller is done with it.

    The step ends at the newest row that existed when it began: a row added later was written
    under the current keys already, so the rotation never chases a busy table's inserts.
    """
    cursor = _cursor(step, target)
    newest = _newest(model)
    while True:
        with transaction.atomic():
            rows = [row for row in _select(model, columns, after=cursor.last_pk, limit=batch_size) if row[0] <= newest]
            if not rows:
                return
            yield rows
            cursor.last_pk = int(rows[-1][0])
            cursor.save(update_fields=["last_pk", "updated_at"])
        budget.spend()


# ---------------------------------------------------------------- step 1: encryption


def _reencrypt_row(table: EncryptedTable, ring: Keyring, row: tuple[Any, ...], progress: Progress) -> None:
    pk = int(row[0])
    for _attempt in range(ATTEMPTS):
        values = dict(zip(table.fields, row[1:], strict=True))
        new: dict[str, str] = {}
        expected: dict[str, str | None] = {}
        for model_field, stored in values.items():
            if stored is None or not ring.needs_rotation(stored):
                continue
            try:
                plain = ring.decrypt(stored, associated_data=model_field.associated_data)
            except DecryptionError:
                progress.values_unreadable += 1
                continue
            new[model_field.column] = ring.encrypt(plain, associated_data=model_field.associated_data)
            expected[model_field.column] = stored
        if not new or _swap(table.model, pk, new, expected):
            progress.values_reencrypted += len(new)
            return
        progress.rows_changed_meanwhile += 1
        fresh = _select(table.model, [f.column for f in table.fields], pk=pk)
        if not fresh:
            return  # deleted meanwhile
        row = fresh[0]
    log.warning("keys: row %s of %s kept changing; the next run rotates it", pk, table.label)


def _reencrypt(ring: Keyring, *, batch_size: int, budget: _Budget) -> None:
    for table in encrypted_tables():
        columns = [f.column for f in table.fields]
        for rows in _batches(
            table.model,
            columns,
            step=f"encrypt:{table.label}",
            target=ring.current,
            batch_size=batch_size,
            budget=budget,
        ):
            for row in rows:
                _reencrypt_row(table, ring, row, budget.progress)


# ---------------------------------------------------------------- step 2: blind indexes


def _current_index(column: IndexColumn, plain: str, keys: IndexKeys) -> str | None:
    try:
        value = normalise_email(plain) if column.kind == "email" else normalise_phone(plain)
    except InvalidIdentifier:
        return None
    return blind_index(value, kind=column.kind, root_key=keys.root)


def _reindex_row(
    column: IndexColumn, keys: IndexKeys, ring: Keyring, mapping: IndexMap, row: tuple[Any, ...], progress: Progress
) -> None:
    pk = int(row[0])
    for _attempt in range(ATTEMPTS):
        stored, cipher = row[1], row[2] if column.partner is not None else None
        if not stored:
            return
        target: str | None = None
        if column.partner is not None and cipher:
            try:
                plain = ring.decrypt(cipher, associated_data=column.partner.associated_data)
            except DecryptionError:
                progress.values_unreadable += 1
                return
            target = _current_index(column, plain, keys) if plain else None
        if target is None:
            known = mapping.translate(stored)
            if known is None:
                if not mapping.is_current(stored):
                    progress.references_untranslatable += 1
                return
            target = known
        if target == stored:
            return
        expected: dict[str, str | None] = {column.column: stored}
        if column.partner is not None:
            expected[column.partner.column] = cipher
        try:
            with transaction.atomic():  # a savepoint: a unique column may already hold the new index
                swapped = _swap(column.model, pk, {column.column: target}, expected)
        except IntegrityError:
            progress.references_duplicate += 1
            return
        if swapped:
            progress.indexes_recomputed += 1
            return
        progress.rows_changed_meanwhile += 1
        fresh = _select(column.model, columns_of(column), pk=pk)
        if not fresh:
            return
        row = fresh[0]
    log.warning("keys: row %s of %s kept changing; the next run recomputes it", pk, column.label)


def _reindex(keys: IndexKeys, ring: Keyring, *, batch_size: int, budget: _Budget) -> None:
    mapping = index_map(keys, ring)
    for column in index_columns():
        if column.chain is not None:
            continue  # part of a mac: kept as written, found under every configured key
        for rows in _batches(
            column.model,
            columns_of(column),
            step=f"index:{column.label}",
            target=keys.current,
            batch_size=batch_size,
            budget=budget,
        ):
            for row in rows:
                _reindex_row(column, keys, ring, mapping, row, budget.progress)
    _rebuild_search_digests(keys, batch_size=batch_size, budget=budget)


def _rebuild_search_digests(keys: IndexKeys, *, batch_size: int, budget: _Budget) -> None:
    """The enquiries' search digests, rebuilt from the names, organisations and email addresses
    under the current index key."""
    from vern.enquiries.models import Enquiry, SearchTerm
    from vern.enquiries.search import enquiry_digests

    cursor = _cursor("index:enquiries.SearchTerm", keys.current)
    newest = _newest(Enquiry)
    while True:
        with transaction.atomic():
            enquiries = list(
                Enquiry.objects.select_for_update()
                .filter(pk__gt=cursor.last_pk, pk__lte=newest)
                .order_by("pk")
                .only("pk", "name", "organisation", "email")[:batch_size]
            )
            if not enquiries:
                return
            stored: dict[int, set[str]] = {}
            for enquiry_id, term in SearchTerm.objects.filter(enquiry__in=enquiries).values_list(
                "enquiry_id", "digest"
            ):
                stored.setdefault(enquiry_id, set()).add(term)
            for enquiry in enquiries:
                wanted = enquiry_digests(enquiry, root_key=keys.root)
                have = stored.get(enquiry.pk, set())
                if wanted == have:
                    continue
                SearchTerm.objects.filter(enquiry=enquiry, digest__in=have - wanted).delete()
                SearchTerm.objects.bulk_create(
                    [SearchTerm(enquiry=enquiry, digest=term) for term in sorted(wanted - have)], ignore_conflicts=True
                )
                budget.progress.search_digests_rebuilt += 1
            cursor.last_pk = enquiries[-1].pk
            cursor.save(update_fields=["last_pk", "updated_at"])
        budget.spend()


# ---------------------------------------------------------------- the command


def keys_rotate(
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    pause: float = 0.0,
    actor: Actor | None = None,
    after_batch: Callable[[Progress], None] | None = None,
) -> Progress:
    """Rotate every stored value to the current keys; stop after ``max_batches`` if given.

    ``pause`` seconds between batches spare a busy database (each batch is a short transaction
    either way).

    Safe to run while the site serves, and again after it was stopped: it continues where
    the last finished batch left off. Audited at the start and the end, with counts only.
    """
    if batch_size < 1 or pause < 0:
        raise ValueError("the batch size must be at least 1 and the pause not negative")
    actor = actor or Actor.cli()
    ring, keys = keyring(), index_keys()
    progress = Progress()

    def between_batches(done: Progress) -> None:
        if after_batch is not None:
            after_batch(done)
        if pause:
            time.sleep(pause)

    budget = _Budget(max_batches=max_batches, progress=progress, after_batch=between_batches)
    ids = {"encryption_key": ring.current, "index_key": keys.current}
    with transaction.atomic():
        audit_record(action=AuditEvent.KEYS_ROTATION_STARTED, actor=actor, object_type="keys", data=ids)
    try:
        _reencrypt(ring, batch_size=batch_size, budget=budget)
        if len(keys.keys) > 1:
            _reindex(keys, ring, batch_size=batch_size, budget=budget)
    except _Stop:
        with transaction.atomic():
            audit_record(
                action=AuditEvent.KEYS_ROTATION_STOPPED,
                actor=actor,
                object_type="keys",
                data={**ids, **progress.counts()},
            )
        return progress
    progress.complete = True
    # Done: the next run reads every table again from the start (skipping what is current), so a
    # value written meanwhile by a server still on the old keys is not left behind a cursor.
    RotationCursor.objects.all().delete()
    key_use_record(key_use_count(ring=ring, keys=keys))
    with transaction.atomic():
        audit_record(
            action=AuditEvent.KEYS_ROTATION_FINISHED, actor=actor, object_type="keys", data={**ids, **progress.counts()}
        )
    return progress
