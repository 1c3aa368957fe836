"""The job queue: enqueue with the change, retry with backoff, give up visibly."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from vern.jobs import services
from vern.jobs.models import Job, Schedule
from vern.jobs.registry import OSLO, get_spec
from vern.jobs.worker import Worker

pytestmark = pytest.mark.django_db


def run_burst() -> int:
    return Worker(burst=True, worker_id="test-worker", manage_connections=False).run()


def test_a_job_is_queued_only_if_the_change_that_caused_it_commits(tmp_path):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.job_enqueue("tests.record", payload={"path": str(tmp_path / "x"), "token": "a"})
        raise RuntimeError("the change fails")
    assert not Job.objects.exists()
    with transaction.atomic():
        services.job_enqueue("tests.record", payload={"path": str(tmp_path / "x"), "token": "a"})
    assert Job.objects.count() == 1


def test_an_unknown_job_name_is_refused_at_once():
    with pytest.raises(LookupError, match="no job is registered"):
        services.job_enqueue("no.such.job")


def test_a_payload_that_is_not_json_is_refused_at_once():
    with pytest.raises(TypeError):
        services.job_enqueue("tests.record", payload={"path": object()})
    assert not Job.objects.exists()


def test_a_unique_job_is_queued_once_while_it_waits(tmp_path):
    payload = {"path": str(tmp_path / "x"), "token": "a"}
    first = services.job_enqueue_once("tests.record", key="k", payload=payload)
    second = services.job_enqueue_once("tests.record", key="k", payload=payload)
    assert first is not None and second is None
    assert Job.objects.count() == 1


def test_the_worker_runs_a_queued_job_and_marks_it_done(tmp_path):
    trace = tmp_path / "trace"
    job = services.job_enqueue("tests.record", payload={"path": str(trace), "token": "hello"})
    run_burst()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.attempts == 1 and job.finished_at is not None
    assert trace.read_text().startswith("hello ")


def test_a_job_that_is_not_due_yet_waits(tmp_path):
    job = services.job_enqueue(
        "tests.record",
        payload={"path": str(tmp_path / "t"), "token": "later"},
        run_after=timezone.now() + dt.timedelta(minutes=5),
    )
    run_burst()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 0
    assert not (tmp_path / "t").exists()


def test_a_failing_job_is_retried_then_shown_as_failed_with_its_error_without_personal_data():
    job = services.job_enqueue("tests.explode", payload={"message": "could not reach ola@example.no"})
    run_burst()
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.attempts == 1
    assert "RuntimeError" in job.last_error
    assert job.run_after > timezone.now() + dt.timedelta(seconds=50)  # backoff before the next try
    with time_machine.travel(job.run_after + dt.timedelta(seconds=1)):
        run_burst()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.attempts == 2
    assert "ola@example.no" not in job.last_error and "[email]" in job.last_error


def test_retries_wait_longer_each_time_up_to_an_hour():
    spec = get_spec("mail.deliver")
    waits = [spec.backoff(n).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert waits[:4] == [30, 60, 120, 240]
    assert waits[4] == 3600


def test_a_job_left_running_by_a_dead_worker_goes_back_to_the_queue(tmp_path):
    job = services.job_enqueue("tests.record", payload={"path": str(tmp_path / "t"), "token": "x"})
    claimed = services.job_claim(worker_id="dead-worker")
    assert claimed is not None and claimed.pk == job.pk
    assert services.jobs_reclaim_expired() == 0  # lease still valid
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        assert services.jobs_reclaim_expired() == 1
        job.refresh_from_db()
        assert job.status == Job.Status.QUEUED
        assert "dead-worker" in job.last_error
        run_burst()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.attempts == 2


def test_a_dead_worker_on_the_last_attempt_leaves_the_job_failed(tmp_path):
    job = services.job_enqueue("tests.record", payload={"path": str(tmp_path / "t"), "token": "x"})
    Job.objects.filter(pk=job.pk).update(attempts=2)  # tests.record allows 3
    services.job_claim(worker_id="dead-worker")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        services.jobs_reclaim_expired()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_a_failed_job_can_be_retried_once_and_only_when_failed():
    job = services.job_enqueue("tests.explode", payload={"message": "x"})
    Job.objects.filter(pk=job.pk).update(attempts=1)
    run_burst()
    with pytest.raises(ValueError):
        services.job_retry(job_id=services.job_enqueue("tests.explode").pk)
    retried = services.job_retry(job_id=job.pk)
    assert retried.status == Job.Status.QUEUED and retried.attempts == 0


def test_a_periodic_job_is_queued_once_per_slot_however_many_workers_look():
    now = timezone.now()
    first = services.schedules_enqueue_due(now=now)
    assert "mail.deliver" in first and "jobs.purge_finished" in first
    assert services.schedules_enqueue_due(now=now) == []
    assert Job.objects.filter(name="mail.deliver").count() == 1
    schedule = Schedule.objects.get(name="mail.deliver")
    assert schedule.next_run_at == now + dt.timedelta(seconds=30)


def test_of_two_workers_that_saw_the_same_due_slot_only_one_queues_the_job():
    """The compare-and-set itself: both read the schedule before either moved it on."""
    now = timezone.now()
    Schedule.objects.create(name="mail.deliver", next_run_at=now - dt.timedelta(seconds=1))
    seen_by_one = Schedule.objects.get(name="mail.deliver")
    seen_by_other = Schedule.objects.get(name="mail.deliver")
    assert services.schedule_claim_slot(schedule=seen_by_one, now=now)
    assert not services.schedule_claim_slot(schedule=seen_by_other, now=now)
    assert Job.objects.filter(name="mail.deliver").count() == 1


def test_a_job_can_go_back_to_the_queue_while_its_twin_waits(tmp_path):
    """A unique job that fails while a new one with its key waits is retried, not lost or crashed."""
    job = services.job_enqueue_once("tests.explode", key="k", payload={"message": "x"})
    assert job is not None
    services.job_claim(worker_id="w")
    twin = services.job_enqueue_once("tests.explode", key="k", payload={"message": "y"})
    assert twin is not None  # the first is running, so the key is free
    job.refresh_from_db()
    services.job_mark_failed(job=job, worker_id="w", error="boom", spec=get_spec("tests.explode"))
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 2


def test_a_long_job_keeps_its_lease_while_it_runs(tmp_path):
    from vern.jobs.worker import _Heartbeat

    job = services.job_enqueue("tests.slow", payload={"path": str(tmp_path / "t"), "token": "x", "sleep": 0})
    claimed = services.job_claim(worker_id="w")
    assert claimed is not None
    first_lease = claimed.lease_expires_at
    heartbeat = _Heartbeat(job=claimed, worker_id="w", spec=get_spec("tests.slow"))
    heartbeat.run_once()
    job.refresh_from_db()
    assert job.lease_expires_at is not None and first_lease is not None
    assert job.lease_expires_at > first_lease
    Job.objects.filter(pk=job.pk).update(claimed_by="someone-else")
    assert heartbeat.run_once() is False  # the job is no longer ours: stop extending


def test_a_daily_job_falls_due_at_its_oslo_wall_clock_time_also_across_daylight_saving():
    spec = get_spec("jobs.purge_finished")  # daily at 03:30 Oslo time
    before_dst_ends = dt.datetime(2026, 10, 23, 12, 0, tzinfo=OSLO)
    due = spec.next_due(before_dst_ends)
    after = spec.next_due(due)
    local_due, local_after = due.astimezone(OSLO), after.astimezone(OSLO)
    assert (local_due.date(), local_due.hour, local_due.minute) == (dt.date(2026, 10, 24), 3, 30)
    assert (local_after.date(), local_after.hour, local_after.minute) == (dt.date(2026, 10, 25), 3, 30)
    assert after.astimezone(dt.UTC) - due.astimezone(dt.UTC) == dt.timedelta(hours=25)  # clocks go back
