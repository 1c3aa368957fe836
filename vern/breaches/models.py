"""The security registers: breaches (Art. 33-34), risks (ISO/IEC 27001 style), reviews and DPIA screenings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEADLINE = dt.timedelta(hours=72)  # Art. 33(1): notify the authority within 72 hours of becoming aware


class Breach(models.Model):
    """A personal-data breach as staff describe it: what, when, how many, and what was decided.

    It never names the people affected: only counts and kinds of data. The notice to them is
    mailed through the outbox, and only how many were sent, and when, stays here."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    class Decision(models.TextChoices):
        UNDECIDED = "undecided", _("Not decided yet")
        NOTIFY = "notify", _("Yes, to be notified")
        NOT_NOTIFY = "not_notify", _("No, not to be notified")

    title = models.CharField(max_length=200)
    aware_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    discovered_how = models.TextField(blank=True)
    nature = models.JSONField(default=list, blank=True)  # "confidentiality", "integrity", "availability"
    cause = models.TextField(blank=True)
    description = models.TextField(blank=True)
    categories = models.JSONField(default=list, blank=True)  # ids of the declaration's data categories
    special_categories = models.BooleanField(default=False)  # Art. 9 or 10 data involved
    data_subjects = models.JSONField(default=list, blank=True)  # ids of the declaration's kinds of data subjects
    people_approx = models.PositiveIntegerField(null=True, blank=True)
    records_approx = models.PositiveIntegerField(null=True, blank=True)
    data_location = models.TextField(blank=True)  # where the data are now, after the breach
    consequences = models.TextField(blank=True)
    measures_taken = models.TextField(blank=True)
    measures_planned = models.TextField(blank=True)
    advice = models.TextField(blank=True)  # what the people affected can do themselves (Art. 34)

    authority_decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.UNDECIDED)
    people_decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.UNDECIDED)
    decision_reasons = models.TextField(blank=True)
    delay_reason = models.TextField(blank=True)  # Art. 33(1): why the authority hears of it after 72 hours
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    notice_count = models.PositiveIntegerField(default=0)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("personal-data breach")
        verbose_name_plural = _("personal-data breaches")
        ordering = ["-aware_at"]

    class Privacy:
        staff_data = "A breach as staff describe it: counts and kinds of data, never who was affected."

    def __str__(self) -> str:
        return f"breach #{self.pk}"

    @property
    def reference(self) -> str:
        return f"B-{self.pk:04d}" if self.pk else "B-new"

    @property
    def deadline(self) -> dt.datetime:
        return self.aware_at + DEADLINE

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def undecided(self) -> bool:
        return self.authority_decision == self.Decision.UNDECIDED


class Report(models.Model):
    """One report to Datatilsynet: the first, a follow-up, or the final one (Art. 33(4) allows stages)."""

    class Stage(models.TextChoices):
        INITIAL = "initial", _("Initial report")
        FOLLOW_UP = "follow_up", _("Follow-up report")
        FINAL = "final", _("Final report")

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="reports")
    stage = models.CharField(max_length=10, choices=Stage.choices)
    submitted_at = models.DateTimeField()
    reference = models.CharField(max_length=100, blank=True)  # Datatilsynet's or Altinn's case number
    note = models.TextField(blank=True)
    snapshot = models.JSONField(default=dict)  # the export as it was when this report was sent
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("report to the authority")
        verbose_name_plural = _("reports to the authority")
        ordering = ["submitted_at", "pk"]

    class Privacy:
        staff_data = "What staff reported to the data protection authority about a breach; no one affected is named."

    def __str__(self) -> str:
        return f"report #{self.pk}"


class Reminder(models.Model):
    """A reminder that went out, by key ("breach:7:48h", "risk:3:2027-01-31"): the key is unique, so each
    reminder is sent once however often, and however many workers at once, the job runs."""

    key = models.CharField(max_length=100, unique=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")

    class Privacy:
        not_personal = "Which reminder about a breach or a risk went out, and when."
        not_personal_fields = ("key",)

    def __str__(self) -> str:
        return self.key


LEVELS = [MinValueValidator(1), MaxValueValidator(5)]


class Risk(models.Model):
    """One risk to an asset or a processing (ISO/IEC 27001 style): before and after the measures."""

    asset = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=64, blank=True)  # a purpose id of the declaration
    threat = models.TextField()
    likelihood = models.PositiveSmallIntegerField(validators=LEVELS)
    impact = models.PositiveSmallIntegerField(validators=LEVELS)
    measures = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    residual_likelihood = models.PositiveSmallIntegerField(validators=LEVELS)
    residual_impact = models.PositiveSmallIntegerField(validators=LEVELS)
    next_review = models.DateField()
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["next_review", "pk"]

    class Privacy:
        staff_data = "A risk to the company's systems or processing, and the staff member who owns it."

    def __str__(self) -> str:
        return f"risk #{self.pk}"

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact


class RegisterReview(models.Model):
    """A review of the whole risk register (at least once a year): who, when, and what they noted."""

    reviewed_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField()
    risks = models.PositiveIntegerField(default=0)  # how many risks the register held then

    class Meta:
        verbose_name = _("review of the risk register")
        verbose_name_plural = _("reviews of the risk register")
        ordering = ["-reviewed_at", "-pk"]

    class Privacy:
        staff_data = "When a staff member reviewed the whole risk register, and their note."

    def __str__(self) -> str:
        return f"register review #{self.pk}"


class Screening(models.Model):
    """Whether one purpose of the declaration needs a data protection impact assessment (Art. 35),
    against Datatilsynet's list and the EDPB's nine criteria (``vern.breaches.dpia``)."""

    class Outcome(models.TextChoices):
        REQUIRED = "required", _("Impact assessment required")
        NOT_REQUIRED = "not_required", _("No impact assessment required")

    purpose = models.CharField(max_length=64)
    list_items = models.JSONField(default=list)  # codes of Datatilsynet's list that apply
    criteria = models.JSONField(default=list)  # codes of the EDPB criteria that apply
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    reasons = models.TextField()
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    screened_at = models.DateTimeField(default=timezone.now)
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("DPIA screening")
        verbose_name_plural = _("DPIA screenings")
        ordering = ["-screened_at", "-pk"]

    class Privacy:
        staff_data = "A staff member's screening of a declared purpose for an impact assessment."

    def __str__(self) -> str:
        return f"screening #{self.pk} of {self.purpose}"
