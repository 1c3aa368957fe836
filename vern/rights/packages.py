"""The packages a person gets back: a copy of their data (Art. 15) and their data to take along (Art. 20).

Both are built by walking the registry (``vern.registry.entries``), never from a
list kept here: every registered model is searched by the person's stored keys,
with an indexed lookup each, and only the person's rows are read.

The access package (LAW.md R14, §1c) is a zip of

- ``data.json``: everything, under stable top-level keys (``ACCESS_KEYS``):
  ``confirmation`` (that data is processed, by whom, which models were searched),
  ``purposes``, ``categories``, ``recipients``, ``retention``, ``source``, ``rights``,
  ``complaint``, ``automated_decisions`` and ``transfers`` (the supplementary
  information, from the published declaration), ``records`` (one block per model
  with rows, parts after their parent) and ``audit`` (who saw or changed what: R22);
- ``records/<app_label>.<model>.csv``: one file per block, with a header row;
- ``index.html``: the same, readable, in the request's language.

The portability package (R18) holds only what the person provided on consent (a)
or contract (b): ``portability.json``, described by ``PORTABILITY_SCHEMA``, and a
CSV per model.

Values: times in ISO 8601 (UTC), dates as ``YYYY-MM-DD``, a field with choices as its
stored value plus ``<field>_label``, the readable label. In text, any email address
or phone number that is not the person's own is replaced by ``[masked]`` (Art. 15(4)).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import models, transaction
from django.http import HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.audit.models import Entry as AuditEntry
from vern.audit.services import Actor, audit_record
from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration, Purpose
from vern.declaration.selectors import (
    MECHANISMS,
    bases_text,
    countries_text,
    declaration_of,
    latest_version,
    localise,
    published_declaration,
    retention_line,
)
from vern.lib.csvsafe import safe_cell
from vern.lib.logs import EMAIL_PATTERN, PHONE_PATTERN
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone
from vern.mail import emails
from vern.registry.entries import Entry, Part, parts
from vern.rights import deadlines, services
from vern.rights.models import Download, Event, Request
from vern.rights.package_titles import ACTOR_TITLES, FIELD_TITLES, MODEL_TITLES
from vern.rights.portability_schema import PORTABILITY_SCHEMA
from vern.rights.selectors import person_keys, records_by_keys

DOWNLOAD_HOURS = 168  # a download link works for seven days, once
MASK = "[masked]"
PORTABLE_BASES = frozenset({"a", "b"})
# Fields that staff or the system set about a record, not data the person provided: left out
# of the portability package (Art. 20 covers provided and observed data, not what we derived).
NOT_PROVIDED = frozenset(
    {
        "status",
        "purpose",
        "legal_basis",
        "policy_version",
        "last_contact_at",
        "became_customer_at",
        "relationship_ended_at",
        "verified_at",
        "due_on",
        "extended_to",
        "extension_reason",
        "closed_at",
        "refusal_ground",
        "outcome",
    }
)
ACCESS_KEYS = (
    "confirmation",
    "purposes",
    "categories",
    "recipients",
    "retention",
    "source",
    "rights",
    "complaint",
    "automated_decisions",
    "transfers",
    "records",
    "audit",
)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPANY_FORMS = re.compile(r"-(as|asa|sa|ab|oy|aps|gmbh|ag|ltd|llc|inc|bv|nv)$")

# ------------------------------------------------------------------ masking (Art. 15(4))


@dataclass
class Masker:
    """Replaces other people's email addresses and phone numbers in text; the person's own stay.

    The person's own are the ones the request gives (the email they confirmed, the phone they
    typed: showing a number the requester wrote themselves reveals nothing to them) and those in
    the contact fields of records found by their email or verified phone. The addresses the
    declaration publishes (the controller's, the authority's) are nobody's personal data and stay.
    """

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def own_email(self, value: str) -> None:
        normal = _normal_email(value)
        if normal:
            self.emails.add(normal)

    def own_phone(self, value: str) -> None:
        normal = _normal_phone(value)
        if normal:
            self.phones.add(normal)

    def text(self, value: str) -> str:
        if "@" in value:
            value = EMAIL_PATTERN.sub(self._email, value)
        return PHONE_PATTERN.sub(self._phone, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def _email(self, match: re.Match[str]) -> str:
        normal = _normal_email(match[0])
        return match[0] if normal and normal in self.emails else MASK

    def _phone(self, match: re.Match[str]) -> str:
        text = match[0]
        if _DATE_LIKE.match(text) or sum(ch.isdigit() for ch in text) < 8:
            return text
        number = _normal_phone(text)
        if not number:
            return text  # a run of digits that is no phone number (an order or organisation number)
        return text if number in self.phones else MASK


@functools.lru_cache(maxsize=1024)
def _normal_email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidIdentifier:
        return ""


@functools.lru_cache(maxsize=1024)
def _normal_phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidIdentifier:
        return ""


# ------------------------------------------------------------------ reading the person's records


@dataclass
class Block:
    """One model's rows for the person: JSON rows, CSV columns and the cells the page shows."""

    model: type[models.Model]
    title: str
    fields: list[str]
    columns: list[str]  # JSON/CSV keys: id, (of), each field and <field>_label for one with choices
    rows: list[dict[str, Any]]
    cells: list[list[str]]  # the page's cells, one list per row, in ``headings`` order
    headings: list[str]
    entry: Entry | None = None
    part: Part | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def csv_name(self) -> str:
        return f"records/{self.model._meta.label_lower}.csv"


