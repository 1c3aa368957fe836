from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyVersion(models.Model):
    """One published version of the declaration: immutable, dated, always readable.

    Consent records and requests point at the version that was shown, so old
    versions are never changed (a database trigger refuses UPDATE) nor removed.
    ``consent_revision`` goes up only when what a visitor consents to changes
    (cookie categories, cookies, purposes and their bases); the banner asks again then.
    """

    number = models.PositiveIntegerField(unique=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.CharField(max_length=100)
    significant = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    source = models.TextField()
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)
    consent_fingerprint = models.CharField(max_length=64)
    consent_revision = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("version of the privacy policy")
        verbose_name_plural = _("versions of the privacy policy")
        ordering = ["-number"]

    class Privacy:
        not_personal = "The published policy text; it names the controller, not visitors."

    def __str__(self) -> str:
        return f"version {self.number} ({self.published_at:%Y-%m-%d})"


class ChangeNotice(models.Model):
    """That one person was mailed about one significant change: each is told once (P20).

    The person is named by the blind index of their address only; the mail itself is in the
    outbox, under the same retention.
    """

    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    to_index = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notice of a policy change")
        verbose_name_plural = _("notices of a policy change")
        constraints = [models.UniqueConstraint(fields=["version", "to_index"], name="change_notice_once")]

    class Privacy:
        purpose = "operations"
        retention = "mail_log"
        identifiers = {"email": "to_index"}
        clock = "created_at"
        erasure = "delete"
        export = ("created_at",)

    def __str__(self) -> str:
        return f"notice of version {self.version_id} #{self.pk}"
