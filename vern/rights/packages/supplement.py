"""What the access package tells beside the data (Art. 15(1)(a)-(h), 15(2), LAW.md §1c, R22).

The purposes, categories, recipients, retention, source, rights, complaint,
automated decisions and transfers come from the published declaration, for the
models that hold rows about the person; the audit rows say who saw or changed
what, and why.
"""

from __future__ import annotations

from typing import Any

from vern.audit.models import Entry as AuditEntry
from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration, Purpose
from vern.declaration.selectors import (
    MECHANISMS,
    bases_text,
    countries_text,
    declaration_of,
    latest_version,
    localise,
    retention_line,
)
from vern.registry.entries import Entry
from vern.rights.packages.records import Block
from vern.rights.packages.titles import ACTOR_TITLES
from vern.rights.services.steps import RequestRefused


def published() -> tuple[PolicyVersion, Declaration]:
    version = latest_version()
    if version is None:
        raise RequestRefused("unpublished", "no privacy policy is published yet")
    return version, declaration_of(version)


def _text(value: Any, language: str) -> str | None:
    return None if value is None else str(localise(value, language))


def controller_of(declaration: Declaration) -> dict[str, str]:
    controller = declaration.controller
    return {
        "name": controller.name,
        "org_number": controller.org_number,
        "email": controller.email,
        "website": controller.website,
    }


def supplement(declaration: Declaration, blocks: list[Block], language: str) -> dict[str, Any]:
    """Purposes, categories, recipients, retention, source, rights, complaint, automated decisions
    and transfers, for the models that hold rows about the person (Art. 15(1)(a)-(h), 15(2))."""
    used: dict[str, list[str]] = {}  # purpose id → model labels
    rules: dict[str, list[str]] = {}  # retention rule id → model labels
    categories: dict[str, list[str]] = {}
    for block in blocks:
        entry = block.entry
        if entry is None:
            if block.purpose:  # another system's rows: their connector's purpose and its categories
                used.setdefault(block.purpose, []).append(block.label)
                found = declaration.purpose(block.purpose)
                for category_id in found.data_categories if found is not None else []:
                    categories.setdefault(category_id, []).append(block.label)
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


def audit_rows(
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
