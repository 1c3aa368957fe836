"""Searching, erasing and sweeping the company's other systems; their health; processors' tasks.

These functions are what the app's ``Surface`` gives the rest of vern (``vern.connectors.apps``):
rights and retention call them through the registry, never by importing this app. A connector
that is declared but not configured (its URL variable unset) is left out everywhere. A connector
that fails is recorded as failing (``Health``) and named as the reason a request cannot be closed
as complete; the other connectors and vern's own data go on.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
from collections.abc import Collection, Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.connectors import sql, webhook
from vern.connectors.config import ConnectorFailed, NotConfigured, declared, is_configured
from vern.connectors.errors import describe
from vern.connectors.models import Correction, Health, ManualTask, WebhookErasure
from vern.declaration.schema import Connector
from vern.jobs.services import job_enqueue
from vern.lib.keys import digest, email_index, email_indexes, phone_index, phone_indexes
from vern.lib.logs import redact
from vern.lib.normalise import InvalidIdentifier
from vern.mail import emails
from vern.registry import surface
from vern.registry.surface import ExternalCorrection, ExternalRows, ExternalStep, Person

log = logging.getLogger(__name__)

TASK_LINK_GRACE = dt.timedelta(days=14)  # a task's link works this long past its deadline


# ------------------------------------------------------------------ health


def health_ok(connector_id: str, *, now: dt.datetime | None = None) -> None:
    Health.objects.update_or_create(connector=connector_id, defaults={"last_success_at": now or timezone.now()})


def health_failed(connector_id: str, message: str, *, now: dt.datetime | None = None) -> None:
    # A database's own message may quote a value (a duplicate key): addresses, numbers and IP
    # addresses are redacted before it is logged or shown.
    message = redact(message)
    log.warning("connector %s failed: %s", connector_id, message)
    Health.objects.update_or_create(
        connector=connector_id, defaults={"last_error_at": now or timezone.now(), "last_error": message[:1000]}
    )


def connector_check(connector: Connector) -> list[str]:
    """Reach the connector and compare it with the declaration: its problems (empty: it works).

    Records the outcome as its health. Raises NotConfigured for a connector whose URL is unset.
    """
    if connector.kind == "manual":
        return []
    if not is_configured(connector):
        raise NotConfigured(f"{connector.url_env} is not set")
    try:
        if connector.kind == "sql":
            found = sql.problems(connector)
        else:
            webhook.ping(connector)
            found = []
    except ConnectorFailed as exc:
        found = [str(exc).removeprefix(f"{connector.id}: ")]
    if found:
        health_failed(connector.id, "; ".join(found))
    else:
        health_ok(connector.id)
    return found


def _live() -> list[Connector]:
    return [connector for connector in declared() if is_configured(connector)]


# ------------------------------------------------------------------ what the surface gives


def find_person(person: Person) -> list[ExternalRows]:
    """The person's rows in every configured SQL and webhook connector; a failure is recorded, not raised."""
    found: list[ExternalRows] = []
    for connector in _live():
        if connector.kind == "manual":
            continue
        try:
            found += sql.find(connector, person) if connector.kind == "sql" else webhook.export(connector, person)
        except ConnectorFailed as exc:
            health_failed(connector.id, str(exc))
        else:
            health_ok(connector.id)
    return found


def erase_person(person: Person, dry_run: bool) -> list[ExternalStep]:
    """Erase the person in every configured connector (or count, with ``dry_run``): SQL at once, a
    webhook through the job queue (retried with backoff), a processor by a mailed task."""
    steps: list[ExternalStep] = []
    for connector in _live():
        try:
            if connector.kind == "sql":
                done = sql.erase(connector, person, dry_run=dry_run)
                if not dry_run and any(step.count for step in done):
                    audit_record(
                        action=AuditEvent.CONNECTOR_ERASED,
                        actor=Actor.system(),
                        object_type="connectors.connector",
                        object_id=connector.id,
                        data={"request": person.request_id, "counts": {s.source: s.count for s in done}},
                    )
                steps += done
            elif connector.kind == "http":
                steps += (
                    webhook.erase(connector, person, dry_run=True) if dry_run else [_webhook_queue(connector, person)]
                )
            else:
                steps.append(_task_step(connector, person, dry_run=dry_run))
        except ConnectorFailed as exc:
            health_failed(connector.id, str(exc))
            steps.append(
                ExternalStep(
                    source=connector.id,
                    title=connector.name,
                    count=0,
                    action="failed",
                    note=describe(redact(str(exc))).lines(),
                )
            )
        else:
            if connector.kind == "sql" or dry_run and connector.kind == "http":
                health_ok(connector.id)
    return steps


