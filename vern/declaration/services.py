"""Publishing a declaration: validated whole, stored as an immutable, dated version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.consistency import registry_problems
from vern.declaration.loading import DeclarationInvalid, Loaded, Problem, format_path, parse
from vern.declaration.models import ChangeNotice, Draft, PolicyVersion
from vern.declaration.rules import check
from vern.declaration.schema import Declaration
from vern.jobs.services import job_enqueue
from vern.lib.keys import email_index, email_indexes
from vern.lib.normalise import InvalidIdentifier, normalise_email
from vern.lib.wording import Wording
from vern.mail import emails
from vern.registry import surface
from vern.registry.surface import declaration_code_problems

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
    for path, message in declaration_code_problems(loaded.declaration):
        where, line = format_path(path), loaded.line(path)
        problems.append(
            Problem.worded(where, line, message) if isinstance(message, Wording) else Problem(where, line, message)
        )
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
            # Named by its algorithm: sixteen hex digits are sometimes all digits, which would read as a phone number.
            data={"significant": significant, "consent_revision": revision, "hash": f"sha256:{content_hash[:16]}"},
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
                    date=_date_in(language, version),
                    note=version.note,
                    link=_changes_link(version.number, language),
                )
                queued += 1
    return queued


def _date_in(language: str, version: PolicyVersion) -> str:
    """The day of the version as the recipient's language writes it ("6. desember 2026", "6 December 2026")."""
    with translation.override(language):
        return date_format(timezone.localtime(version.published_at), "j. F Y" if language == "nb" else "j F Y")


def _changes_link(number: int, language: str) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse("declaration:changes", kwargs={"number": number})


# ------------------------------------------------------------------ drafts in the database (ADR 0013)


class DraftRefused(ValueError):
    """A draft operation that cannot be done as asked; the message says why, in the reader's language."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _no_drafts_while_file_is_the_source() -> None:
    if settings.VERN_DECLARATION_IN_FILE:
        raise DraftRefused(
            "file_source",
            _("The declaration is kept in a file (VERN_DECLARATION); change it there and publish it from the file."),
        )


def draft_start(*, user: Any) -> Draft:
    """The draft, made now from the published version's content when there is none (one at a time)."""
    _no_drafts_while_file_is_the_source()
    try:
        return _draft_start(user=user)
    except IntegrityError:
        # Another officer started the draft in the same moment: theirs is the draft.
        existing = Draft.objects.first()
        if existing is None:
            raise
        return existing


def _draft_start(*, user: Any) -> Draft:
    with transaction.atomic():
        existing = Draft.objects.select_for_update().first()
        if existing is not None:
            return existing
        latest = PolicyVersion.objects.order_by("-number").first()
        if latest is None:
            raise DraftRefused("nothing_published", _("Nothing is published yet, so there is nothing to start from."))
        draft = Draft.objects.create(content=latest.content, based_on=latest, author=user)
        audit_record(
            action=AuditEvent.POLICY_DRAFT_STARTED,
            actor=Actor.staff(user),
            object_type="declaration.draft",
            object_id=draft.pk,
            data={"based_on": latest.number},
        )
        return draft


def draft_save(*, draft: Draft, content: dict[str, Any], revision: int, user: Any, part: str = "") -> Draft:
    """Keep the edited content; refused when someone saved the draft after this form was opened."""
    _no_drafts_while_file_is_the_source()
    with transaction.atomic():
        updated = Draft.objects.filter(pk=draft.pk, revision=revision).update(
            content=content, author=user, updated_at=timezone.now(), revision=revision + 1
        )
        if not updated:
            raise DraftRefused(
                "stale",
                _("Someone saved the draft after you opened this page; nothing was saved. Open it again."),
            )
        audit_record(
            action=AuditEvent.POLICY_DRAFT_SAVED,
            actor=Actor.staff(user),
            object_type="declaration.draft",
            object_id=draft.pk,
            data={"revision": revision + 1, "part": part},
        )
    draft.refresh_from_db()
    return draft


def draft_discard(*, draft: Draft, user: Any) -> None:
    with transaction.atomic():
        if Draft.objects.filter(pk=draft.pk).delete()[0]:
            audit_record(
                action=AuditEvent.POLICY_DRAFT_DISCARDED,
                actor=Actor.staff(user),
                object_type="declaration.draft",
                object_id=draft.pk,
                data={"revision": draft.revision},
            )


def draft_publish(
    *,
    draft: Draft,
    actor: Actor,
    significant: bool,
    note: str,
    languages_checked: bool,
    revision: int | None = None,
) -> PolicyVersion:
    """Publish the draft through ``declaration_publish`` (so consent revisions follow the same rules)
    and remove it. A draft with a text changed in one language only is published only once the
    officer has said that the other language is right as it stands.

    ``revision`` is the draft the officer reviewed: a save made since (by someone else, or in
    another tab) refuses the publication, as does a draft whose published version is no longer the
    latest (publishing it would quietly undo the version in between)."""
    from vern.declaration.editor import as_source, one_language_changes

    _no_drafts_while_file_is_the_source()
    with transaction.atomic():
        locked = Draft.objects.select_for_update().filter(pk=draft.pk).first()
        latest = PolicyVersion.objects.order_by("-number").only("pk").first()
        if locked is None or (revision is not None and locked.revision != revision):
            raise DraftRefused(
                "stale",
                _("The draft changed after you looked at it; nothing was published. Look at it again."),
            )
        if latest is not None and locked.based_on_id != latest.pk:
            raise DraftRefused(
                "behind",
                _(
                    "A newer version was published after this draft was started; nothing was published. "
                    "Throw the draft away and start again from the newest version."
                ),
            )
        base = locked.based_on.content if locked.based_on is not None else {}
        if one_language_changes(base, locked.content) and not languages_checked:
            raise DraftRefused(
                "one_language",
                _("Some texts changed in one language only. Check them, then tick the box to publish."),
            )
        version = declaration_publish(source=as_source(locked.content), actor=actor, significant=significant, note=note)
        Draft.objects.filter(pk=locked.pk).delete()
    return version
