from __future__ import annotations

from django.conf import settings
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


class Draft(models.Model):
    """The declaration being edited in the console, before it is published (ADR 0013).

    There is at most one: starting a draft copies the published version's content, each
    section the officer saves replaces its part, and publishing turns it into the next
    ``PolicyVersion`` through ``declaration_publish`` and removes it. ``content`` has the
    shape of ``PolicyVersion.content`` (the declaration as data); ``revision`` goes up with
    each save, so a form posted over someone else's newer save is refused, not merged.
    """

    content = models.JSONField()
    based_on = models.ForeignKey(PolicyVersion, null=True, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    # Always 1 and unique: the database itself keeps the draft single, even when two officers
    # start one at the same moment (a row lock cannot, when there is no row yet to lock).
    slot = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)

    class Meta:
        verbose_name = _("draft of the privacy policy")
        verbose_name_plural = _("drafts of the privacy policy")
        constraints = [models.CheckConstraint(condition=models.Q(slot=1), name="declaration_draft_single")]

    class Privacy:
        not_personal = "The policy text being edited; it names the controller, and the staff member who last saved it."

    def __str__(self) -> str:
        return f"draft (revision {self.revision})"
