"""Writes to the job queue: enqueue, claim, finish, retry, schedule."""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vern.jobs.models import Job, Schedule
from vern.jobs.registry import JobSpec, UnknownJob, all_specs, get_spec
from vern.lib.logs import redact

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 8000


def _new_job(name: str, payload: dict[str, Any] | None, run_after: dt.datetime | None, key: str | None) -> Job:
    spec = get_spec(name)
    payload = payload or {}
    json.dumps(payload)  # refuse what the JSON column could not hold, here and not in the worker
    return Job(
        name=name,
        payload=payload,
        run_after=run_after or timezone.now(),
        max_attempts=spec.max_attempts,
        unique_key=key,
    )


def job_enqueue(name: str, *, payload: dict[str, Any] | None = None, run_after: dt.datetime | None = None) -> Job:
    """Queue a job in the caller's transaction: it exists only if the caller's change commits."""
    job = _new_job(name, payload, run_after, None)
    job.save()
    return job


def job_enqueue_once(
    name: str, *, key: str, payload: dict[str, Any] | None = None, run_after: dt.datetime | None = None
) -> Job | None:
    """Like ``job_enqueue``, unless a job with this key is already waiting; then nothing is queued."""
    job = _new_job(name, payload, run_after, key)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        return None
    return job


def job_claim(*, worker_id: str, now: dt.datetime | None = None) -> Job | None:
    """Take the next due job for this worker, or ``None``.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps workers off each other's rows;
    everywhere the conditional update is the real guard: of two workers that
    picked the same row, only one changes it from queued to running.
    """
    now = now or timezone.now()
    with transaction.atomic():
        candidate = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.QUEUED, run_after__lte=now)
            .order_by("run_after", "pk")
            .only("pk", "name")
            .first()
        )
        if candidate is None:
            return None
        try:
            lease = get_spec(candidate.name).lease
        except UnknownJob:
            lease = dt.timedelta(minutes=5)
        won = Job.objects.filter(pk=candidate.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.RUNNING,
            attempts=F("attempts") + 1,
            # The key means "one of these is waiting": once this one runs, a twin may be
            # queued, and this one must be able to go back to the queue after a failure.
            unique_key=None,
            claimed_by=worker_id,
            started_at=now,
            lease_expires_at=now + lease,
        )
    if not won:
        return None  # another worker got there first
    return Job.objects.get(pk=candidate.pk)


def job_extend_lease(*, job: Job, worker_id: str, spec: JobSpec) -> bool:
    """Heartbeat of a long job; False when the job is no longer this worker's.

    Leases are compared with each host's own clock; hosts keep time with NTP, and
    leases last minutes, so the seconds of skew that remain do not matter.
    """
    return bool(
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claimed_by=worker_id).update(
            lease_expires_at=timezone.now() + spec.lease
        )
    )


def job_mark_done(*, job: Job, worker_id: str) -> None:
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claimed_by=worker_id).update(
        status=Job.Status.DONE, finished_at=timezone.now(), lease_expires_at=None, last_error=""
    )


def describe_error(exc: BaseException) -> str:
    """Exception and traceback, redacted of personal data and cut to size."""
    text = "".join(traceback.format_exception(exc))
    return redact(text)[-MAX_ERROR_CHARS:]


def job_mark_failed(*, job: Job, worker_id: str, error: str, spec: JobSpec | None) -> Job.Status:
    """Record a failed attempt: retry later with backoff, or give up after the last attempt."""
    now = timezone.now()
    attempts = job.attempts
    if spec is not None and attempts < job.max_attempts:
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claimed_by=worker_id).update(
            status=Job.Status.QUEUED,
            run_after=now + spec.backoff(attempts),
            lease_expires_at=None,
            last_error=error,
        )
        log.warning("job %s #%s failed (attempt %s of %s); retrying", job.name, job.pk, attempts, job.max_attempts)
        return Job.Status.QUEUED
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, claimed_by=worker_id).update(
        status=Job.Status.FAILED, finished_at=now, lease_expires_at=None, last_error=error
    )
    log.error("job %s #%s failed for good after %s attempts", job.name, job.pk, attempts)
    return Job.Status.FAILED


def jobs_reclaim_expired(*, now: dt.datetime | None = None) -> int:
    """Jobs whose worker died (lease expired) go back to the queue, or fail after their last attempt."""
    now = now or timezone.now()
    reclaimed = 0
    expired = Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=now).values_list(
        "pk", "attempts", "max_attempts", "claimed_by"
    )
    for pk, attempts, max_attempts, claimed_by in expired:
        note = f"the worker {claimed_by} stopped during attempt {attempts} (its lease expired)"
        if attempts >= max_attempts:
            changes: dict[str, Any] = {"status": Job.Status.FAILED, "finished_at": now, "last_error": note}
        else:
            changes = {"status": Job.Status.QUEUED, "run_after": now, "last_error": note}
        reclaimed += Job.objects.filter(pk=pk, status=Job.Status.RUNNING, lease_expires_at__lt=now).update(
            lease_expires_at=None, **changes
        )
    if reclaimed:
        log.warning("reclaimed %s job(s) from workers that stopped", reclaimed)
    return reclaimed


def job_retry(*, job_id: int) -> Job:
    """Give a failed job a fresh set of attempts (a staff action)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.FAILED:
            raise ValueError(f"only a failed job can be retried; this one is {job.status}")
        job.status = Job.Status.QUEUED
        job.attempts = 0
        job.run_after = timezone.now()
        job.finished_at = None
        job.save(update_fields=["status", "attempts", "run_after", "finished_at"])
    return job


def schedules_enqueue_due(*, now: dt.datetime | None = None) -> list[str]:
    """Queue each periodic job whose time has come; exactly one worker wins each slot."""
    now = now or timezone.now()
    queued: list[str] = []
    for spec in all_specs():
        if not spec.periodic:
            continue
        first = now if spec.first_run_at_once else spec.next_due(now)
        schedule, _ = Schedule.objects.get_or_create(name=spec.name, defaults={"next_run_at": first})
        if schedule.next_run_at <= now and schedule_claim_slot(schedule=schedule, now=now):
            queued.append(spec.name)
    return queued


def schedule_claim_slot(*, schedule: Schedule, now: dt.datetime) -> bool:
    """Move a due schedule on and queue its job, unless another worker moved it first."""
    spec = get_spec(schedule.name)
    with transaction.atomic():
        won = Schedule.objects.filter(pk=schedule.pk, next_run_at=schedule.next_run_at).update(
            next_run_at=spec.next_due(now), last_enqueued_at=now
        )
        if won:
            job_enqueue_once(spec.name, key=f"periodic:{spec.name}")
    return bool(won)
