"""Publishing a declaration: validated whole, stored as an immutable, dated version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.consistency import registry_problems
from vern.declaration.loading import DeclarationInvalid, Loaded, parse
from vern.declaration.models import ChangeNotice, PolicyVersion
from vern.declaration.rules import check
from vern.declaration.schema import Declaration
from vern.jobs.services import job_enqueue
from vern.lib.keys import email_index, email_indexes
from vern.lib.normalise import InvalidIdentifier, normalise_email
from vern.mail import emails
from vern.registry import surface

NOTIFY_JOB = "declaration.notify_change"
NOTIFY_BATCH = 200  # mails queued per transaction


class NothingChanged(ValueError):
    """The declaration is the same as the published version."""


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def consent_fingerprint(declaration: Declaration) -> str:
    """What a visitor is asked to consent to, and nothing else (C11).

    The categories that need consent and their cookies and third-party tags, how long
    a choice lasts, and the purposes that rest on consent with their data and recipients. A change
    to any of these asks every visitor again; a typo fixed in a necessary cookie's
    text, or a renamed purpose that needs no consent, does not.
    """
    cookies = declaration.cookies
    optional = sorted(c.id for c in cookies.categories if c.consent_required)
    consent_purposes = sorted((p for p in declaration.purposes if "a" in p.legal_bases), key=lambda p: p.id)
    return _digest(
        {
            "categories": [c.model_dump(mode="json") for c in cookies.categories if c.id in optional],
            "cookies": sorted(
                (c.model_dump(mode="json") for c in cookies.cookies if c.category in optional),
                key=lambda cookie: cookie["name"],
            ),
            "lifetime": cookies.consent_lifetime,
            "purposes": [
                {
                    "id": p.id,
                    "name": p.name.model_dump(),
                    "data": sorted(p.data_categories),
                    "data_summary": p.data_summary.model_dump(),
                    "recipients": sorted(p.recipients),
                    "bases": sorted(p.legal_bases),
                }
                for p in consent_purposes
            ],
            # Only when there are any, so that declarations without tags keep their fingerprint.
            **({"tags": sorted((t.kind, t.id, t.category) for t in cookies.tags)} if cookies.tags else {}),
        }
    )


def _serialise_publishing() -> None:
    """One publication at a time, held until the transaction ends.

    Two publications racing would otherwise both read the same latest version:
    both numbering themselves the same, or both passing the "nothing changed"
    check. PostgreSQL takes a transaction-level advisory lock; SQLite's IMMEDIATE
    transactions already hold the write lock from their first statement.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('vern.declaration.publish'))")


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
        _serialise_publishing()
        latest = PolicyVersion.objects.order_by("-number").first()
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
            action=AuditEvent.POLICY_PUBLISHED,
            actor=actor,
            object_type="declaration.policyversion",
            object_id=version.number,
            data={"significant": significant, "consent_revision": revision, "hash": content_hash[:16]},
        )
        if significant:
            # In the same transaction: the people are told if, and only if, the version exists.
            job_enqueue(NOTIFY_JOB, payload={"version": version.number})
    return version


def _recipients() -> dict[str, tuple[str, str]]:
    """Each address once (by its index under the current key): (address, language)."""
    found: dict[str, tuple[str, str]] = {}
    for address, language in surface.change_recipients():
        try:
            normalised = normalise_email(address)
        except InvalidIdentifier:
            continue
        found.setdefault(email_index(normalised), (normalised, language if language in ("nb", "en") else "nb"))
    return found


def change_notify(*, number: int) -> int:
    """Mail everyone vern keeps in touch with about significant version ``number``, once each (P20).

    A batch of mails and the record that each person was told commit together, so a run that
    dies half-way mails nobody twice when it runs again. Mail to a restricted person, or to an
    address that objected to marketing, is withheld by the outbox's checks. Returns how many
    mails were queued by this run.
    """
    version = PolicyVersion.objects.get(number=number)
    queued = 0
    pending = sorted(_recipients().items())
    for start in range(0, len(pending), NOTIFY_BATCH):
        with transaction.atomic():
            for index, (address, language) in pending[start : start + NOTIFY_BATCH]:
                if ChangeNotice.objects.filter(version=version, to_index__in=email_indexes(address)).exists():
                    continue
                ChangeNotice.objects.create(version=version, to_index=index)
                emails.policy_changed(
                    to=address,
                    language=language,
                    date=date_format(
                        timezone.localtime(version.published_at), "j. F Y" if language == "nb" else "j F Y"
                    ),
                    note=version.note,
                    link=_changes_link(version.number, language),
                )
                queued += 1
    return queued


def _changes_link(number: int, language: str) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse("declaration:changes", kwargs={"number": number})