def completion_blockers(request_id: int) -> list[str]:
    """Why a request cannot be closed as complete: failing connectors, erasures and tasks not yet answered."""
    reasons = []
    live = {connector.id: connector for connector in _live()}
    for health in Health.objects.filter(connector__in=list(live)).order_by("connector"):
        if health.failing:
            reasons.append(
                translation.gettext("%(name)s is failing: %(error)s")
                % {"name": live[health.connector].name, "error": describe(health.last_error).lines()}
            )
    for erasure in WebhookErasure.objects.filter(request_id=request_id).exclude(status=WebhookErasure.Status.DONE):
        name = live[erasure.connector].name if erasure.connector in live else erasure.connector
        reasons.append(translation.gettext("%(name)s has not confirmed the erasure yet.") % {"name": name})
    for correction in _open_corrections(request_id):
        name = live[correction.connector].name if correction.connector in live else correction.connector
        if correction.status == Correction.Status.FAILED:
            reasons.append(
                translation.gettext("The correction in %(name)s failed: %(error)s")
                % {"name": name, "error": describe(correction.last_error).lines()}
            )
        else:
            reasons.append(translation.gettext("%(name)s has not confirmed the correction yet.") % {"name": name})
    for task in ManualTask.objects.filter(request_id=request_id, confirmed_at__isnull=True).order_by("pk"):
        name = live[task.connector].name if task.connector in live else task.connector
        reasons.append(
            translation.gettext("%(name)s has not answered the task mailed to them (due %(date)s).")
            % {"name": name, "date": task.due_on.isoformat()}
        )
    return reasons


def request_notes(request_id: int) -> list[str]:
    """What other systems did for this request, for its page."""
    names = {connector.id: connector.name for connector in declared()}
    lines = []
    for erasure in WebhookErasure.objects.filter(request_id=request_id, status=WebhookErasure.Status.DONE):
        lines.append(
            translation.gettext("%(name)s erased %(count)s rows.")
            % {"name": names.get(erasure.connector, erasure.connector), "count": sum(erasure.counts.values())}
        )
    for correction in Correction.objects.filter(request_id=request_id, status=Correction.Status.DONE).order_by("pk"):
        lines.append(
            translation.ngettext(
                "%(name)s corrected %(count)s row of %(source)s (%(fields)s).",
                "%(name)s corrected %(count)s rows of %(source)s (%(fields)s).",
                correction.count,
            )
            % {
                "name": names.get(correction.connector, correction.connector),
                "count": correction.count,
                "source": correction.source,
                "fields": ", ".join(correction.fields),
            }
        )
    for task in ManualTask.objects.filter(request_id=request_id).order_by("pk"):
        name = names.get(task.connector, task.connector)
        if task.confirmed_at is None:
            lines.append(
                translation.gettext("Task mailed to %(name)s; answer due %(date)s.")
                % {"name": name, "date": task.due_on.isoformat()}
            )
        else:
            lines.append(
                translation.gettext("%(name)s answered: %(outcome)s. %(note)s")
                % {"name": name, "outcome": task.get_outcome_display(), "note": task.note}
            )
    return lines


def sweep(now: dt.datetime, dry_run: bool) -> dict[str, int]:
    """Remove (or count) the rows of SQL tables past their declared period, sparing held people."""
    swept = [c for c in _live() if c.kind == "sql" and any(table.retention for table in c.tables)]
    if not swept:
        return {}
    held = surface.held_keys(now).get("email", [])
    # Each holder gives a one-column queryset (``values(...)``): its rows are dicts of that column.
    held_indexes = {
        str(next(iter(key.values())) if isinstance(key, dict) else key) for queryset in held for key in queryset
    }

    def is_held(address: str) -> bool:
        return bool(held_indexes) and any(index in held_indexes for index in email_indexes(address))

    removed: dict[str, int] = {}
    for connector in swept:
        try:
            counts = sql.sweep(connector, now, dry_run=dry_run, is_held=is_held)
        except ConnectorFailed as exc:
            health_failed(connector.id, str(exc))
            continue
        health_ok(connector.id)
        removed.update(counts)
        if not dry_run and any(counts.values()):
            audit_record(
                action=AuditEvent.CONNECTOR_SWEPT,
                actor=Actor.system(),
                object_type="connectors.connector",
                object_id=connector.id,
                data={"counts": counts},
            )
    return removed


