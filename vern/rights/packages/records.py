"""The person's rows in every registered model, read by their stored keys and shaped into blocks.

A block is one model's rows as the packages need them: JSON values (times in UTC,
text masked), CSV columns, and the cells and headings the readable page shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from vern.declaration.schema import Declaration
from vern.lib.days import OSLO
from vern.registry import surface
from vern.registry.entries import Entry, Part, parts
from vern.rights.models import Request
from vern.rights.packages.masking import Masker
from vern.rights.packages.titles import FIELD_TITLES
from vern.rights.selectors import PersonKeys, person_keys, person_of, records_by_keys

PORTABLE_BASES = frozenset({"a", "b"})


@dataclass
class Block:
    """One model's rows for the person: JSON rows, CSV columns and the cells the page shows."""

    model: type[models.Model] | None  # None for rows of another system (``source``)
    title: str
    fields: list[str]
    columns: list[str]  # JSON/CSV keys: id, (of), each field and <field>_label for one with choices
    rows: list[dict[str, Any]]
    cells: list[list[str]]  # the page's cells, one list per row, in ``headings`` order
    headings: list[str]
    entry: Entry | None = None
    part: Part | None = None
    source: str = ""  # another system's source (``moeteadm.users``), found through a connector
    purpose: str = ""  # the declared purpose of another system's rows

    @property
    def label(self) -> str:
        if self.model is None:
            return self.source
        return self.model._meta.label

    @property
    def csv_name(self) -> str:
        if self.model is None:
            return f"records/{self.source}.csv"
        return f"records/{self.model._meta.label_lower}.csv"


def _model_title(model: type[models.Model]) -> str:
    """The model's own name for its rows, in the language active now (the reader's)."""
    return str(capfirst(model._meta.verbose_name_plural))


def _field_title(model_field: models.Field[Any, Any]) -> str:
    title = FIELD_TITLES.get(model_field.name)
    return str(title) if title is not None else str(capfirst(model_field.verbose_name))


def utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if timezone.is_naive(value) else value.astimezone(dt.UTC)


def _plain(value: Any, masker: Masker) -> Any:
    """A stored value as JSON: ISO 8601 times and dates, text masked."""
    if isinstance(value, dt.datetime):
        return utc(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return masker.value(value)


def _shown(value: Any, plain: Any) -> str:
    """The same value for a reader: local time in Oslo, lists joined, yes or no."""
    if isinstance(value, dt.datetime):
        return utc(value).astimezone(OSLO).strftime("%Y-%m-%d %H:%M")
    if plain is None or plain == "":
        return ""
    if isinstance(plain, bool):
        return _("Yes") if plain else _("No")
    if isinstance(plain, list):
        return ", ".join(item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in plain)
    if isinstance(plain, dict):
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)
    return str(plain)


def block_of(
    model: type[models.Model],
    names: Iterable[str],
    objects: list[models.Model],
    masker: Masker,
    *,
    parent_field: str = "",
) -> Block:
    fields = [model._meta.get_field(name) for name in names]
    concrete = [f for f in fields if isinstance(f, models.Field)]
    columns = ["id", *(["of"] if parent_field else [])]
    headings: list[str] = []
    for model_field in concrete:
        columns.append(model_field.name)
        if model_field.choices:
            columns.append(f"{model_field.name}_label")
        headings.append(_field_title(model_field))
    link = model._meta.get_field(parent_field) if parent_field else None
    rows, cells = [], []
    for obj in objects:
        row: dict[str, Any] = {"id": obj.pk}
        if isinstance(link, models.ForeignKey):
            row["of"] = getattr(obj, link.attname)
        shown = []
        for model_field in concrete:
            value = getattr(obj, model_field.attname)
            plain = _plain(value, masker)
            row[model_field.name] = plain
            if model_field.choices:
                label = str(dict(model_field.flatchoices).get(value, value)) if value not in (None, "") else ""
                row[f"{model_field.name}_label"] = label
                shown.append(label)
            else:
                shown.append(_shown(value, plain))
        rows.append(row)
        cells.append(shown)
    return Block(
        model=model,
        title=_model_title(model),
        fields=[f.name for f in concrete],
        columns=columns,
        rows=rows,
        cells=cells,
        headings=headings,
    )


def _contact_fields(entry: Entry) -> list[tuple[str, str]]:
    """(kind, field) for each exported contact field beside a blind index (``email`` by ``email_index``)."""
    found = []
    for kind in ("email", "phone"):
        for index_field in entry.identifiers.get(kind, ()):
            contact = index_field.removesuffix("_index")
            if contact != index_field and contact in entry.export:
                found.append((kind, contact))
    return found


