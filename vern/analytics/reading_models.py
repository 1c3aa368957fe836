"""What staff define and ask for to read the statistics: goals, conversions counted, API tokens, report subscriptions.

Kept apart from the capture's tables (``models.py``): none of these is written per hit.

- ``Goal``: what staff call a conversion (a server event, a page-view path pattern).
- ``GoalCount``: how often a server event happened per day, with the source and entry page of
  the visit it happened in; counts only, no visitor hash or address (anonymous, kept).
- ``StatsToken``: a staff member's token for the read-only stats API, stored as a keyed digest.
- ``ReportRecipient``: a staff member who asked for the weekly email report.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.accounts.models import User


class Goal(models.Model):
    class Kind(models.TextChoices):
        SERVER = "server", _("Something vern records (a form sent, a subscription confirmed)")
        PAGE = "page", _("A visit to a page")
        EVENT = "event", _("A click on an element marked data-vern-goal")

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # SERVER: an event's key (``vern.registry.surface.goal_events``); PAGE: a path pattern, ``*`` for any text;
    # EVENT: the name a data-vern-goal attribute gives (``schemas.GOAL_PATTERN``), as the beacon sends it.
    match = models.CharField(_("what counts"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["name"]

    class Privacy:
        not_personal = "A goal's name and what counts as reaching it; staff configuration."
        not_personal_fields = ("name",)  # what staff call the goal ("Demo booked"), not a person's name

    def __str__(self) -> str:
        return self.name


class GoalCount(models.Model):
    """How many times a server event happened on a day, per source and entry page of the visit."""

    day = models.DateField()
    event = models.CharField(max_length=40)
    source = models.CharField(max_length=253, blank=True)  # the referrer host of the visit; "" direct or unknown
    entry = models.CharField(max_length=512, blank=True)  # the visit's first page; "" when no visit was seen
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("goal reached, count")
        verbose_name_plural = _("goals reached, counts")
        constraints = [models.UniqueConstraint(fields=["day", "event", "source", "entry"], name="goalcount_unique")]

    class Privacy:
        not_personal = "Counts per day, event, referring site and entry page; no address or hash."

    def __str__(self) -> str:
        return f"{self.day} {self.event} {self.count}"


class StatsToken(models.Model):
    """A token for ``GET /api/analytics/stats``: only its keyed digest is kept; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="stats_tokens")
    name = models.CharField(_("name"), max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)  # the first characters, so that staff can tell tokens apart
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("statistics API token")
        verbose_name_plural = _("statistics API tokens")
        ordering = ["-created_at", "-pk"]

    class Privacy:
        staff_data = "Which staff member made a statistics API token, its name and when it was used."

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}"


class ReportRecipient(models.Model):
    """A staff member who gets the weekly statistics report by email (opt-in)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="analytics_report")
    created_at = models.DateTimeField(default=timezone.now)
    last_week = models.DateField(null=True, blank=True)  # the Monday of the last week reported, so a rerun sends none

    class Meta:
        verbose_name = _("weekly report recipient")
        verbose_name_plural = _("weekly report recipients")

    class Privacy:
        staff_data = "Which staff members asked for the weekly statistics report."

    def __str__(self) -> str:
        return str(self.user)