def _model_title(model: type[models.Model]) -> str:
    title = MODEL_TITLES.get(model._meta.label)
    return str(title) if title is not None else str(capfirst(model._meta.verbose_name_plural))


def _field_title(model_field: models.Field[Any, Any]) -> str:
    title = FIELD_TITLES.get(model_field.name)
    return str(title) if title is not None else str(capfirst(model_field.verbose_name))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if timezone.is_naive(value) else value.astimezone(dt.UTC)


def _plain(value: Any, masker: Masker) -> Any:
    """A stored value as JSON: ISO 8601 times and dates, text masked."""
    if isinstance(value, dt.datetime):
        return _utc(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return masker.value(value)


def _shown(value: Any, plain: Any) -> str:
    """The same value for a reader: local time in Oslo, lists joined, yes or no."""
    if isinstance(value, dt.datetime):
        return _utc(value).astimezone(deadlines.OSLO).strftime("%Y-%m-%d %H:%M")
    if plain is None or plain == "":
        return ""
    if isinstance(plain, bool):
        return _("Yes") if plain else _("No")
    if isinstance(plain, list):
        return ", ".join(item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in plain)
    if isinstance(plain, dict):
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)
    return str(plain)


def _block(
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
class _Rows:
    entry: Entry
    objects: list[models.Model]


@dataclass(frozen=True)
class _Loaded:
    keys: dict[str, str]
    searched: list[Entry]  # every registered model the person's keys can find rows in
    found: list[_Rows]  # those that hold rows
    masker: Masker


def _load(request: Request, declaration: Declaration, *, portable: bool = False) -> _Loaded:
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
        proving = [(name, key) for kind, key in proven.items() for name in entry.identifiers.get(kind, ())]
        for obj in objects if contacts else []:
            if any(getattr(obj, name) == key for name, key in proving):
                for kind, contact in contacts:
                    value = getattr(obj, contact) or ""
                    if value:
                        (masker.own_email if kind == "email" else masker.own_phone)(value)
        loaded.append(_Rows(entry=entry, objects=objects))
    return _Loaded(keys=keys, searched=searched, found=loaded, masker=masker)


@functools.cache
def _parts_by_parent() -> dict[type[models.Model], list[Part]]:
    """The registry's parts by their parent model (models do not change while the process runs)."""
    grouped: dict[type[models.Model], list[Part]] = {}
    for part in parts():
        parent = part.parent
        if parent is not None and part.export:
            grouped.setdefault(parent, []).append(part)
    return grouped


def _blocks(loaded: list[_Rows], masker: Masker) -> list[Block]:
    """A block per model with rows, each followed by the rows of its parts (the contact log of an enquiry)."""
    grouped = _parts_by_parent()
    blocks = []
    for item in loaded:
        block = _block(item.entry.model, item.entry.export, item.objects, masker)
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
                part_block = _block(part.model, part.export, part_objects, masker, parent_field=part.parent_field)
                part_block.part = part
                blocks.append(part_block)
    return blocks


# ------------------------------------------------------------------ the supplementary information (§1c)


def _published() -> tuple[PolicyVersion, Declaration]:
    version = latest_version()
    if version is None:
        raise services.RequestRefused("unpublished", "no privacy policy is published yet")
    return version, declaration_of(version)


def _text(value: Any, language: str) -> str | None:
    return None if value is None else str(localise(value, language))


def _controller(declaration: Declaration) -> dict[str, str]:
    controller = declaration.controller
    return {
        "name": controller.name,
        "org_number": controller.org_number,
        "email": controller.email,
        "website": controller.website,
    }


def _supplement(declaration: Declaration, blocks: list[Block], language: str) -> dict[str, Any]:
    """Purposes, categories, recipients, retention, source, rights, complaint, automated decisions
    and transfers, for the models that hold rows about the person (Art. 15(1)(a)-(h), 15(2))."""
    used: dict[str, list[str]] = {}  # purpose id → model labels
    rules: dict[str, list[str]] = {}  # retention rule id → model labels
    categories: dict[str, list[str]] = {}
    for block in blocks:
        entry = block.entry
        if entry is None:
            continue
        used.setdefault(entry.purpose, []).append(block.label)
        rules.setdefault(entry.retention, []).append(block.label)
        rule = declaration.rule(entry.retention)
        purpose = declaration.purpose(entry.purpose)
        named = rule.data_categories if rule is not None else purpose.data_categories if purpose is not None else []
        for category_id in named:
            categories.setdefault(category_id, []).append(block.label)
    purposes: list[Purpose] = [p for p in declaration.purposes if p.id in used]
    processors: dict[str, list[str]] = {}
    for purpose in purposes:
        for processor_id in purpose.recipients:
            processors.setdefault(processor_id, []).append(purpose.id)
    transfers = [p for p in declaration.processors if p.id in processors and p.transfer_mechanism]
    rights = declaration.rights
    authority = declaration.authority
    return {
        "purposes": [
            {
                "id": purpose.id,
                "name": _text(purpose.name, language),
                "legal_bases": list(purpose.legal_bases),
                "legal_basis_text": bases_text(purpose, language),
                "basis_explanation": _text(purpose.basis_explanation, language),
                "legitimate_interest": _text(purpose.legitimate_interest, language)
                if "f" in purpose.legal_bases
                else None,
                "models": used[purpose.id],
            }
            for purpose in purposes
        ],
        "categories": [
            {"id": c.id, "name": _text(c.name, language), "models": categories[c.id]}
            for c in declaration.data_categories
            if c.id in categories and c.personal
        ],
        "recipients": [
            {
                "id": p.id,
                "name": p.name,
                "service": _text(p.service, language),
                "countries": list(p.countries),
                "location": countries_text(p.countries, language),
                "status": p.status,
                "purposes": processors[p.id],
            }
            for p in declaration.processors
            if p.id in processors
        ],
        "retention": [
            {"id": rule.id, "text": retention_line(rule, language), "models": rules[rule.id]}
            for rule in declaration.retention.rules
            if rule.id in rules
        ],
        "source": [
            {
                "purpose": purpose.id,
                "purpose_name": _text(purpose.name, language),
                "text": _text(purpose.source, language),
            }
            for purpose in purposes
        ],
        "rights": {
            "intro": _text(rights.intro, language),
            "rights": [
                {"id": right.id, "name": _text(right.name, language), "description": _text(right.description, language)}
                for right in rights.rights
            ],
            "how_to_request": _text(rights.how_to_request, language),
            "request_email": rights.request_email,
            "response_days": rights.response_days,
        },
        "complaint": {
            "authority": _text(authority.name, language),
            "address": _text(authority.address, language),
            "email": authority.email,
            "website": authority.website,
            "text": _text(authority.complaint_text, language),
            "contact_us_first": _text(authority.contact_us_first, language),
        },
        "automated_decisions": {"used": False, "text": _text(rights.automated_decisions, language)},
        "transfers": {
            "statement": _text(declaration.transfers.statement, language),
            "safeguards": _text(declaration.transfers.safeguards, language),
            "outside_eea": [
                {
                    "recipient": p.name,
                    "countries": list(p.countries),
                    "location": countries_text(p.countries, language),
                    "mechanism": p.transfer_mechanism,
                    "mechanism_text": MECHANISMS[p.transfer_mechanism][language] if p.transfer_mechanism else "",
                }
                for p in transfers
            ],
        },
    }


def _audit_rows(
    blocks: list[Block], searched: list[Entry], declaration: Declaration, language: str
) -> list[dict[str, Any]]:
    """The audit log's rows about the person (R22): when, what, who (a kind, not a name), and why.

    Why is the purpose of the record the row is about (its ``object_type`` names the model,
    as ``enquiry`` or ``rights.request``), else the audit log's own purpose."""
    audit = next((block for block in blocks if block.model is AuditEntry), None)
    if audit is None:
        return []
    registered = {entry.model._meta.label_lower: entry for entry in searched}
    by_name = {entry.model._meta.model_name: entry for entry in searched}
    rows = []
    for row in audit.rows:
        object_type = str(row.get("object_type") or "")
        owner = registered.get(object_type) or by_name.get(object_type) or audit.entry
        purpose_id = owner.purpose if owner is not None else ""
        purpose = declaration.purpose(purpose_id)
        actor = str(row.get("actor_kind") or "")
        rows.append(
            {
                "at": row.get("created_at"),
                "action": row.get("action"),
                "actor": actor,
                "actor_text": str(ACTOR_TITLES.get(actor, actor)),
                "object": object_type,
                "purpose": purpose_id,
                "purpose_name": _text(purpose.name, language) if purpose is not None else None,
            }
        )
    return rows


# ------------------------------------------------------------------ the packages


def _cell(value: Any) -> Any:
    """Lists and dicts as JSON; then the guard every CSV export shares (formulas, bidi controls)."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return safe_cell(value)


def _csv(block: Block, columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = columns or block.columns
    writer.writerow(columns)
    for row in block.rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _zip(files: list[tuple[str, str]], moment: dt.datetime) -> bytes:
    local = moment.astimezone(deadlines.OSLO)
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode("utf-8"))
    return buffer.getvalue()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def access_data(request: Request) -> tuple[dict[str, Any], list[Block]]:
    """What the access package holds: ``data.json``'s content, and the blocks it was made from."""
    language = request.language if request.language in ("nb", "en") else "nb"
    version, declaration = _published()
    now = timezone.now()
    with translation.override(language):
        loaded = _load(request, declaration)
        blocks = _blocks(loaded.found, loaded.masker)
        supplement = _supplement(declaration, blocks, language)
        data: dict[str, Any] = {
            "confirmation": {
                "processed": any(block.rows for block in blocks),
                "text": _("%(controller)s processes personal data about you. This is a copy of all of it.")
                % {"controller": declaration.controller.name}
                if blocks
                else _("%(controller)s holds no personal data about you.")
                % {"controller": declaration.controller.name},
                "controller": _controller(declaration),
                "reference": services.reference_of(request),
                "generated_at": _utc(now).isoformat(timespec="seconds"),
                "language": language,
                "policy_version": version.number,
                "found_by": sorted(loaded.keys),
                "searched": [entry.label for entry in loaded.searched],
            },
            **supplement,
            "records": [
                {
                    "model": block.label,
                    "title": block.title,
                    "part_of": block.part.parent._meta.label if block.part and block.part.parent else None,
                    "purpose": block.entry.purpose if block.entry else None,
                    "retention": block.entry.retention if block.entry else None,
                    "fields": block.fields,
                    "rows": block.rows,
                }
                for block in blocks
            ],
            "audit": _audit_rows(blocks, loaded.searched, declaration, language),
        }
    return data, blocks


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return dt.datetime.fromisoformat(iso).astimezone(deadlines.OSLO).strftime("%Y-%m-%d %H:%M")


def access_package(request: Request) -> bytes:
    """The copy of the person's data (Art. 15): ``data.json``, a CSV per model, and ``index.html``."""
    data, blocks = access_data(request)
    language = data["confirmation"]["language"]
    with translation.override(language):
        page = render_to_string(
            "rights/package/index.html",
            {
                "data": data,
                "blocks": blocks,
                "audit": [{**row, "at": _local(row["at"])} for row in data["audit"]],
                "language": language,
                "generated": timezone.now().astimezone(deadlines.OSLO).strftime("%Y-%m-%d %H:%M"),
            },
        )
    files = [("index.html", page), ("data.json", _json(data))]
    files += [(block.csv_name, _csv(block)) for block in blocks]
    return _zip(files, timezone.now())


def portability_data(request: Request) -> tuple[dict[str, Any], list[Block]]:
    """What the person provided on consent (a) or contract (b) (Art. 20, LAW.md R18).

    A model is included when its rows carry their own basis (a ``legal_basis`` field: only
    rows on a or b) or when every basis it may rest on is a or b. Only the provided fields are
    kept (the export fields minus ``NOT_PROVIDED``); parts (staff's contact log) are not.
    """
    language = request.language if request.language in ("nb", "en") else "nb"
    _version, declaration = _published()
    with translation.override(language):
        loaded = _load(request, declaration, portable=True)
        masker = loaded.masker
        blocks, bases = [], []
        for item in loaded.found:
            names = [name for name in item.entry.export if name not in NOT_PROVIDED]
            block = _block(item.entry.model, names, item.objects, masker)
            block.entry = item.entry
            blocks.append(block)
            if hasattr(item.objects[0], "legal_basis"):
                bases.append(sorted({str(getattr(obj, "legal_basis", "")) for obj in item.objects}))
            else:
                bases.append(sorted(item.entry.bases))
        data = {
            "format": "vern.portability",
            "version": 1,
            "schema": services.public_link("rights:portability_schema", "nb"),
            "controller": _controller(declaration),
            "generated_at": _utc(timezone.now()).isoformat(timespec="seconds"),
            "language": language,
            "records": [
                {
                    "model": block.label,
                    "title": block.title,
                    "bases": block_bases,
                    "fields": block.fields,
                    "rows": [{name: row[name] for name in block.fields} for row in block.rows],
                }
                for block, block_bases in zip(blocks, bases, strict=True)
            ],
        }
    return data, blocks


def portability_package(request: Request) -> bytes:
    """The person's provided data in a machine-readable format: ``portability.json`` and a CSV per model."""
    data, blocks = portability_data(request)
    files = [("portability.json", _json(data))]
    files += [(block.csv_name, _csv(block, block.fields)) for block in blocks]
    return _zip(files, timezone.now())


def portability_schema_response(request: HttpRequest) -> JsonResponse:
    """The published JSON Schema of ``portability.json`` (the view ``rights:portability_schema``)."""
    schema = {"$id": services.public_link("rights:portability_schema", "nb"), **PORTABILITY_SCHEMA}
    response = JsonResponse(schema, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Type"] = "application/schema+json"
    return response


# ------------------------------------------------------------------ single-use download links

BUILDERS: dict[str, Callable[[Request], bytes]] = {
    Download.Kind.ACCESS: access_package,
    Download.Kind.PORTABILITY: portability_package,
}


def download_offer(request: Request, *, kind: str, actor: Actor, staff: User | None) -> Download:
    """Offer the package through a single-use link that expires; the mail only says it is ready.

    The package is built when the link is opened, so it holds the data as it is then. Runs in
    the caller's transaction: the link, the mail, the timeline and the audit row go together.
    """
    if kind not in BUILDERS:
        raise services.RequestRefused("kind", f"there is no {kind!r} package")
    if kind not in request.rights:
        raise services.RequestRefused("right", f"the request does not ask for {kind}")
    if not request.email:
        raise services.RequestRefused("no_address", "there is no address to send the link to")
    token, hashed = services.new_token()
    now = timezone.now()
    expires_at = now + dt.timedelta(hours=DOWNLOAD_HOURS)
    with transaction.atomic():
        download = Download.objects.create(
            request=request, kind=kind, token_hash=hashed, created_at=now, expires_at=expires_at
        )
        emails.rights_download_ready(
            to=request.email,
            language=request.language,
            link=services.public_link("rights:download", request.language, token=token),
            expires_hours=DOWNLOAD_HOURS,
            kind=kind,
        )
        Event.objects.create(
            request=request,
            kind="download_offered",
            actor=staff,
            data={"package": kind, "expires_at": _utc(expires_at).isoformat(timespec="seconds")},
        )
        services.mark_done(request, kind, actor=actor, staff=staff, package=kind)
    return download


def package_filename(declaration: Declaration | None, download: Download) -> str:
    """``kaukus-access-R-12.zip``: the controller, the kind of package, the request's reference."""
    name = slugify(declaration.controller.name) if declaration is not None else ""
    name = _COMPANY_FORMS.sub("", name) or "vern"
    return f"{name}-{download.kind}-{services.reference_of(download.request)}.zip"


def download_open(token: str) -> tuple[Download, bytes, str]:
    """Open a download link: the package, built now, and its file name. The link then is used up.

    Raises ``RequestRefused`` with "invalid" (forged, or never issued), "used" (opened before)
    or "expired". If building fails, the link is not used up (it all rolls back).
    """
    if not token or len(token) > 100:
        raise services.RequestRefused("invalid")
    hashed = services.token_hash(token)
    with transaction.atomic():
        download = Download.objects.select_related("request").filter(token_hash=hashed).first()
        if download is None:
            raise services.RequestRefused("invalid")
        if download.downloaded_at is not None:
            raise services.RequestRefused("used")
        now = timezone.now()
        if download.request.status == Request.Status.REFUSED:
            raise services.RequestRefused("expired")  # a refused request hands out nothing
        if download.expires_at <= now:
            raise services.RequestRefused("expired")
        # Claimed by a conditional update, so two clicks at once cannot both get the package.
        if not Download.objects.filter(pk=download.pk, downloaded_at__isnull=True).update(downloaded_at=now):
            raise services.RequestRefused("used")
        download.downloaded_at = now
        request = download.request
        content = BUILDERS[download.kind](request)
        Event.objects.create(request=request, kind="downloaded", data={"package": download.kind})
        audit_record(
            action="rights.downloaded",
            actor=Actor.visitor(),
            object_type="rights.request",
            object_id=request.pk,
            subject_key=request.subject_key,
            data={"package": download.kind, "download": download.pk},
        )
    return download, content, package_filename(published_declaration(), download)
