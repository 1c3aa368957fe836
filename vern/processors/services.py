"""Writes to the processor register: each in a transaction, with its audit row.

The rules of Art. 28 and 44-46 live here, so that the console, the command line and the seeding
obey the same: an active processor has an agreement, and one with a location outside the EEA a
transfer mechanism (with its module, for Standard Contractual Clauses, and an assessment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vern.accounts.roles import Role
from vern.accounts.selectors import active_holders
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.rules import ADEQUATE
from vern.declaration.schema import Declaration
from vern.mail import emails
from vern.processors.models import EEA, Processor, Seeding, SubProcessor, SubProcessorChange
from vern.processors.subscribers import notify

# A new processor is reviewed a year after it is added, unless the privacy officer says otherwise.
REVIEW_INTERVAL = dt.timedelta(days=365)
MAX_AGREEMENT_BYTES = 10 * 1024 * 1024


class ProcessorRefused(Exception):
    """A change the register's rules refuse; ``code`` names the field it is about."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class ProcessorInput:
    """What a privacy officer says of a processor (the console's form, or the seeding)."""

    key: str
    name: str
    service_nb: str
    service_en: str
    countries: Sequence[str]
    purposes: Sequence[str] = ()
    data_categories: Sequence[str] = ()
    status: str = Processor.Status.DRAFT
    agreement_date: dt.date | None = None
    agreement_note: str = ""
    transfer_mechanism: str = Processor.Mechanism.NONE
    scc_module: int | None = None
    transfer_assessment: str = ""
    next_review: dt.date | None = None


@dataclass(frozen=True)
class Agreement:
    """An uploaded agreement document."""

    content: bytes
    filename: str
    content_type: str


def _outside(countries: Sequence[str], processor: Processor | None) -> list[str]:
    found = set(countries) - EEA
    if processor is not None and processor.pk:
        for sub in processor.sub_processors.filter(removed_on__isnull=True):
            found |= set(sub.countries) - EEA
    return sorted(found)


def _check(data: ProcessorInput, *, processor: Processor | None, today: dt.date) -> None:
    """Refuse what the rules forbid, about the field it concerns."""
    if processor is None and Processor.objects.filter(key=data.key).exists():
        raise ProcessorRefused("key", _("Another processor in the register already has this short name."))
    if data.next_review is None:
        raise ProcessorRefused("next_review", _("Give the date of the next review."))
    changed_review = processor is None or processor.next_review != data.next_review
    if changed_review and data.next_review < today:
        raise ProcessorRefused("next_review", _("The next review cannot be in the past."))
    outside = _outside(data.countries, processor)
    mechanism = data.transfer_mechanism
    if mechanism == Processor.Mechanism.SCC and data.scc_module not in (1, 2, 3, 4):
        raise ProcessorRefused("scc_module", _("Say which module of the Standard Contractual Clauses applies (1-4)."))
    if mechanism == Processor.Mechanism.ADEQUACY and set(outside) - ADEQUATE:
        raise ProcessorRefused(
            "transfer_mechanism",
            _("%(countries)s has no adequacy decision: use Standard Contractual Clauses.")
            % {"countries": ", ".join(sorted(set(outside) - ADEQUATE))},
        )
    if data.status == Processor.Status.ACTIVE:
        if outside and mechanism == Processor.Mechanism.NONE:
            raise ProcessorRefused(
                "transfer_mechanism",
                _(
                    "%(countries)s is outside the EEA: choose an adequacy decision or Standard Contractual "
                    "Clauses before the processor can be active."
                )
                % {"countries": ", ".join(outside)},
            )
        if outside and mechanism == Processor.Mechanism.SCC and not data.transfer_assessment.strip():
            raise ProcessorRefused(
                "transfer_assessment",
                _("Standard Contractual Clauses need a transfer assessment before the processor can be active."),
            )
        if data.agreement_date is None:
            raise ProcessorRefused(
                "agreement_date",
                _("Give the date of the data processing agreement before the processor can be active (Art. 28)."),
            )


def _apply(processor: Processor, data: ProcessorInput) -> dict[str, object]:
    """Set the fields; return what changed, old and new, for the audit row."""
    changed: dict[str, object] = {}
    values = {
        "name": data.name.strip(),
        "service_nb": data.service_nb.strip(),
        "service_en": data.service_en.strip(),
        "countries": sorted(set(data.countries)),
        "purposes": sorted(set(data.purposes)),
        "data_categories": sorted(set(data.data_categories)),
        "status": data.status,
        "agreement_date": data.agreement_date,
        "agreement_note": data.agreement_note.strip(),
        "transfer_mechanism": data.transfer_mechanism,
        "scc_module": data.scc_module if data.transfer_mechanism == Processor.Mechanism.SCC else None,
        "transfer_assessment": data.transfer_assessment.strip(),
        "next_review": data.next_review,
    }
    for field, value in values.items():
        old = getattr(processor, field)
        if old != value:
            changed[field] = {"old": _plain(field, old), "new": _plain(field, value)}
            setattr(processor, field, value)
    return changed


