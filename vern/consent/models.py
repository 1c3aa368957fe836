from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Snapshot(models.Model):
    """Exactly what a banner showed: texts, buttons and categories, stored once per hash (C12)."""

    hash = models.CharField(max_length=64, primary_key=True)
    content = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent banner as shown")
        verbose_name_plural = _("consent banners as shown")

    class Privacy:
        not_personal = "The texts and buttons of a banner, the same for every visitor."

    def __str__(self) -> str:
        return self.hash[:12]


class ConsentEvent(models.Model):
    """One decision about cookies, as proof (C12, C13): append-only and hash-chained.

    It holds a random consent id (the visitor's cookie holds the same id), never a
    name or address; the IP address is stored shortened, or not at all.
    """

    class Action(models.TextChoices):
        ACCEPT_ALL = "accept_all", "accept all"
        REJECT_ALL = "reject_all", "reject all"
        CUSTOM = "custom", "custom"
        WITHDRAW = "withdraw", "withdraw"
        EXPIRE = "expire", "expire"
        GPC = "gpc", "global privacy control"

    class Layer(models.TextChoices):
        BANNER = "banner", "banner"
        SETTINGS = "settings", "settings"
        API = "api", "programmatic"
        EMBED = "embed", "embedded on another site"
        RIGHTS = "rights", "a rights request"

    seq = models.BigIntegerField(unique=True)
    consent_id = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    action = models.CharField(max_length=12, choices=Action.choices)
    granted = models.JSONField(default=list)
    refused = models.JSONField(default=list)
    policy_version = models.PositiveIntegerField()
    consent_revision = models.PositiveIntegerField()
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=8)
    layer = models.CharField(max_length=10, choices=Layer.choices)
    page_path = models.CharField(max_length=300, blank=True)
    origin = models.CharField(max_length=200, blank=True)
    ip_shortened = models.CharField(max_length=45, blank=True)
    gpc = models.BooleanField(default=False)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("cookie choice")
        verbose_name_plural = _("cookie choices")
        indexes = [
            models.Index(fields=["created_at"], name="consent_created"),
            # The few withdrawals made by rights requests, which every process reads to honour them.
            models.Index(fields=["expires_at"], condition=models.Q(layer="rights"), name="consent_rights"),
        ]

    class Privacy:
        purpose = "privacy_compliance"
        retention = "consent_records"
        identifiers = {"consent_id": "consent_id"}
        clock = "expires_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 7(1) and 17(3)(e): the proof that consent was given or refused; it holds a random id and a "
            "shortened IP address, no name or contact details."
        )
        export = (
            "consent_id",
            "created_at",
            "action",
            "granted",
            "refused",
            "policy_version",
            "language",
            "layer",
            "page_path",
            "origin",
            "ip_shortened",
            "gpc",
        )

    def __str__(self) -> str:
        return f"{self.consent_id[:8]} {self.action} #{self.seq}"


class DecisionTotal(models.Model):
    """How many cookie decisions of a day had one combination of banner revision, language, Global
    Privacy Control and categories allowed and refused: what the statistics read instead of the
    day's events (``statistics``). Written by the job ``consent.totals``, up to ``DecisionDay.until``."""

    day = models.DateField()
    revision = models.PositiveIntegerField()
    language = models.CharField(max_length=8)
    gpc = models.BooleanField()
    # The categories as a sorted JSON list, so that one combination is one row.
    granted = models.TextField()
    refused = models.TextField()
    decisions = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("cookie decisions of a day")
        verbose_name_plural = _("cookie decisions of days")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "revision", "language", "gpc", "granted", "refused"], name="decisiontotal_unique"
            )
        ]

    class Privacy:
        not_personal = (
            "Per day, a count of the decisions with one banner revision, language and choice; no id or address."
        )

    def __str__(self) -> str:
        return f"{self.day} {self.decisions}"


class DecisionDay(models.Model):
    """A day whose decisions are counted in ``DecisionTotal``: those made before ``until``, which is
    the end of the day once it is over (today is counted up to an hour that has passed). Not
    ``current`` when a decision of that day was stored after it was counted (from the consent
    spool after an outage, or a minute or more after it was made): the statistics then read the
    day's events again, and the job counts the day afresh."""

    day = models.DateField(primary_key=True)
    until = models.DateTimeField()
    # The highest ``ConsentEvent.seq`` when it was counted: a decision stored later has a higher one.
    seq = models.BigIntegerField(default=0)
    current = models.BooleanField(default=True)
    totalled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("counted day of cookie decisions")
        verbose_name_plural = _("counted days of cookie decisions")

    class Privacy:
        not_personal = "Which days the cookie decisions are counted for, and when; nothing about a visitor."

    def __str__(self) -> str:
        return f"{self.day} ({'current' if self.current else 'to count again'})"