def replay(keys: Collection[tuple[str, str]]) -> dict[str, int]:
    """After a restore: erase again in each configured SQL connector the rows of the journal's people.

    Idempotent (what is already erased counts 0). A connector that fails is recorded as failing and
    left out (its rows are found by the next replay, ``vern rights replay-erasures``). Webhooks and
    processors keep their own data: vern's restore did not bring anything back there.
    """
    wanted = set(keys)
    if not wanted:
        return {}

    def matches(kind: str, value: str) -> bool:
        try:
            indexes = email_indexes(value) if kind == "email" else phone_indexes(value) if kind == "phone" else []
        except InvalidIdentifier:
            return False
        return any((kind, index) in wanted for index in indexes)

    erased: dict[str, int] = {}
    for connector in _live():
        if connector.kind != "sql":
            continue
        try:
            counts = sql.replay(connector, matches=matches)
        except ConnectorFailed as exc:
            health_failed(connector.id, str(exc))
            continue
        health_ok(connector.id)
        erased.update(counts)
        if any(counts.values()):
            audit_record(
                action=AuditEvent.CONNECTOR_ERASED,
                actor=Actor.system(),
                object_type="connectors.connector",
                object_id=connector.id,
                data={"replayed": True, "counts": counts},
            )
    return erased


# ------------------------------------------------------------------ rectification (Art. 16)


def _open_corrections(request_id: int) -> list[Correction]:
    """Per source, the latest correction when it is not done: a failed one, or one still waiting."""
    latest: dict[str, Correction] = {}
    for correction in Correction.objects.filter(request_id=request_id).order_by("pk"):
        latest[correction.source] = correction
    return [c for c in latest.values() if c.status != Correction.Status.DONE]


def correctables(person: Person) -> list[ExternalRows]:
    """The person's rows whose declared fields may be corrected, and the processors corrected by a task."""
    found = [rows for rows in find_person(person) if rows.rectifiable and rows.rows]
    for connector in _live():
        if connector.kind == "manual":
            found.append(
                ExternalRows(
                    source=connector.id,
                    title=connector.name,
                    purpose=connector.purpose,
                    fields=(),
                    rows=(),
                    by_task=True,
                )
            )
    return found


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _unquoted(message: str) -> str:
    """A driver's message without the values it quotes, which may be the person's data."""
    return _QUOTED.sub("'…'", message)


def rectify(person: Person, correction: ExternalCorrection) -> list[ExternalStep]:
    """Correct the person's rows of ``correction.source`` (SQL at once, a webhook through the job queue,
    a processor by a mailed task); the outcome is kept (``Correction``) and shown on the request."""
    connector_id, _sep, rest = correction.source.partition(".")
    connector = next((c for c in _live() if c.id == connector_id), None)
    if connector is None:
        return []
    if connector.kind == "manual":
        if rest:
            return []
        try:
            if not correction.note.strip():
                raise ConnectorFailed(f"{connector.id}: describe the correction for the processor")
            task = task_send(connector=connector, person=person, correction=correction.note.strip())
        except ConnectorFailed as exc:
            note = describe(str(exc)).lines()
            return [ExternalStep(source=connector.id, title=connector.name, count=0, action="failed", note=note)]
        note = "" if task is not None else "already"
        return [ExternalStep(source=connector.id, title=connector.name, count=0, action="task", note=note)]
    if not rest:
        return []
    changes = {str(name): str(value).strip() for name, value in correction.changes.items()}
    if connector.kind == "sql":
        table = next((t for t in connector.tables if t.name == rest), None)
        if table is None:
            return []
        if connector.read_only or any(name not in table.rectify for name in changes) or not changes:
            raise ConnectorFailed(f"{connector.id}: {rest}: only the declared columns can be corrected")
    record = Correction.objects.create(
        request_id=person.request_id,
        connector=connector.id,
        source=correction.source,
        fields=sorted(changes),
        expected=correction.expected,
        language=person.language,
    )
    if connector.kind == "sql":
        try:
            count = sql.rectify(connector, rest, person, changes, expected=correction.expected)
        except ConnectorFailed as exc:
            # A driver's message may quote the new value back ("Duplicate entry 'Kari …'"): kept without it.
            message = redact(str(exc)) if isinstance(exc, sql.Refused) else _unquoted(redact(str(exc)))
            Correction.objects.filter(pk=record.pk).update(
                status=Correction.Status.FAILED, last_error=message[:1000], finished_at=timezone.now()
            )
            if not isinstance(exc, sql.Refused):
                health_failed(connector.id, message)
            return [
                ExternalStep(
                    source=correction.source,
                    title=connector.name,
                    count=0,
                    action="failed",
                    note=describe(message).lines(),
                )
            ]
        _correction_done(record, connector, count)
        health_ok(connector.id)
        return [ExternalStep(source=correction.source, title=connector.name, count=count, action="rectified")]
    with transaction.atomic():
        Correction.objects.filter(pk=record.pk).update(
            changes=json.dumps(changes, ensure_ascii=False),
            email=person.email or None,
            email_index=email_index(person.email) if person.email else "",
            phone=person.phone or None,
            phone_index=phone_index(person.phone) if person.phone else "",
        )
        job_enqueue("connectors.webhook_rectify", payload={"correction_id": record.pk})
    return [ExternalStep(source=correction.source, title=connector.name, count=0, action="queued")]


