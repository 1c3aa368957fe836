"""Legal holds, and the record of each retention run."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.lib.fields import EncryptedTextField


class Hold(models.Model):
    """Keep a person's data, or one record, past its retention period, for a stated reason.

    A hold on a person names them by the blind index of their email or phone
    (``subject_key``), never the address itself; a hold on a record names its
    model and primary key. Holds end on their date or when released; both are
    audited, and the retention plan shows what each one keeps.
    """

    subject_key = models.CharField(max_length=64, blank=True, db_index=True)
    record_model = models.CharField(max_length=100, blank=True)
    record_pk = models.CharField(max_length=64, blank=True)
    reason = EncryptedTextField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        indexes = [
            models.Index(fields=["record_model", "record_pk"], name="hold_record"),
            models.Index(fields=["released_at", "ends_at"], name="hold_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(~models.Q(subject_key="") & models.Q(record_model="", record_pk=""))
                | (models.Q(subject_key="") & ~models.Q(record_model="") & ~models.Q(record_pk="")),
                name="hold_on_a_person_or_a_record",
            )
        ]

    class Privacy:
        purpose = "privacy_compliance"
        retention = "rights_requests"
        identifiers = {"email": "subject_key", "phone": "subject_key"}
        clock = "ends_at"  # moved to the release time when released early
        erasure = "retain"
        retain_reason = _("Art. 17(3)(e): a hold exists to keep data for the establishment or defence of legal claims.")
        export = ("record_model", "reason", "ends_at", "created_at", "released_at")

    def __str__(self) -> str:
        return f"hold #{self.pk}"

    @property
    def active(self) -> bool:
        return self.released_at is None and self.ends_at > timezone.now()


class Run(models.Model):
    """One retention sweep: when, what it removed per model (counts only), and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    class Trigger(models.TextChoices):
        WORKER = "worker", _("nightly")
        CLI = "cli", _("command line")
        STAFF = "staff", _("a privacy officer")

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    # The time the sweep judged "due" by: the earlier of the application's and the database's clock.
    as_of = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("retention sweep")
        verbose_name_plural = _("retention sweeps")
        indexes = [models.Index(fields=["-started_at"], name="retention_run_started")]

    class Privacy:
        not_personal = "Counts of removed rows per model and the time of each run; never an identifier."

    def __str__(self) -> str:
        return f"run #{self.pk} ({self.status})"
