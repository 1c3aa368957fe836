"""Each scan of a site, kept as proof: what was found, and the digest recorded in the audit chain."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScanRun(models.Model):
    """One ``vern scan`` of one site, by the worker, a staff member or the command line."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        CLEAN = "clean", _("Clean")
        FINDINGS = "findings", _("Findings")
        FAILED = "failed", _("Could not scan")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Daily")
        PUBLISH = "publish", _("After publishing")
        STAFF = "staff", _("Asked for in the console")

    url = models.CharField(max_length=500)
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    findings = models.JSONField(default=list)
    counts = models.JSONField(default=dict)  # pages, cookies, addresses on other sites
    problems = models.JSONField(default=list)
    digest = models.CharField(max_length=64, blank=True)  # sha-256 of the result, also in the audit chain

    class Meta:
        verbose_name = _("scan of a site")
        verbose_name_plural = _("scans of sites")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["url", "-started_at"], name="scan_by_site")]

    class Privacy:
        not_personal = "What a site does with cookies and requests, seen by a robot browser: no visitor's data."
        not_personal_fields = ("url", "trigger", "status", "digest")  # the company's own site, and the outcome

    def __str__(self) -> str:
        return f"scan #{self.pk} of {self.url}"


class ScanShot(models.Model):
    """The first page as one pass of a scan left it: the banner, or the page after a choice."""

    run = models.ForeignKey(ScanRun, on_delete=models.CASCADE, related_name="shots")
    pass_name = models.CharField(max_length=10)
    image = models.BinaryField()  # JPEG

    class Meta:
        verbose_name = _("picture of a scanned page")
        verbose_name_plural = _("pictures of scanned pages")
        constraints = [models.UniqueConstraint(fields=["run", "pass_name"], name="scan_shot_once")]

    class Privacy:
        not_personal = "A picture of the company's own public page, taken by a robot browser."
        not_personal_fields = ("pass_name",)  # "none", "reject", "accept" or "withdraw"

    def __str__(self) -> str:
        return f"{self.pass_name} of scan #{self.run_id}"