def _done(
    row: Correction | WebhookErasure,
    connector: Connector,
    action: AuditEvent,
    data: dict[str, object],
    **outcome: object,
) -> None:
    """A queued call to another system that succeeded: its outcome kept, the person's identifiers
    forgotten (they were kept only to make the call), and the audit row, in one transaction."""
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(
            status="done",
            email=None,
            email_index="",
            phone=None,
            phone_index="",
            last_error="",
            finished_at=timezone.now(),
            **outcome,
        )
        audit_record(
            action=action,
            actor=Actor.system(),
            object_type="connectors.connector",
            object_id=connector.id,
            data={"request": row.request_id, **data},
        )


def _correction_done(record: Correction, connector: Connector, count: int) -> None:
    _done(
        record,
        connector,
        AuditEvent.CONNECTOR_RECTIFIED,
        {"source": record.source, "fields": record.fields, "count": count},
        count=count,
        changes=None,
    )


def _webhook_job(row: Correction | WebhookErasure | None) -> tuple[Connector, Person] | None:
    """A queued webhook call's connector and person; None when it is done already, or its connector
    is no longer declared (then it is marked failed, for good)."""
    if row is None or row.status == "done":
        return None
    connector = next((c for c in declared() if c.id == row.connector), None)
    if connector is None:
        type(row).objects.filter(pk=row.pk).update(status="failed", last_error="the connector is no longer declared")
        return None
    person = Person(
        request_id=row.request_id,
        reference=f"R-{row.request_id}",
        email=row.email or "",
        phone=row.phone or "",
        language=row.language,
    )
    return connector, person


def _webhook_job_failed(row: Correction | WebhookErasure, connector: Connector, exc: Exception) -> None:
    """A failed attempt, recorded on the row and the connector's health (the queue retries)."""
    message = redact(str(exc))
    type(row).objects.filter(pk=row.pk).update(last_error=message[:1000])
    health_failed(connector.id, message)


def webhook_rectify_run(*, correction_id: int) -> None:
    """Ask the webhook to correct; on failure record it and raise, so the job queue retries with backoff."""
    record = Correction.objects.filter(pk=correction_id).first()
    job = _webhook_job(record)
    if record is None or job is None:
        return
    connector, person = job
    try:
        count = webhook.rectify(
            connector,
            person,
            record.source.split(".", 1)[1],
            json.loads(record.changes or "{}"),
            expected=record.expected,
        )
    except (ConnectorFailed, NotConfigured) as exc:
        _webhook_job_failed(record, connector, exc)
        raise
    _correction_done(record, connector, count)
    health_ok(connector.id)


# ------------------------------------------------------------------ webhook erasures, through the job queue


def _webhook_queue(connector: Connector, person: Person) -> ExternalStep:
    with transaction.atomic():
        try:
            with transaction.atomic():
                erasure = WebhookErasure.objects.create(
                    request_id=person.request_id,
                    connector=connector.id,
                    email=person.email or None,
                    email_index=email_index(person.email) if person.email else "",
                    phone=person.phone or None,
                    phone_index=phone_index(person.phone) if person.phone else "",
                    language=person.language,
                )
        except IntegrityError:  # asked again (an erasure run a second time): the first one goes on
            erasure = WebhookErasure.objects.get(request_id=person.request_id, connector=connector.id)
            if erasure.status == WebhookErasure.Status.DONE:
                return ExternalStep(source=connector.id, title=connector.name, count=0, action="queued")
        job_enqueue("connectors.webhook_erase", payload={"erasure_id": erasure.pk})
    return ExternalStep(source=connector.id, title=connector.name, count=0, action="queued")


def webhook_erasure_run(*, erasure_id: int) -> None:
    """Ask the webhook to erase; on failure record it and raise, so the job queue retries with backoff."""
    erasure = WebhookErasure.objects.filter(pk=erasure_id).first()
    job = _webhook_job(erasure)
    if erasure is None or job is None:
        return
    connector, person = job
    try:
        steps = webhook.erase(connector, person, dry_run=False)
    except (ConnectorFailed, NotConfigured) as exc:
        _webhook_job_failed(erasure, connector, exc)
        raise
    counts = {step.source: step.count for step in steps}
    _done(erasure, connector, AuditEvent.CONNECTOR_ERASED, {"counts": counts}, counts=counts)
    health_ok(connector.id)