def _plain(field: str, value: object) -> object:
    """A value as the audit log shows it: dates as dates, no None, country codes joined; the
    purposes and kinds of data (the declaration's ids) by how many, as the register page names them."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if field in ("purposes", "data_categories") and isinstance(value, list):
        return len(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _attach(processor: Processor, agreement: Agreement | None, changed: dict[str, object]) -> None:
    if agreement is None:
        return
    if len(agreement.content) > MAX_AGREEMENT_BYTES:
        raise ProcessorRefused("agreement_file", _("The document is larger than 10 MB."))
    processor.agreement_file = agreement.content
    processor.agreement_filename = agreement.filename[:200]
    processor.agreement_type = agreement.content_type[:100] or "application/octet-stream"
    changed["agreement_file"] = agreement.filename[:200]


def processor_create(
    *, actor: Actor, data: ProcessorInput, agreement: Agreement | None = None, today: dt.date | None = None
) -> Processor:
    """Add a processor to the register, or refuse with the field the refusal is about."""
    today = today or timezone.localdate()
    _check(data, processor=None, today=today)
    assert data.next_review is not None  # _check refuses a processor without one
    with transaction.atomic():
        processor = Processor(key=data.key, next_review=data.next_review)
        changed = _apply(processor, data)
        _attach(processor, agreement, changed)
        processor.full_clean()
        processor.save()
        audit_record(
            action=AuditEvent.PROCESSOR_CREATED,
            actor=actor,
            object_type="processors.processor",
            object_id=processor.pk,
            data={"key": processor.key, "changed": changed},
        )
    return processor


def processor_update(
    *,
    actor: Actor,
    processor: Processor,
    data: ProcessorInput,
    agreement: Agreement | None = None,
    today: dt.date | None = None,
) -> Processor:
    """Change a processor; the same rules as for a new one (a past review date may stay as it was)."""
    today = today or timezone.localdate()
    _check(data, processor=processor, today=today)
    with transaction.atomic():
        processor = Processor.objects.select_for_update().get(pk=processor.pk)
        changed = _apply(processor, data)
        _attach(processor, agreement, changed)
        if not changed:
            return processor
        processor.updated_at = timezone.now()
        processor.full_clean()
        processor.save()
        audit_record(
            action=AuditEvent.PROCESSOR_CHANGED,
            actor=actor,
            object_type="processors.processor",
            object_id=processor.pk,
            data={"key": processor.key, "changed": changed},
        )
    return processor


def processor_review(
    *, actor: Actor, processor: Processor, next_review: dt.date, today: dt.date | None = None
) -> Processor:
    """Record that the processor was reviewed today, and when it is next."""
    today = today or timezone.localdate()
    if next_review <= today:
        raise ProcessorRefused("next_review", _("The next review must be after today."))
    with transaction.atomic():
        Processor.objects.filter(pk=processor.pk).update(
            reviewed_on=today, next_review=next_review, updated_at=timezone.now()
        )
        audit_record(
            action=AuditEvent.PROCESSOR_REVIEWED,
            actor=actor,
            object_type="processors.processor",
            object_id=processor.pk,
            data={"key": processor.key, "next_review": next_review.isoformat()},
        )
    processor.refresh_from_db()
    return processor


def subprocessor_change_record(
    *,
    actor: Actor,
    processor: Processor,
    kind: str,
    name: str,
    service: str,
    countries: Sequence[str],
    announced_on: dt.date,
    objection_deadline: dt.date,
) -> SubProcessorChange:
    """Record a change of sub-processors the processor announced, and apply it to the list.

    A new sub-processor outside the EEA needs the processor's transfer mechanism first."""
    if objection_deadline < announced_on:
        raise ProcessorRefused(
            "objection_deadline", _("The deadline for objections cannot be before the announcement.")
        )
    name = name.strip()
    current = processor.sub_processors.filter(removed_on__isnull=True, name__iexact=name).first()
    if kind == SubProcessorChange.Kind.ADDED:
        outside = sorted(set(countries) - EEA)
        if outside and processor.transfer_mechanism == Processor.Mechanism.NONE:
            raise ProcessorRefused(
                "countries",
                _(
                    "%(countries)s is outside the EEA and %(processor)s has no transfer mechanism: "
                    "record one on the processor first."
                )
                % {"countries": ", ".join(outside), "processor": processor.name},
            )
        if current is not None:
            raise ProcessorRefused("name", _("This sub-processor is already on the list."))
    elif current is None:
        raise ProcessorRefused("name", _("No current sub-processor has this name."))
    with transaction.atomic():
        change = SubProcessorChange.objects.create(
            processor=processor,
            kind=kind,
            name=name,
            service=service.strip(),
            countries=sorted(set(countries)),
            announced_on=announced_on,
            objection_deadline=objection_deadline,
        )
        if kind == SubProcessorChange.Kind.ADDED:
            SubProcessor.objects.create(
                processor=processor,
                name=name,
                service=service.strip(),
                countries=sorted(set(countries)),
                added_on=announced_on,
            )
        else:
            assert current is not None
            current.removed_on = announced_on
            current.save(update_fields=["removed_on"])
        notified = notify(change)
        audit_record(
            action=AuditEvent.PROCESSOR_SUBPROCESSOR_CHANGE,
            actor=actor,
            object_type="processors.processor",
            object_id=processor.pk,
            data={
                "kind": kind,
                "name": name,
                "countries": sorted(set(countries)),
                "objection_deadline": objection_deadline.isoformat(),
                "subscribers_told": notified,
            },
        )
    return change


