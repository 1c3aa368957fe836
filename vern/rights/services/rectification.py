"""Rectification (Art. 16, 19, LAW.md R15): correcting one field of one of the person's records.

Which fields may be corrected is decided here (``rectifiable_fields``) from the
registry, never from a list of models: exported plain text, other than what
describes our processing or records what happened.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor
from vern.lib.normalise import InvalidIdentifier
from vern.registry import surface
from vern.registry.entries import Entry, entries
from vern.registry.surface import ExternalCorrection, ExternalStep
from vern.rights.models import Request, Right
from vern.rights.selectors import person_keys, person_of, records_by_keys
from vern.rights.services.steps import (
    MAX_DETAILS,
    WHILE_OPEN,
    RequestRefused,
    declaration_required,
    locked,
    mark_done,
    record_audit,
    record_event,
)

# Fields that record how we process, not what the person told us or is: not theirs to correct.
PROCESSING_FIELDS = frozenset({"purpose", "legal_basis", "status", "kind", "channel", "language", "policy_version"})
# Records of what happened, not statements about the person: a copy of a mail as it was sent, and
# technical logs. Correcting them would falsify the record; a note on the request says what was wrong.
NOT_CORRECTED = frozenset({"mail.OutboxMessage", "analytics.Hit", "analytics.LogEvent"})


def rectifiable_fields(entry: Entry) -> list[str]:
    """The fields of a registered model a privacy officer may correct: exported plain text without
    fixed choices, other than the fields that describe our processing; none for records kept as
    evidence (``retain``) or records of what happened (``NOT_CORRECTED``)."""
    if entry.erasure == "retain" or entry.label in NOT_CORRECTED:
        return []
    found = []
    for name in entry.export:
        model_field = entry.model._meta.get_field(name)
        if name in PROCESSING_FIELDS or getattr(model_field, "choices", None):
            continue
        if isinstance(model_field, models.CharField | models.TextField):
            found.append(name)
    return found


def rectify(*, request: Request, staff: User, model_label: str, pk: str | int, field: str, value: str) -> list[str]:
    """Correct one field of one of the person's records (Art. 16); returns the recipients to tell (Art. 19).

    Only a record found by the request's own keys, and a field the model exports, can be
    corrected. The old and new values go into the request's timeline, encrypted; the audit
    row names the model and field only, since a value may be an address. A model whose
    indexes follow the field corrects itself (``rectify`` in its app's surface).
    """
    entry = next((item for item in entries() if item.label == model_label), None)
    if entry is None or field not in rectifiable_fields(entry):
        raise RequestRefused("field", "this field cannot be corrected here")
    if len(value) > MAX_DETAILS:
        raise RequestRefused("details", "the value is too long")
    declaration = declaration_required()
    with transaction.atomic():
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be acted on")
        if Right.RECTIFICATION not in request.rights:
            raise RequestRefused("right", "the request does not ask for rectification")
        found = next((f for f in records_by_keys(person_keys(request), counted=False) if f.entry == entry), None)
        record = found.records.select_for_update().filter(pk=pk).first() if found else None
        if record is None:
            raise RequestRefused("not_found", "no such record of this person")
        old = str(getattr(record, field) or "")
        try:
            if entry.rectify is not None:
                entry.rectify(record, field, value)
            else:
                setattr(record, field, value.strip())
                record.full_clean(validate_unique=False, validate_constraints=False)
                record.save(update_fields=[field])
        except (ValueError, InvalidIdentifier, ValidationError) as exc:
            raise RequestRefused("value", "the new value is not valid for this field") from exc
        purpose = declaration.purpose(entry.purpose)
        recipients = []
        if purpose is not None:
            for processor_id in purpose.recipients:
                processor = declaration.processor(processor_id)
                recipients.append(processor.name if processor is not None else processor_id)
        record_event(
            request,
            "rectified",
            actor=staff,
            note=f"{entry.model._meta.verbose_name} #{record.pk}, {field}: «{old}» → «{value.strip()}»",
            model=model_label,
            field=field,
            recipients=recipients,
        )
        record_audit(
            request,
            AuditEvent.RIGHTS_RECTIFIED,
            Actor.staff(staff),
            model=model_label,
            record=str(record.pk),
            field=field,
        )
        if Right.RECTIFICATION not in request.done:
            mark_done(request, Right.RECTIFICATION, actor=Actor.staff(staff), staff=staff)
    return recipients


def rectify_elsewhere(
    *, request: Request, staff: User, source: str, changes: dict[str, str], expected: int = 0, note: str = ""
) -> ExternalStep:
    """Correct the person's rows in one source of another system (Art. 16), through the registry.

    ``changes`` are the declared fields with their new values (empty ones are left as they are);
    ``expected`` the rows the officer saw. An SQL source is corrected at once, in one transaction
    checked by its dry run; a webhook through the job queue; a processor without an API gets a task
    described by ``note``. The outcome is in the request's timeline and, while it has failed or is
    pending, among the reasons the request cannot be closed as complete.
    """
    changes = {name: value.strip() for name, value in changes.items() if value.strip()}
    if any(len(value) > MAX_DETAILS for value in changes.values()) or len(note) > MAX_DETAILS:
        raise RequestRefused("details", "the value is too long")
    with transaction.atomic():
        request = locked(request)
        if request.status not in WHILE_OPEN:
            raise RequestRefused("closed", "only an open request can be acted on")
        if Right.RECTIFICATION not in request.rights:
            raise RequestRefused("right", "the request does not ask for rectification")
        person = person_of(request)
    # The other systems are asked with the request unlocked: their answers may take seconds.
    offered = {rows.source: rows for rows in surface.external_correctables(person)}
    rows = offered.get(source)
    if rows is None:
        raise RequestRefused("not_found", "no such record of this person")
    if rows.by_task:
        if not note.strip():
            raise RequestRefused("value", "describe the correction for the processor")
    elif not changes or any(name not in rows.rectifiable for name in changes):
        raise RequestRefused("field", "this field cannot be corrected here")
    # A connector reports its own failure as a ``failed`` step (shown, and kept on the request).
    steps = surface.external_rectify(
        person, ExternalCorrection(source=source, changes=changes, expected=expected, note=note.strip())
    )
    if not steps:
        raise RequestRefused("not_found", "no such record of this person")
    step = steps[0]
    with transaction.atomic():
        request = locked(request)
        record_event(
            request,
            "rectified",
            actor=staff,
            note=f"{rows.title} ({source}), {', '.join(sorted(changes)) or note.strip()}: {step.action} {step.count}",
            model=source,
            field=",".join(sorted(changes)),
            recipients=[],
        )
        record_audit(
            request,
            AuditEvent.RIGHTS_RECTIFIED,
            Actor.staff(staff),
            model=source,
            field=",".join(sorted(changes)),
            outcome=step.action,
        )
        if step.action != "failed" and Right.RECTIFICATION not in request.done:
            mark_done(request, Right.RECTIFICATION, actor=Actor.staff(staff), staff=staff)
    return step