# ------------------------------------------------------------------ tasks for processors without an API


def task_hash(token: str) -> str:
    return digest(token, purpose="connectors:task")


def task_link(token: str, language: str) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse("connectors:task", kwargs={"token": token})


def _task_step(connector: Connector, person: Person, *, dry_run: bool) -> ExternalStep:
    if not dry_run:
        task_send(connector=connector, person=person)
    return ExternalStep(source=connector.id, title=connector.name, count=0, action="task", note=str(connector.contact))


def task_send(
    *, connector: Connector, person: Person, now: dt.datetime | None = None, correction: str = ""
) -> ManualTask | None:
    """Mail the processor a task: find the person, erase them (or, with ``correction``, correct their
    data as it says), and answer through a single-use link.

    Once per request, connector and kind: an erasure run again does not mail again.
    """
    now = now or timezone.now()
    kind = ManualTask.Kind.RECTIFY if correction else ManualTask.Kind.ERASE
    if connector.contact is None:
        raise ConnectorFailed(f"{connector.id}: no address to mail the task to")
    if ManualTask.objects.filter(request_id=person.request_id, connector=connector.id, kind=kind).exists():
        return None
    token = secrets.token_urlsafe(32)
    due_on = (now + dt.timedelta(days=connector.deadline_days)).date()
    with transaction.atomic():
        task = ManualTask.objects.create(
            kind=kind,
            request_id=person.request_id,
            reference=person.reference,
            connector=connector.id,
            contact=connector.contact,
            token_hash=task_hash(token),
            created_at=now,
            due_on=due_on,
            expires_at=now + dt.timedelta(days=connector.deadline_days) + TASK_LINK_GRACE,
        )
        mail = emails.connector_rectification_task if correction else emails.connector_task
        extra = {"correction": correction} if correction else {}
        mail(
            **extra,
            to=connector.contact,
            language=connector.language,
            processor=connector.name,
            reference=person.reference,
            identifiers=[value for value in (person.email, person.phone) if value],
            due_on=due_on.isoformat(),
            link=task_link(token, connector.language),
            about=person.email,
        )
        audit_record(
            action=AuditEvent.CONNECTOR_TASK_SENT,
            actor=Actor.system(),
            object_type="connectors.task",
            object_id=task.pk,
            data={
                "request": person.request_id,
                "connector": connector.id,
                "kind": kind,
                "due_on": due_on.isoformat(),
            },
        )
    return task


class TaskRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def task_by_token(token: str, *, now: dt.datetime | None = None) -> ManualTask:
    """The open task a link names; TaskRefused when it was answered, has expired or never existed."""
    now = now or timezone.now()
    task = ManualTask.objects.filter(token_hash=task_hash(token)).first() if token else None
    if task is None:
        raise TaskRefused("unknown", "this link is not valid, or the task was already answered")
    if task.expires_at <= now:
        raise TaskRefused("expired", "this link has expired")
    return task


def task_confirm(*, token: str, outcome: str, note: str, now: dt.datetime | None = None) -> ManualTask:
    """Record the processor's answer; the link then works no more."""
    now = now or timezone.now()
    if outcome not in ManualTask.Outcome.values:
        raise TaskRefused("outcome", "choose what you found and did")
    with transaction.atomic():
        task = task_by_token(token, now=now)
        if (outcome == ManualTask.Outcome.RECTIFIED) != (task.kind == ManualTask.Kind.RECTIFY) and outcome in (
            ManualTask.Outcome.RECTIFIED,
            ManualTask.Outcome.ERASED,
        ):
            raise TaskRefused("outcome", "choose what you found and did")
        claimed = ManualTask.objects.filter(pk=task.pk, token_hash=task.token_hash).update(
            token_hash=None, confirmed_at=now, outcome=outcome, note=note.strip()[:2000]
        )
        if not claimed:
            raise TaskRefused("unknown", "this link is not valid, or the task was already answered")
        audit_record(
            action=AuditEvent.CONNECTOR_TASK_CONFIRMED,
            actor=Actor.system(),
            object_type="connectors.task",
            object_id=task.pk,
            data={"request": task.request_id, "connector": task.connector, "outcome": outcome},
        )
    task.refresh_from_db()
    return task


def tasks_of(request_ids: Sequence[int]) -> list[ManualTask]:
    return list(ManualTask.objects.filter(request_id__in=list(request_ids)).order_by("pk"))
