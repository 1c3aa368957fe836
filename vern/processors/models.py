"""The processor register: each processor the company uses, its sub-processors, and their changes.

Nothing here is about a data subject: a processor is a firm, and the register names firms and
countries. The people who follow the change log by mail are kept apart (``ChangeSubscriber``,
when it exists); the staff who edit are in the audit log.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.lib.fields import EncryptedTextField

EEA = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split())


class Processor(models.Model):
    """One processor (GDPR Art. 28): what it does for the company, where, and on what terms."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not active")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    class Mechanism(models.TextChoices):
        NONE = "none", _("No mechanism")
        ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
        SCC = "scc", _("Standard Contractual Clauses (Art. 46)")

    key = models.SlugField(max_length=40, unique=True)  # the declaration's id of the processor
    name = models.CharField(max_length=200)
    service_nb = models.CharField(max_length=300)
    service_en = models.CharField(max_length=300)
    purposes = models.JSONField(default=list, blank=True)  # ids of the declaration's purposes
    data_categories = models.JSONField(default=list, blank=True)  # ids of the declaration's data categories
    countries = models.JSONField(default=list)  # ISO 3166 codes where it processes or stores data
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    agreement_date = models.DateField(null=True, blank=True)
    agreement_note = models.CharField(max_length=500, blank=True)
    # The signed agreement, kept in the database like every other file vern keeps (scan pictures).
    agreement_file = models.BinaryField(null=True, blank=True, editable=True)
    agreement_filename = models.CharField(max_length=200, blank=True)
    agreement_type = models.CharField(max_length=100, blank=True)
    transfer_mechanism = models.CharField(max_length=10, choices=Mechanism.choices, default=Mechanism.NONE)
    scc_module = models.PositiveSmallIntegerField(null=True, blank=True)  # 1-4: C2C, C2P, P2P, P2C
    transfer_assessment = models.TextField(blank=True)
    next_review = models.DateField()
    reviewed_on = models.DateField(null=True, blank=True)
    # The day the privacy officers were last told the review is overdue: one mail a day at most.
    review_reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("processor")
        verbose_name_plural = _("processors")
        ordering = ["name"]

    class Privacy:
        not_personal = "The company's processors: firms, what they do and where, and the terms agreed with them."
        not_personal_fields = ("name", "agreement_filename", "agreement_note", "transfer_assessment")

    def __str__(self) -> str:
        return self.name

    def outside_eea(self) -> list[str]:
        """The locations of the processor and its current sub-processors outside the EEA."""
        found = set(self.countries) - EEA
        for sub in self.sub_processors.all():
            if sub.removed_on is None:
                found |= set(sub.countries) - EEA
        return sorted(found)


class SubProcessor(models.Model):
    """A processor's own processor, as the processor announced it."""

    processor = models.ForeignKey(Processor, on_delete=models.CASCADE, related_name="sub_processors")
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=300, blank=True)
    countries = models.JSONField(default=list, blank=True)
    added_on = models.DateField(default=timezone.localdate)
    removed_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("sub-processor")
        verbose_name_plural = _("sub-processors")
        ordering = ["name"]

    class Privacy:
        not_personal = "A processor's sub-processor: a firm, its service and where it works."
        not_personal_fields = ("name",)

    def __str__(self) -> str:
        return self.name


class SubProcessorChange(models.Model):
    """A change of sub-processors a processor announced, with the date by which the company may object."""

    class Kind(models.TextChoices):
        ADDED = "added", _("New sub-processor")
        REMOVED = "removed", _("Sub-processor removed")

    processor = models.ForeignKey(Processor, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=200)
    service = models.CharField(max_length=300, blank=True)
    countries = models.JSONField(default=list, blank=True)
    announced_on = models.DateField()
    objection_deadline = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("change of sub-processors")
        verbose_name_plural = _("changes of sub-processors")
        ordering = ["-announced_on", "-recorded_at"]

    class Privacy:
        not_personal = "A processor's announcement that it adds or drops a sub-processor: firms and dates."
        not_personal_fields = ("name",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class Seeding(models.Model):
    """When the register was first filled from the published declaration (one row at most)."""

    seeded_at = models.DateTimeField(default=timezone.now)
    policy_version = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("start of the processor register")
        verbose_name_plural = _("starts of the processor register")

    class Privacy:
        not_personal = "When the register was started, and from which version of the policy."

    def __str__(self) -> str:
        return f"seeded from version {self.policy_version}"


class ChangeSubscriber(models.Model):
    """Someone who asked to be told by mail of changes of sub-processors: pending until the
    single-use link in the first mail is used (double opt-in), then confirmed.

    The address is encrypted and found by its blind index, as every other address in vern. The
    confirmation token is kept only as a keyed hash, cleared when used; ``manage_hash`` is an
    unkeyed SHA-256 of the token in every notice's unsubscribe link (kept encrypted in
    ``manage_token`` to write the links), so that old links survive a rotation of the index key.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for confirmation")
        CONFIRMED = "confirmed", _("subscribed")
        ENDED = "ended", _("unsubscribed")

    email = EncryptedTextField()
    email_index = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    confirm_hash = models.CharField(max_length=64, blank=True, db_index=True)
    confirm_expires_at = models.DateTimeField()
    manage_hash = models.CharField(max_length=64, unique=True)
    manage_token = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("subscription to changes of sub-processors")
        verbose_name_plural = _("subscriptions to changes of sub-processors")

    class Privacy:
        # Told of changes because the person asked to be (consent), like the newsletter; kept
        # by the newsletter's rule: 30 days after it ended, an unconfirmed one after its link lapsed.
        purpose = "newsletter"
        retention = "newsletter"
        identifiers = {"email": "email_index"}
        clock = "created_at"  # the surface's ``due`` gives the real question (selectors.due_subscribers)
        erasure = "delete"
        bases = ("a",)
        export = ("email", "language", "status", "created_at", "confirmed_at", "ended_at")

    def __str__(self) -> str:
        return f"subscription to changes #{self.pk} ({self.status})"
