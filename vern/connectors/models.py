"""What vern keeps about the company's other systems: their health, webhook erasures under way,
and the tasks mailed to processors without an API."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.lib.fields import EncryptedTextField


class Health(models.Model):
    """The last time a connector worked, and the last time it did not (with why)."""

    connector = models.CharField(max_length=40, unique=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # the connector's message: never an identifier or a password

    class Meta:
        verbose_name = _("health of a connector")
        verbose_name_plural = _("health of connectors")

    class Privacy:
        not_personal = "Times and error messages of the company's other systems; no one's identifiers."

    def __str__(self) -> str:
        return f"health of {self.connector}"

    @property
    def failing(self) -> bool:
        """The last thing that happened was an error."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at >= self.last_success_at


class WebhookErasure(models.Model):
    """An erasure handed to another system's webhook, retried by the job queue until it answers.

    It needs the person's identifiers to ask, so it holds them encrypted (with blind indexes, so that
    a later erasure of the same person finds it), and forgets them once the webhook has answered.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the other system")
        DONE = "done", _("Erased")
        FAILED = "failed", _("Failed")

    request_id = models.PositiveIntegerField(db_index=True)
    connector = models.CharField(max_length=40)
    email = EncryptedTextField(null=True, blank=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(null=True, blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=8, default="nb")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    counts = models.JSONField(default=dict, blank=True)  # source → rows the webhook says it erased
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("erasure in another system")
        verbose_name_plural = _("erasures in other systems")
        constraints = [
            models.UniqueConstraint(fields=["request_id", "connector"], name="connectors_webhook_erasure_once")
        ]

    class Privacy:
        purpose = "privacy_compliance"
        retention = "rights_requests"
        identifiers = {"email": "email_index", "phone": "phone_index"}
        clock = "created_at"
        erasure = "delete"
        bases = ("c",)
        export = ("connector", "status", "created_at", "finished_at")

    def __str__(self) -> str:
        return f"webhook erasure #{self.pk} ({self.status})"


class Correction(models.Model):
    """A correction (Art. 16) of a person's rows in another system, and how it went.

    An SQL correction is done (or failed) at once; a webhook's waits for the job queue, and until it
    answers keeps the person's identifiers and the new values encrypted (forgotten once it has).
    A failed correction blocks closing the request until a later one of the same source succeeds.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the other system")
        DONE = "done", _("Corrected")
        FAILED = "failed", _("Failed")

    request_id = models.PositiveIntegerField(db_index=True)
    connector = models.CharField(max_length=40)
    source = models.CharField(max_length=110)  # connector.table, or connector.<webhook source>
    fields = models.JSONField(default=list, blank=True)  # the names of the corrected fields, never values
    changes = EncryptedTextField(null=True, blank=True)  # JSON of the new values, while a webhook has them to do
    email = EncryptedTextField(null=True, blank=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(null=True, blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=8, default="nb")
    expected = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)  # redacted: never an identifier
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("correction in another system")
        verbose_name_plural = _("corrections in other systems")

    class Privacy:
        purpose = "privacy_compliance"
        retention = "rights_requests"
        identifiers = {"email": "email_index", "phone": "phone_index"}
        clock = "created_at"
        erasure = "delete"
        bases = ("c",)
        export = ("source", "fields", "status", "count", "created_at", "finished_at")

    def __str__(self) -> str:
        return f"correction #{self.pk} in {self.source} ({self.status})"


class ManualTask(models.Model):
    """A task mailed to a processor without an API: find the person, erase them, and say so.

    The processor answers through a single-use link (only its hash is kept), before it expires.
    """

    class Outcome(models.TextChoices):
        NOT_FOUND = "not_found", _("Nothing found about the person")
        ERASED = "erased", _("Found and erased")
        KEPT = "kept", _("Found, but kept (with a reason)")
        RECTIFIED = "rectified", _("Found and corrected")

    class Kind(models.TextChoices):
        ERASE = "erase", _("Erase")
        RECTIFY = "rectify", _("Correct")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ERASE)
    request_id = models.PositiveIntegerField(db_index=True)
    reference = models.CharField(max_length=20)  # the request's reference, R-<n>: what the processor quotes
    connector = models.CharField(max_length=40)
    contact = models.EmailField()  # the processor's address for such tasks, from the declaration
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    note = EncryptedTextField(blank=True)  # what the processor wrote back

    class Meta:
        verbose_name = _("task for a processor")
        verbose_name_plural = _("tasks for processors")
        constraints = [
            models.UniqueConstraint(fields=["request_id", "connector", "kind"], name="connectors_task_once_per_kind")
        ]

    class Privacy:
        not_personal = (
            "A request's number, the processor's business address and its answer; the person is named only "
            "by the request's reference, and the processor is asked not to write their details."
        )
        not_personal_fields = ("contact", "note")

    def __str__(self) -> str:
        return f"task #{self.pk} for {self.connector}"
