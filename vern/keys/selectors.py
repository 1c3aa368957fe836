"""``vern keys status``: how many stored values use each key, and whether an old key can go.

Counting reads every table (it decrypts plain values to tell which index key made an
index), so it runs on demand (``vern keys status``, the end of ``vern keys rotate``) and
its result is recorded in ``KeyUse``; the deploy check reads only that record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from vern.keys.columns import IndexColumn, chained_models, encrypted_tables, index_columns
from vern.keys.models import KeyUse
from vern.lib.crypto import DecryptionError, IndexKeys, Keyring, blind_index
from vern.lib.fields import EncryptedTextField
from vern.lib.keys import index_keys, keyring
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone

# The key id recorded for a value that names no key (not a vern ciphertext, or damaged).
UNKNOWN = "?"
# The key id recorded for an index that no stored plain value explains (an erased person's).
UNATTRIBUTED = ""
SCAN_BATCH = 1000
# The column name under which a hash chain's macs are counted ("audit.Entry.mac").
CHAIN_COLUMN = ".mac"


def is_kept(column: str) -> bool:
    """Whether a counted column is never rewritten by a rotation (a hash chain's macs: ADR 0003)."""
    return column.endswith(CHAIN_COLUMN)


@dataclass(frozen=True)
class Use:
    kind: str  # "encryption" or "index"
    key_id: str
    column: str
    values: int


@dataclass
class IndexMap:
    """For every person whose email or phone is stored in plain text somewhere: their index
    under each configured key. ``old`` maps an index under an old key to (that key's id, the
    index under the current key)."""

    current_id: str
    old: dict[str, tuple[str, str]] = field(default_factory=dict)
    current: set[str] = field(default_factory=set)

    def translate(self, value: str) -> str | None:
        hit = self.old.get(value)
        return hit[1] if hit else None

    def is_current(self, value: str) -> bool:
        return value in self.current

    def key_of(self, value: str) -> str:
        if value in self.current:
            return self.current_id
        hit = self.old.get(value)
        return hit[0] if hit else UNATTRIBUTED


def _scan(model: type[models.Model], columns: list[str]) -> Iterator[tuple[Any, ...]]:
    """Every row's stored values (ciphertexts as stored), by primary key, in batches."""
    q = connection.ops.quote_name
    pk = q(model._meta.pk.column)
    sql = (
        f"SELECT {pk}, {', '.join(q(c) for c in columns)} FROM {q(model._meta.db_table)} "  # noqa: S608 (quoted model names)
        f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
    )
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [after, SCAN_BATCH])
            rows = cursor.fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


def _normalised(kind: str, plain: str) -> str | None:
    try:
        return normalise_email(plain) if kind == "email" else normalise_phone(plain)
    except InvalidIdentifier:
        return None


def _plain(column: IndexColumn, ring: Keyring, cipher: str | None) -> str | None:
    if not cipher or column.partner is None:
        return None
    try:
        plain = ring.decrypt(cipher, associated_data=column.partner.associated_data)
    except DecryptionError:
        return None
    return _normalised(column.kind, plain) if plain else None


def columns_of(column: IndexColumn) -> list[str]:
    """The index's database column, and its partner's when it has one."""
    return [column.column, column.partner.column] if column.partner is not None else [column.column]


def _plain_values(ring: Keyring) -> Iterator[tuple[str, str]]:
    """Every stored plain email and phone number (normalised), with its kind, repeats included."""
    for column in index_columns():
        if column.partner is None:
            continue
        for row in _scan(column.model, columns_of(column)):
            plain = _plain(column, ring, row[2])
            if plain is not None:
                yield column.kind, plain


def index_map(keys: IndexKeys, ring: Keyring) -> IndexMap:
    """The indexes of every stored plain email and phone, under each configured index key."""
    mapping = IndexMap(current_id=keys.current)
    for kind, plain in _plain_values(ring):
        now = blind_index(plain, kind=kind, root_key=keys.root)
        mapping.current.add(now)
        for key_id, root in keys.keys.items():
            if key_id != keys.current:
                mapping.old[blind_index(plain, kind=kind, root_key=root)] = (key_id, now)
    return mapping