def register_seed(*, declaration: Declaration, policy_version: int, actor: Actor, today: dt.date | None = None) -> int:
    """Fill the register from the published declaration, once: how many processors it added.

    A processor the declaration calls active but that the register's rules would not let be
    active (no agreement date, no mechanism for a location outside the EEA) comes in as not active,
    for the privacy officer to complete."""
    today = today or timezone.localdate()
    language = "en" if settings.LANGUAGE_CODE.startswith("en") else "nb"
    with transaction.atomic():
        if Seeding.objects.select_for_update().exists() or Seeding.objects.exists():
            return 0
        added = 0
        for declared in declaration.processors:
            if Processor.objects.filter(key=declared.id).exists():
                continue
            purposes = [p for p in declaration.purposes if declared.id in p.recipients]
            mechanism = {"adequacy": "adequacy", "dpf": "adequacy", "scc": "scc"}.get(
                declared.transfer_mechanism or "", Processor.Mechanism.NONE
            )
            status = {"active": "active", "planned": "draft", "ended": "ended"}[declared.status]
            outside = sorted(set(declared.countries) - EEA)
            if status == "active" and (declared.agreement_date is None or (outside and mechanism == "none")):
                status = Processor.Status.DRAFT
            Processor.objects.create(
                key=declared.id,
                name=declared.name,
                service_nb=declared.service.get("nb"),
                service_en=declared.service.get("en"),
                countries=sorted(set(declared.countries)),
                purposes=sorted(p.id for p in purposes),
                data_categories=sorted({c for p in purposes for c in p.data_categories}),
                status=status,
                agreement_date=declared.agreement_date,
                # In the site's own language (the console shows it as written).
                agreement_note=(declared.agreement_note.get(language) if declared.agreement_note else "")[:500],
                transfer_mechanism=mechanism,
                # The declaration does not say which module; a privacy officer completes it.
                scc_module=None,
                transfer_assessment=declared.transfer_evidence.get(language) if declared.transfer_evidence else "",
                next_review=today + REVIEW_INTERVAL,
            )
            added += 1
        Seeding.objects.create(policy_version=policy_version)
        audit_record(
            action=AuditEvent.PROCESSOR_REGISTER_SEEDED,
            actor=actor,
            object_type="processors.seeding",
            data={"policy_version": policy_version, "added": added},
        )
    return added


def review_reminders_send(*, today: dt.date | None = None) -> int:
    """Tell every privacy officer which processors' reviews are overdue; once a day at most.

    Returns how many processors the mail named (0 when nothing was due or it was already sent today)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        overdue = list(
            Processor.objects.select_for_update()
            .exclude(status=Processor.Status.ENDED)
            .filter(next_review__lt=today)
            .exclude(review_reminded_on=today)
            .order_by("next_review")
        )
        if not overdue:
            return 0
        names = [p.name for p in overdue]
        link = settings.VERN_PUBLIC_URL + reverse("processors_staff:register")
        for person in active_holders(Role.PRIVACY_OFFICER):
            language = person.language if person.language in ("nb", "en") else "nb"
            emails.staff_processor_reviews(to=person.email, language=language, processors=names, link=link)
        Processor.objects.filter(pk__in=[p.pk for p in overdue]).update(review_reminded_on=today)
        audit_record(
            action=AuditEvent.PROCESSOR_REVIEW_REMINDED,
            actor=Actor.system(),
            object_type="processors.processor",
            data={"processors": [p.key for p in overdue]},
        )
    return len(overdue)
