"""Publishing a declaration: validated whole, stored as an immutable, dated version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Max

from vern.audit.services import Actor, audit_record
from vern.declaration.consistency import registry_problems
from vern.declaration.loading import DeclarationInvalid, Loaded, parse
from vern.declaration.models import PolicyVersion
from vern.declaration.rules import check
from vern.declaration.schema import Declaration


class NothingChanged(ValueError):
    """The declaration is the same as the published version."""


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def consent_fingerprint(declaration: Declaration) -> str:
    """What a visitor consents to: categories, cookies, and the purposes with their bases.

    A change here asks every visitor again (C11); a corrected typo elsewhere does not.
    """
    cookies = declaration.cookies
    return _digest(
        {
            "categories": [c.model_dump(mode="json") for c in cookies.categories],
            "cookies": [c.model_dump(mode="json") for c in cookies.cookies],
            "lifetime": cookies.consent_lifetime,
            "purposes": [
                {"id": p.id, "bases": p.legal_bases, "data": p.data_categories, "name": p.name.model_dump()}
                for p in declaration.purposes
            ],
        }
    )


def declaration_validate(source: str) -> Loaded:
    """Parse and check a declaration; raises ``DeclarationInvalid`` listing every problem."""
    loaded = parse(source)
    problems = check(loaded) + registry_problems(loaded.declaration)
    if problems:
        raise DeclarationInvalid(problems)
    return loaded


def declaration_publish(*, source: str, actor: Actor, significant: bool = False, note: str = "") -> PolicyVersion:
    """Publish a declaration as the next version, or refuse with every problem; never half-applied."""
    loaded = declaration_validate(source)
    content = loaded.declaration.model_dump(mode="json")
    content_hash = _digest(content)
    fingerprint = consent_fingerprint(loaded.declaration)
    with transaction.atomic():
        latest = PolicyVersion.objects.select_for_update().order_by("-number").first()
        if latest is not None and latest.content_hash == content_hash:
            raise NothingChanged(f"the declaration is the same as version {latest.number}; nothing was published")
        if latest is None:
            revision = 1
        elif latest.consent_fingerprint != fingerprint:
            revision = latest.consent_revision + 1
        else:
            revision = latest.consent_revision
        number = (PolicyVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
        version = PolicyVersion.objects.create(
            number=number,
            published_by=f"{actor.kind}:{actor.id}" if actor.id else str(actor.kind),
            significant=significant,
            note=note.strip(),
            source=source,
            content=content,
            content_hash=content_hash,
            consent_fingerprint=fingerprint,
            consent_revision=revision,
        )
        audit_record(
            action="policy.publish",
            actor=actor,
            object_type="declaration.policyversion",
            object_id=version.number,
            data={"significant": significant, "consent_revision": revision, "hash": content_hash[:16]},
        )
    return version