@dataclass
class IndexForms:
    """Each stored plain email and phone number's index under every configured index key.

    Called with stored indexes, it returns them together with the same people's indexes
    under the other keys. A stored index whose plain value is stored nowhere (an erased
    person's, in a row that keeps only the reference) has no other form that can be known.
    """

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __call__(self, stored: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for value in stored:
            found.add(value)
            found.update(self.groups.get(value, ()))
        return found


def index_forms(keys: IndexKeys, ring: Keyring) -> IndexForms:
    """The forms of every person whose plain email or phone is stored (a full scan)."""
    forms = IndexForms()
    for kind, plain in _plain_values(ring):
        first = blind_index(plain, kind=kind, root_key=keys.root)
        if first in forms.groups:
            continue  # the same person, stored in another row
        group = (first, *(blind_index(plain, kind=kind, root_key=root) for root in keys.roots()[1:]))
        for form in group:
            forms.groups[form] = group
    return forms


def every_form() -> IndexForms | None:
    """The keys app's ``index_forms`` for the registry: None while one index key is configured."""
    keys = index_keys()
    return index_forms(keys, keyring()) if len(keys.keys) > 1 else None


def _token_key(token: str) -> str:
    version, _, rest = token.partition(".")
    key_id, _, body = rest.partition(".")
    return key_id[:32] if version == "v1" and key_id and body else UNKNOWN


def _encryption_uses(uses: Counter[tuple[str, str, str]]) -> None:
    for table in encrypted_tables():
        for row in _scan(table.model, [f.column for f in table.fields]):
            for model_field, stored in zip(table.fields, row[1:], strict=True):
                if stored is not None:
                    uses[("encryption", _token_key(stored), model_field.associated_data)] += 1


def _index_uses(uses: Counter[tuple[str, str, str]], keys: IndexKeys, ring: Keyring) -> None:
    mapping = index_map(keys, ring)
    for column in index_columns():
        if column.chain is not None:
            continue  # counted by its chain's macs below
        for row in _scan(column.model, columns_of(column)):
            stored = row[1]
            if not stored:
                continue
            plain = _plain(column, ring, row[2] if column.partner is not None else None)
            key_id = mapping.key_of(stored)
            if plain is not None:
                key_id = next(
                    (
                        kid
                        for kid, root in keys.keys.items()
                        if blind_index(plain, kind=column.kind, root_key=root) == stored
                    ),
                    key_id,
                )
            uses[("index", key_id, column.label)] += 1
    for model, chain in chained_models():
        for entry in model._default_manager.order_by("pk").iterator(chunk_size=SCAN_BATCH):
            uses[("index", chain.key_of(entry) or UNKNOWN, f"{model._meta.label}{CHAIN_COLUMN}")] += 1
    _search_uses(uses, keys, ring)


def _search_uses(uses: Counter[tuple[str, str, str]], keys: IndexKeys, ring: Keyring) -> None:
    from vern.enquiries.models import Enquiry, SearchTerm
    from vern.enquiries.search import index_digests

    label = SearchTerm._meta.label + ".digest"
    stored: dict[int, list[str]] = {}
    for enquiry_id, term in SearchTerm.objects.order_by("enquiry_id").values_list("enquiry_id", "digest").iterator():
        stored.setdefault(enquiry_id, []).append(term)
    fields = [f for f in Enquiry._meta.concrete_fields if f.name in ("name", "organisation", "email")]
    assert all(isinstance(f, EncryptedTextField) for f in fields)
    for pk, *ciphers in _scan(Enquiry, [f.column for f in fields]):
        if pk not in stored:
            continue
        try:
            texts = [
                ring.decrypt(cipher, associated_data=f"{Enquiry._meta.label}.{f.name}") if cipher else ""
                for f, cipher in zip(fields, ciphers, strict=True)
            ]
        except DecryptionError:
            uses[("index", UNKNOWN, label)] += len(stored[pk])
            continue
        by_key = {kid: index_digests(*texts, root_key=root) for kid, root in keys.keys.items()}
        for term in stored[pk]:
            uses[("index", next((kid for kid, terms in by_key.items() if term in terms), UNKNOWN), label)] += 1


def key_use_count(*, ring: Keyring, keys: IndexKeys) -> list[Use]:
    """Count every stored value by the key it was made with (a full scan)."""
    uses: Counter[tuple[str, str, str]] = Counter()
    _encryption_uses(uses)
    _index_uses(uses, keys, ring)
    return [
        Use(kind=kind, key_id=key_id, column=column, values=n) for (kind, key_id, column), n in sorted(uses.items())
    ]


def key_use_record(uses: list[Use]) -> None:
    """Keep the count for the deploy check, replacing the one before."""
    now = timezone.now()
    with transaction.atomic():
        KeyUse.objects.all().delete()
        KeyUse.objects.bulk_create(
            KeyUse(kind=use.kind, key_id=use.key_id, column=use.column, values=use.values, counted_at=now)
            for use in uses
            if use.values
        )


def key_use_recorded() -> list[Use]:
    return [
        Use(kind=row.kind, key_id=row.key_id, column=row.column, values=row.values)
        for row in KeyUse.objects.order_by("kind", "key_id", "column")
    ]


@dataclass(frozen=True)
class KeyVerdict:
    """One key in the status: how many values use it, and whether it may leave the configuration."""

    kind: str
    key_id: str
    configured: bool
    current: bool
    values: int
    columns: dict[str, int]

    @property
    def retirable(self) -> bool:
        return self.configured and not self.current and self.values == 0


def verdicts(uses: list[Use], *, ring: Keyring, keys: IndexKeys) -> list[KeyVerdict]:
    """Per key id (configured or still used): its count and whether it can be retired."""
    found: list[KeyVerdict] = []
    for kind, configured, current in (
        ("encryption", list(ring.keys), ring.current),
        ("index", list(keys.keys), keys.current),
    ):
        mine = [use for use in uses if use.kind == kind and use.key_id != UNATTRIBUTED]
        ids = configured + sorted({use.key_id for use in mine} - set(configured))
        for key_id in ids:
            columns = {use.column: use.values for use in mine if use.key_id == key_id}
            found.append(
                KeyVerdict(
                    kind=kind,
                    key_id=key_id,
                    configured=key_id in configured,
                    current=key_id == current,
                    values=sum(columns.values()),
                    columns=columns,
                )
            )
    return found


def unattributed(uses: list[Use]) -> dict[str, int]:
    """Index columns' references that no stored plain value explains (erased people), by column."""
    return {use.column: use.values for use in uses if use.kind == "index" and use.key_id == UNATTRIBUTED}