@dataclass(frozen=True)
class Rows:
    entry: Entry
    objects: list[models.Model]


@dataclass(frozen=True)
class Loaded:
    keys: PersonKeys  # per kind, every stored form the person was found by
    searched: list[Entry]  # every registered model the person's keys can find rows in
    found: list[Rows]  # those that hold rows
    masker: Masker


def load_rows(request: Request, declaration: Declaration, *, portable: bool = False) -> Loaded:
    """The person's rows in every registered model, and the masker that knows their own identifiers."""
    keys = person_keys(request)
    masker = Masker()
    published = (
        declaration.controller.email,
        declaration.controller.dpo_email,
        declaration.rights.request_email,
        declaration.authority.email,
    )
    for address in published:
        if address:
            masker.own_email(address)
    if request.email:
        masker.own_email(request.email)
    if request.phone:
        masker.own_phone(request.phone)
    proven = {kind: key for kind, key in keys.items() if kind in ("email", "phone")}
    loaded, searched = [], []
    for found in records_by_keys(keys, counted=False):
        entry = found.entry
        searched.append(entry)
        records = found.records
        if portable:
            model_fields = {f.name for f in entry.model._meta.get_fields()}
            if "legal_basis" in model_fields:
                records = records.filter(legal_basis__in=sorted(PORTABLE_BASES))
            elif not entry.bases or not set(entry.bases) <= PORTABLE_BASES:
                continue
        identifier_fields = {name for names in entry.identifiers.values() for name in names}
        objects = list(records.only("pk", *entry.export, *identifier_fields))
        if not objects:
            continue
        # The contact details on the person's own records (found by a key they proved) are theirs too.
        contacts = _contact_fields(entry)
        proving = [
            (name, key) for kind, forms in proven.items() for key in forms for name in entry.identifiers.get(kind, ())
        ]
        for obj in objects if contacts else []:
            if any(getattr(obj, name) == key for name, key in proving):
                for kind, contact in contacts:
                    value = getattr(obj, contact) or ""
                    if value:
                        (masker.own_email if kind == "email" else masker.own_phone)(value)
        loaded.append(Rows(entry=entry, objects=objects))
    return Loaded(keys=keys, searched=searched, found=loaded, masker=masker)


@functools.cache
def _parts_by_parent() -> dict[type[models.Model], list[Part]]:
    """The registry's parts by their parent model (models do not change while the process runs)."""
    grouped: dict[type[models.Model], list[Part]] = {}
    for part in parts():
        parent = part.parent
        if parent is not None and part.export:
            grouped.setdefault(parent, []).append(part)
    return grouped


def blocks_of(loaded: list[Rows], masker: Masker) -> list[Block]:
    """A block per model with rows, each followed by the rows of its parts (the contact log of an enquiry)."""
    grouped = _parts_by_parent()
    blocks = []
    for item in loaded:
        block = block_of(item.entry.model, item.entry.export, item.objects, masker)
        block.entry = item.entry
        blocks.append(block)
        parent_pks = [obj.pk for obj in item.objects]
        for part in grouped.get(item.entry.model, []):
            part_objects = list(
                part.model._default_manager.filter(**{f"{part.parent_field}__in": parent_pks})
                .order_by(part.parent_field, "pk")
                .only("pk", part.parent_field, *part.export)
            )
            if part_objects:
                part_block = block_of(part.model, part.export, part_objects, masker, parent_field=part.parent_field)
                part_block.part = part
                blocks.append(part_block)
    return blocks


def external_blocks(request: Request, masker: Masker, *, portable: bool = False) -> list[Block]:
    """The person's rows in the company's other systems (their connectors, through the registry's
    surface), one block per source; for portability only the sources declared portable."""
    blocks = []
    for found in surface.external_rows(person_of(request)):
        if portable and not found.portable:
            continue
        rows, cells = [], []
        for source_row in found.rows:  # found by the person's proven keys: the contacts on them are theirs
            for kind, names in found.contacts.items():
                for name in names:
                    value = source_row.get(name)
                    if isinstance(value, str) and value:
                        (masker.own_email if kind == "email" else masker.own_phone)(value)
        for source_row in found.rows:
            row: dict[str, Any] = {}
            shown = []
            for name in found.fields:
                value = source_row.get(name)
                plain = _plain(value, masker)
                row[name] = plain
                shown.append(_shown(value, plain))
            rows.append(row)
            cells.append(shown)
        blocks.append(
            Block(
                model=None,
                title=found.title,
                fields=list(found.fields),
                columns=list(found.fields),
                rows=rows,
                cells=cells,
                headings=list(found.fields),
                source=found.source,
                purpose=found.purpose,
            )
        )
    return blocks
