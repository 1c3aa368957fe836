"""Running a sweep, and putting or lifting a legal hold; each writes counts or a hold id to the audit log."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vern.accounts.models import User
from vern.audit.chain import ChainBroken
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.selectors import published_declaration
from vern.lib.keys import email_index, phone_index
from vern.registry import surface
from vern.registry.entries import entries
from vern.retention import engine
from vern.retention.models import Hold, Run

log = logging.getLogger(__name__)


class HoldRefused(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "no_target", "two_targets", "past", "not_found", "released"


def retention_sweep(*, trigger: str, actor: Actor, batch_size: int | None = None) -> Run:
    """Remove everything due under the published declaration, model by model.

    ``batch_size`` fixes the rows per transaction; without it the engine chooses
    (``engine.BatchPace``: on SQLite as many as one short write lock allows).

    Killed half-way, it leaves a run marked running; the next sweep simply finishes the
    work, because what is due is computed afresh. Two sweeps at once do no harm. A model
    that fails (or that the declaration cannot cover) does not stop the others: the run
    ends as failed, naming it, and the job is retried.
    """
    declaration = published_declaration()
    run = Run.objects.create(trigger=trigger)
    counts: dict[str, int] = {}
    failures: list[str] = []
    try:
        if declaration is None:
            raise engine.SweepRefused("no declaration is published, so no rule is known")
        now = engine.safe_now()
        last = Run.objects.filter(status=Run.Status.DONE, as_of__isnull=False).order_by("-as_of").first()
        if last is not None and last.as_of is not None and now < last.as_of - engine.CLOCK_TOLERANCE:
            raise engine.ClockDisagreement(
                f"the clock reads {now:%Y-%m-%d %H:%M} UTC, earlier than the last sweep's "
                f"{last.as_of:%Y-%m-%d %H:%M}: it was set back; nothing is removed until it is right"
            )
        Run.objects.filter(pk=run.pk).update(as_of=now)
        skipped = engine.unenforceable(declaration)
        failures += [f"{label}: {why}" for label, why in skipped.items()]
        # While several index keys are configured, a hold under one key must keep rows stored
        # under another: every person's forms are read once for the whole sweep.
        forms = surface.index_forms()
        for compiled in engine.compile_rules(declaration):
            if compiled.label in skipped:
                continue
            try:
                removed = engine.sweep_one(compiled, declaration, now, batch_size=batch_size, actor=actor, forms=forms)
            except Exception as exc:
                failures.append(f"{compiled.label}: {_describe(exc)}")
                log.error("retention sweep %s: %s failed: %s", run.pk, compiled.label, type(exc).__name__)
                continue
            for label, n in removed.items():
                counts[label] = counts.get(label, 0) + n
            Run.objects.filter(pk=run.pk).update(counts=counts)  # progress, visible while it runs
        # The company's other systems (their connectors, through the registry's surface): tables
        # with a declared period; a connector that fails is shown as failing on its own page.
        try:
            for label, n in surface.external_sweep(now, dry_run=False).items():
                counts[label] = counts.get(label, 0) + n
        except Exception as exc:
            failures.append(f"connectors: {_describe(exc)}")
    except Exception as exc:
        failures.append(_describe(exc))
    status = Run.Status.FAILED if failures else Run.Status.DONE
    error = "; ".join(failures)[:300]
    with transaction.atomic():
        audit_record(
            action=AuditEvent.RETENTION_SWEPT,
            actor=actor,
            object_type="retention.run",
            object_id=run.pk,
            data={"removed": counts, "failed": bool(failures)},
        )
        Run.objects.filter(pk=run.pk).update(status=status, finished_at=timezone.now(), counts=counts, error=error)
    run.refresh_from_db()
    log.info("retention sweep %s removed %s rows%s", run.pk, sum(counts.values()), " with failures" if failures else "")
    if failures:
        raise SweepFailed(run)
    return run


class SweepFailed(RuntimeError):
    def __init__(self, run: Run) -> None:
        super().__init__(f"retention run #{run.pk} failed: {run.error}")
        self.run = run


def _describe(exc: BaseException) -> str:
    # Our own refusals explain themselves; another error's text may quote stored values.
    return str(exc) if isinstance(exc, engine.SweepRefused | ChainBroken) else type(exc).__name__


def _subject_key(*, email: str = "", phone: str = "") -> str:
    return email_index(email) if email else phone_index(phone) if phone else ""


@transaction.atomic
def hold_place(
    *,
    staff: User,
    reason: str,
    ends_at: dt.datetime,
    email: str = "",
    phone: str = "",
    record_model: str = "",
    record_pk: str = "",
) -> Hold:
    """Keep a person's data (by email or phone) or one record past its retention, until ``ends_at``."""
    person = bool(email or phone)
    record = bool(record_model or record_pk)
    if person == record:
        raise HoldRefused("two_targets" if person else "no_target")
    if ends_at <= timezone.now():
        raise HoldRefused("past")
    if record:
        entry = next((e for e in entries() if e.label == record_model), None)
        try:
            key = entry.model._meta.pk.to_python(record_pk) if entry is not None else None
        except ValidationError:
            key = None
        if key is None or entry is None or not entry.model._default_manager.filter(pk=key).exists():
            raise HoldRefused("not_found")
    hold = Hold.objects.create(
        subject_key=_subject_key(email=email, phone=phone),
        record_model=record_model,
        record_pk=record_pk,
        reason=reason,
        ends_at=ends_at,
        created_by=staff,
    )
    audit_record(
        action=AuditEvent.RETENTION_HOLD_PLACED,
        actor=Actor.staff(staff),
        object_type="retention.hold",
        object_id=hold.pk,
        subject_key=hold.subject_key,
        data={"on": "person" if person else "record", "record_model": record_model, "ends_at": ends_at.isoformat()},
    )
    return hold


@transaction.atomic
def hold_release(*, staff: User, hold: Hold) -> Hold:
    locked = Hold.objects.select_for_update().get(pk=hold.pk)
    if locked.released_at is not None:
        raise HoldRefused("released")
    now = timezone.now()
    locked.released_at, locked.released_by = now, staff
    locked.ends_at = min(locked.ends_at, now)  # the clock of the hold's own retention starts now
    locked.save(update_fields=["released_at", "released_by", "ends_at"])
    audit_record(
        action=AuditEvent.RETENTION_HOLD_RELEASED,
        actor=Actor.staff(staff),
        object_type="retention.hold",
        object_id=locked.pk,
        subject_key=locked.subject_key,
    )
    return locked
