"""Real worker processes against the real database: SIGTERM, and two workers at once."""

from __future__ import annotations

import collections
import signal

import pytest

from vern.jobs import services
from vern.jobs.models import Job
from vern.testing import start_vern, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_sigterm_lets_the_current_job_finish_then_the_worker_exits(tmp_path):
    trace = tmp_path / "trace"
    job = services.job_enqueue("tests.record", payload={"path": str(trace), "token": "slow", "sleep": 2.0})
    worker = start_vern("worker", "--poll", "0.2")
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING, what="the job to start")
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert trace.read_text().startswith("slow ")


def test_two_workers_never_run_the_same_job_twice(tmp_path):
    trace = tmp_path / "trace"
    jobs = [services.job_enqueue("tests.record", payload={"path": str(trace), "token": f"job-{n}"}) for n in range(120)]
    workers = [start_vern("worker", "--burst") for _ in range(2)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    runs = [line.split() for line in trace.read_text().splitlines()]
    tokens = collections.Counter(token for token, _ in runs)
    assert len(tokens) == len(jobs)
    assert set(tokens.values()) == {1}, [t for t, n in tokens.items() if n > 1]
    assert Job.objects.filter(name="tests.record", status=Job.Status.DONE).count() == len(jobs)
    assert Job.objects.filter(name="tests.record", attempts=1).count() == len(jobs)
