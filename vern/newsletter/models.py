"""Newsletter subscriptions, the proof of each consent, the suppression list, and mailings (issue 16, P22)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.lib.fields import EncryptedTextField


class Subscription(models.Model):
    """One address's subscription: pending until its single-use link is used, then confirmed.

    The address and name are encrypted; ``email_index`` finds the person. The confirmation
    token is kept only as a keyed hash (``confirm_hash``), cleared when it is used, so a link
    works once. ``manage_hash`` is an unkeyed SHA-256 of the random token in every mailing's
    unsubscribe and preference links (kept encrypted in ``manage_token`` to write them): it
    must survive a rotation of the index key.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for confirmation")
        CONFIRMED = "confirmed", _("subscribed")
        ENDED = "ended", _("unsubscribed")

    email = EncryptedTextField()
    email_index = models.CharField(max_length=64, unique=True)
    name = EncryptedTextField(blank=True)
    language = models.CharField(max_length=8)
    topics = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    form = models.CharField(max_length=20)  # where the person asked: newsletter, contact or demo
    confirm_hash = models.CharField(max_length=64, blank=True, db_index=True)
    confirm_expires_at = models.DateTimeField()
    manage_hash = models.CharField(max_length=64, unique=True)
    # The token itself, encrypted: every mailing carries the same links, so a link in an old mail still works.
    manage_token = EncryptedTextField()
    # What the person was shown when they asked (its hash names a ConsentText), the policy version then.
    text_hash = models.CharField(max_length=64)
    policy_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The retention clock: when the person unsubscribed, withdrew consent, or was suppressed.
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)
    hard_failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("newsletter subscription")
        verbose_name_plural = _("newsletter subscriptions")
        indexes = [models.Index(fields=["status", "confirm_expires_at"], name="newsletter_pending")]

    class Privacy:
        purpose = "newsletter"
        retention = "newsletter"
        identifiers = {"email": "email_index"}
        # The rule's clock is the end of the subscription (``ended_at``), which a running one does
        # not have: the app's surface gives the query (``selectors.due_subscriptions``).
        clock = "created_at"
        erasure = "delete"
        bases = ("a",)
        export = (
            "email",
            "name",
            "language",
            "topics",
            "status",
            "form",
            "policy_version",
            "created_at",
            "confirmed_at",
            "ended_at",
        )

    def __str__(self) -> str:
        return f"subscription #{self.pk} ({self.status})"


class ConsentText(models.Model):
    """Exactly what a person was shown when asked to subscribe, stored once per hash."""

    hash = models.CharField(max_length=64, primary_key=True)
    language = models.CharField(max_length=8)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("newsletter consent text")
        verbose_name_plural = _("newsletter consent texts")

    class Privacy:
        not_personal = "The texts of the subscription forms, the same for every visitor."

    def __str__(self) -> str:
        return self.hash[:12]


class ConsentProof(models.Model):
    """One step of a newsletter consent, as proof: append-only and hash-chained (the ``newsletter`` chain).

    The chained fields name the subscription by a random id (``subscriber``), never the
    address; ``email_index`` (outside the mac) lets the person's access request find the proof,
    and their erasure clears it, which leaves a row that no longer leads to anyone.
    """

    class Action(models.TextChoices):
        REQUESTED = "requested", _("asked to subscribe")
        CONFIRMED = "confirmed", _("confirmed the subscription")
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
        WITHDRAWN = "withdrawn", _("withdrew consent through a rights request")
        SUPPRESSED = "suppressed", _("address refused by the mail server")
        PREFERENCES = "preferences", _("changed topics or language")

    seq = models.BigIntegerField(unique=True)
    subscriber = models.CharField(max_length=32, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=14, choices=Action.choices)
    text_hash = models.CharField(max_length=64, blank=True)
    language = models.CharField(max_length=8)
    policy_version = models.PositiveIntegerField()
    form = models.CharField(max_length=20)
    topics = models.JSONField(default=list)
    ip_shortened = models.CharField(max_length=45, blank=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("newsletter consent record")
        verbose_name_plural = _("newsletter consent records")

    class Privacy:
        purpose = "privacy_compliance"
        retention = "consent_records"
        identifiers = {"email": "email_index"}
        clock = "created_at"
        erasure = "anonymise"
        anonymise = ("email_index",)
        export = ("created_at", "action", "text_hash", "language", "policy_version", "form", "topics", "ip_shortened")

    def __str__(self) -> str:
        return f"{self.subscriber[:8]} {self.action} #{self.seq}"


class Suppression(models.Model):
    """An address that gets no mailing again unless it subscribes anew and confirms: its keyed index only.

    It survives the person's erasure (the promise not to mail them again needs it), and is
    recomputed by ``vern keys rotate`` like every blind index.
    """

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("unsubscribed")
        WITHDRAWN = "withdrawn", _("withdrew consent")
        REFUSED = "refused", _("refused for good by the receiving mail server")

    email_index = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=14, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("newsletter suppression")
        verbose_name_plural = _("newsletter suppressions")

    class Privacy:
        purpose = "privacy_compliance"
        retention = "marketing_objections"
        identifiers = {"email": "email_index"}
        clock = "created_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 21(3) and 17(3)(b): to keep the promise never to mail an address that unsubscribed, a keyed "
            "reference to it is kept; it cannot be turned back into the address."
        )
        export = ("reason", "created_at")

    def __str__(self) -> str:
        return f"suppression #{self.pk}"


class Mailing(models.Model):
    """A newsletter written by staff, in Bokmål and English, about one topic."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")

    topic = models.CharField(max_length=40)
    subject_nb = models.CharField(max_length=200)
    subject_en = models.CharField(max_length=200)
    body_nb = models.TextField()
    body_en = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    unsubscribed = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("newsletter mailing")
        verbose_name_plural = _("newsletter mailings")

    class Privacy:
        staff_data = "A mailing's texts and the staff member who wrote it; no subscriber's data."

    def __str__(self) -> str:
        return f"mailing #{self.pk}"


class Delivery(models.Model):
    """That a mailing went to a subscription, as which outbox message: one row per recipient, so a send
    that is stopped and started again never mails anyone twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SKIPPED = "skipped", _("skipped (suppressed, restricted or objecting)")

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(Subscription, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices)
    outbox_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    failure_counted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("newsletter delivery")
        verbose_name_plural = _("newsletter deliveries")
        constraints = [
            models.UniqueConstraint(fields=["mailing", "subscription"], name="newsletter_delivery_once"),
        ]

    class Privacy:
        not_personal = (
            "Which mailing went out as which outbox message. It leads to a person only through the "
            "subscription, which the person's erasure deletes (the link is then emptied)."
        )
        not_personal_fields = ("subscription",)  # a row number, emptied when the subscription goes

    def __str__(self) -> str:
        return f"delivery #{self.pk}"
