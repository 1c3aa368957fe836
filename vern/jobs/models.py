from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One unit of background work.

    A job is written in the same transaction as the change that causes it, so a
    committed change always has its job, and a rolled-back change never has one.
    The payload holds ids, never personal data. Jobs run at least once: a worker
    that dies mid-job leaves a lease that expires, and another worker runs the
    job again, so every job must be idempotent.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    run_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    last_error = models.TextField(blank=True)
    # Set while a job waits: a second enqueue with the same key is a no-op then.
    unique_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULLs never collide)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            models.Index(fields=["status", "run_after"], name="job_due"),
            models.Index(fields=["status", "lease_expires_at"], name="job_lease"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=Q(status="queued"),
                name="job_unique_while_queued",
            )
        ]

    class Privacy:
        not_personal = "Payloads hold ids of other records, never personal data."
        not_personal_fields = ("name",)  # the name of a kind of job, e.g. "mail.deliver"

    def __str__(self) -> str:
        return f"{self.name} #{self.pk} ({self.status})"


class Schedule(models.Model):
    """When a periodic job next falls due; workers claim a slot by compare-and-set."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("job schedule")
        verbose_name_plural = _("job schedules")

    class Privacy:
        not_personal = "When periodic jobs next run."
        not_personal_fields = ("name",)  # the name of a kind of job, e.g. "mail.deliver"

    def __str__(self) -> str:
        return f"{self.name} next {self.next_run_at:%Y-%m-%d %H:%M}"


class SpoolMark(models.Model):
    """How many lines of a spool file are stored (``vern.jobs.spool``).

    Written in the same transaction as the records it counts, so a drain that is
    interrupted and run again starts after the last stored line: nothing twice.
    """

    spool = models.CharField(max_length=40)
    segment = models.CharField(max_length=100)
    lines = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("spool mark")
        verbose_name_plural = _("spool marks")
        constraints = [models.UniqueConstraint(fields=["spool", "segment"], name="spool_mark_unique")]

    class Privacy:
        not_personal = "Names of local spool files and how far they are stored."
        not_personal_fields = ("spool", "segment")

    def __str__(self) -> str:
        return f"{self.spool}/{self.segment}: {self.lines}"
