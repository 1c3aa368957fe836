from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Backup(models.Model):
    """One attempt to write an encrypted backup, and what became of the file.

    The file itself is the truth (its manifest says everything below); these rows let the
    console and ``vern check --deploy`` see, from any machine, when the last backup succeeded
    and why one failed. A restore brings back the rows of its own time, so after one vern
    records again the backups it finds in the backup directory.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        OK = "ok", _("made")
        FAILED = "failed", _("failed")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("nightly")
        COMMAND = "command", _("command line")

    name = models.CharField(max_length=200, blank=True)  # the file name, once it exists
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.COMMAND)
    database = models.CharField(max_length=20, blank=True)  # "sqlite" or "postgresql"
    key_id = models.CharField(max_length=32, blank=True)
    size = models.BigIntegerField(null=True, blank=True)  # bytes of the encrypted file
    sha256 = models.CharField(max_length=64, blank=True)  # of the payload before encryption
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)  # the file was deleted after the declared period

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        indexes = [models.Index(fields=["status", "finished_at"], name="backup_status_finished")]

    class Privacy:
        not_personal = "File names, sizes, checksums and times of backups; errors of the dump tools."
        not_personal_fields = ("name", "error")

    def __str__(self) -> str:
        return f"{self.name or 'backup'} ({self.status})"
