"""The loop behind ``vern worker``.

One process runs due periodic schedules, reclaims jobs whose worker died, and
runs queued jobs one at a time. Several workers may run against PostgreSQL;
they never run the same job at once (see ``job_claim``). SIGTERM or SIGINT
lets the current job finish, then the loop ends; a second SIGINT interrupts.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from types import FrameType

from django.db import DatabaseError, close_old_connections, connection

from vern.jobs import services
from vern.jobs.models import Job
from vern.jobs.registry import JobSpec, UnknownJob, get_spec

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class _Heartbeat(threading.Thread):
    """Extends the lease of a long job while it runs, from its own connection."""

    def __init__(self, *, job: Job, worker_id: str, spec: JobSpec) -> None:
        super().__init__(name=f"heartbeat-{job.pk}", daemon=True)
        self.job, self.worker_id, self.spec = job, worker_id, spec
        self.finished = threading.Event()

    def run(self) -> None:
        interval = max(self.spec.lease.total_seconds() / 3, 1.0)
        try:
            while not self.finished.wait(interval):
                if self.run_once() is False:
                    return
        finally:
            connection.close()

    def run_once(self) -> bool | None:
        """Extend the lease once: True if extended, False if the job is no longer ours, None on error."""
        try:
            kept = services.job_extend_lease(job=self.job, worker_id=self.worker_id, spec=self.spec)
        except DatabaseError as exc:
            # Keep trying: the lease still has two more intervals to run.
            log.warning("job %s #%s: could not extend its lease: %s", self.job.name, self.job.pk, exc)
            connection.close()
            return None
        if not kept:
            log.error("job %s #%s: lost its lease; another worker may run it", self.job.name, self.job.pk)
        return kept


class Worker:
    def __init__(
        self,
        *,
        poll_seconds: float = 2.0,
        burst: bool = False,
        worker_id: str | None = None,
        manage_connections: bool = True,
    ) -> None:
        self.poll_seconds = poll_seconds
        # A long-lived process must drop broken or stale database connections between
        # jobs, as Django does between requests; a test running the loop inside its
        # own transaction must not.
        self.manage_connections = manage_connections
        self.burst = burst
        self.worker_id = worker_id or new_worker_id()
        self.stopping = threading.Event()
        self.jobs_run = 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info(
            "worker %s: %s received; finishing the current job, then stopping",
            self.worker_id,
            signal.Signals(signum).name,
        )
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def run(self) -> int:
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            if self.manage_connections:
                close_old_connections()
            try:
                services.schedules_enqueue_due()
                services.jobs_reclaim_expired()
                job = services.job_claim(worker_id=self.worker_id)
                if job is not None:
                    # A database error while recording the outcome lands below; the job's
                    # lease then expires and the job runs again (jobs are idempotent).
                    self.execute(job)
                    continue
            except DatabaseError as exc:
                # The database restarted or is briefly unreachable: wait and look again
                # rather than end the worker (and, under `vern run`, the web server with it).
                log.error(
                    "worker %s: database unavailable (%s); retrying in %ss", self.worker_id, exc, self.poll_seconds
                )
                if self.manage_connections:
                    connection.close()
                if self.burst:
                    raise
                self.stopping.wait(self.poll_seconds)
                continue
            if self.burst:
                break
            self.stopping.wait(self.poll_seconds)
        if self.manage_connections:
            close_old_connections()
        log.info("worker %s stopped after %s job(s)", self.worker_id, self.jobs_run)
        return self.jobs_run

    def execute(self, job: Job) -> None:
        self.jobs_run += 1
        try:
            spec = get_spec(job.name)
        except UnknownJob as exc:
            services.job_mark_failed(job=job, worker_id=self.worker_id, error=str(exc), spec=None)
            return
        heartbeat = _Heartbeat(job=job, worker_id=self.worker_id, spec=spec)
        heartbeat.start()
        started = time.monotonic()
        try:
            spec.func(**job.payload)
        except Exception as exc:  # a job's failure must never stop the worker
            services.job_mark_failed(job=job, worker_id=self.worker_id, error=services.describe_error(exc), spec=spec)
        else:
            services.job_mark_done(job=job, worker_id=self.worker_id)
            log.info("job %s #%s done in %.2fs", job.name, job.pk, time.monotonic() - started)
        finally:
            heartbeat.finished.set()
            heartbeat.join()
