"""What the retention page and command show: the plan per rule, the runs, the holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.declaration.durations import Duration
from vern.declaration.selectors import localise, published_declaration
from vern.jobs.models import Schedule
from vern.registry.surface import Tile
from vern.retention import engine
from vern.retention.models import Hold, Run

SWEEP_JOB = "retention.sweep"


@dataclass(frozen=True)
class PlanRow:
    label: str
    rule_id: str
    rule_name: str
    period: str  # "24 months", or "" when the rule is until an event
    until: str
    due: int
    held: int
    waiting: int
    oldest: dt.datetime | None


def plan_rows(language: str = "en", now: dt.datetime | None = None) -> list[PlanRow]:
    declaration = published_declaration()
    if declaration is None:
        return []
    rows = []
    for item in engine.plan(declaration, now or timezone.now()):
        rule = item.compiled.rule
        rows.append(
            PlanRow(
                label=item.compiled.label,
                rule_id=rule.id,
                rule_name=localise(rule.name, language),
                period=Duration.parse(rule.period).text(language) if rule.period else "",
                until=localise(rule.until, language) if rule.until else "",
                due=item.due,
                held=item.held,
                waiting=item.waiting,
                oldest=item.oldest,
            )
        )
    return rows


def last_runs(limit: int = 10) -> list[Run]:
    return list(Run.objects.order_by("-started_at")[:limit])


def next_run() -> dt.datetime | None:
    return Schedule.objects.filter(name=SWEEP_JOB).values_list("next_run_at", flat=True).first()


def active_holds(now: dt.datetime | None = None) -> QuerySet[Hold]:
    now = now or timezone.now()
    return (
        Hold.objects.filter(released_at__isnull=True, ends_at__gt=now).select_related("created_by").order_by("ends_at")
    )


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.MANAGE_RETENTION):
        return []
    failed = Run.objects.order_by("-started_at").values_list("status", flat=True).first() == Run.Status.FAILED
    return [
        Tile(
            _("Retention"),
            _("What is due for deletion, the last sweeps, and legal holds."),
            reverse("retention_staff:overview"),
            active_holds().count(),
            alert=failed,
        )
    ]


def person_on_hold(keys: Mapping[str, Sequence[str]]) -> bool:
    """The registry's erasure check: an active legal hold on any of the person's email or phone
    indexes (a hold placed under the old index key counts while a rotation is under way)."""
    candidates = [key for kind, forms in keys.items() if kind in ("email", "phone") for key in forms if key]
    now = timezone.now()
    return (
        bool(candidates)
        and Hold.objects.filter(subject_key__in=candidates, released_at__isnull=True, ends_at__gt=now).exists()
    )
