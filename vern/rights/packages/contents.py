"""What each package holds: ``data.json`` of the access package and ``portability.json`` (R14, R18).

Assembled here, as plain data and the blocks it was made from; ``rendering`` turns
them into files.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vern.rights.models import Request
from vern.rights.packages.records import Block, block_of, blocks_of, external_blocks, load_rows, utc
from vern.rights.packages.supplement import audit_rows, controller_of, published, supplement
from vern.rights.texts import public_link, reference_of

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


def access_data(request: Request) -> tuple[dict[str, Any], list[Block]]:
    """What the access package holds: ``data.json``'s content, and the blocks it was made from."""
    language = request.language if request.language in ("nb", "en") else "nb"
    version, declaration = published()
    now = timezone.now()
    with translation.override(language):
        loaded = load_rows(request, declaration)
        blocks = blocks_of(loaded.found, loaded.masker) + external_blocks(request, loaded.masker)
        supplementary = supplement(declaration, blocks, language)
        data: dict[str, Any] = {
            "confirmation": {
                "processed": any(block.rows for block in blocks),
                "text": _("%(controller)s processes personal data about you. This is a copy of all of it.")
                % {"controller": declaration.controller.name}
                if blocks
                else _("%(controller)s holds no personal data about you.")
                % {"controller": declaration.controller.name},
                "controller": controller_of(declaration),
                "reference": reference_of(request),
                "generated_at": utc(now).isoformat(timespec="seconds"),
                "language": language,
                "policy_version": version.number,
                "found_by": sorted(loaded.keys),
                "searched": [entry.label for entry in loaded.searched],
            },
            **supplementary,
            "records": [
                {
                    "model": block.label,
                    "title": block.title,
                    "part_of": block.part.parent._meta.label if block.part and block.part.parent else None,
                    "purpose": block.entry.purpose if block.entry else block.purpose or None,
                    "retention": block.entry.retention if block.entry else None,
                    "fields": block.fields,
                    "rows": block.rows,
                }
                for block in blocks
            ],
            "audit": audit_rows(blocks, loaded.searched, declaration, language),
        }
    return data, blocks


def portability_data(request: Request) -> tuple[dict[str, Any], list[Block]]:
    """What the person provided on consent (a) or contract (b) (Art. 20, LAW.md R18).

    A model is included when its rows carry their own basis (a ``legal_basis`` field: only
    rows on a or b) or when every basis it may rest on is a or b. Only the provided fields are
    kept (the export fields minus ``NOT_PROVIDED``); parts (staff's contact log) are not.
    """
    language = request.language if request.language in ("nb", "en") else "nb"
    _version, declaration = published()
    with translation.override(language):
        loaded = load_rows(request, declaration, portable=True)
        masker = loaded.masker
        blocks, bases = [], []
        for item in loaded.found:
            names = [name for name in item.entry.export if name not in NOT_PROVIDED]
            block = block_of(item.entry.model, names, item.objects, masker)
            block.entry = item.entry
            blocks.append(block)
            if hasattr(item.objects[0], "legal_basis"):
                bases.append(sorted({str(getattr(obj, "legal_basis", "")) for obj in item.objects}))
            else:
                bases.append(sorted(item.entry.bases))
        for block in external_blocks(request, masker, portable=True):
            blocks.append(block)
            purpose = declaration.purpose(block.purpose)
            bases.append(sorted(purpose.legal_bases) if purpose is not None else [])
        data = {
            "format": "vern.portability",
            "version": 1,
            "schema": public_link("rights:portability_schema", "nb"),
            "controller": controller_of(declaration),
            "generated_at": utc(timezone.now()).isoformat(timespec="seconds"),
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
