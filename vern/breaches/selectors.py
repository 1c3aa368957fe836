"""Reads of the security registers that pages, exports and the rest of vern share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from vern.accounts.roles import Capability
from vern.breaches.models import Breach, RegisterReview, Risk, Screening
from vern.registry.surface import RecordSection, Tile


@dataclass(frozen=True)
class Clock:
    """The 72-hour clock of one breach, as the pages show it."""

    deadline: dt.datetime
    hours_left: int  # whole hours until the deadline; negative once it has passed
    state: str  # "running", "late" (72 hours past, undecided), "decided", "closed"

    @property
    def hours_over(self) -> int:
        return -self.hours_left


def clock_of(breach: Breach, now: dt.datetime | None = None) -> Clock:
    now = now or timezone.now()
    seconds = (breach.deadline - now).total_seconds()
    hours = int(seconds // 3600) if seconds >= 0 else -int(-seconds // 3600)
    if not breach.is_open:
        state = "closed"
    elif not breach.undecided:
        state = "decided"
    else:
        state = "running" if seconds > 0 else "late"
    return Clock(deadline=breach.deadline, hours_left=hours, state=state)


def breaches() -> QuerySet[Breach]:
    return Breach.objects.order_by("status", "-aware_at")


def undecided_count() -> int:
    return Breach.objects.filter(status=Breach.Status.OPEN, authority_decision=Breach.Decision.UNDECIDED).count()


def risks() -> QuerySet[Risk]:
    return Risk.objects.select_related("owner").order_by("next_review", "pk")


def reviews_due_count(today: dt.date | None = None) -> int:
    return Risk.objects.filter(next_review__lte=today or timezone.localdate()).count()


def last_review() -> RegisterReview | None:
    return RegisterReview.objects.select_related("reviewed_by").first()


def last_risk_review() -> dt.date | None:
    """The date of the last review of the whole risk register (the Surface's ``last_risk_review``)."""
    review = RegisterReview.objects.values_list("reviewed_at", flat=True).first()
    return timezone.localdate(review) if review else None


def latest_screenings() -> dict[str, Screening]:
    """The latest screening of each purpose, by purpose id."""
    latest: dict[str, Screening] = {}
    for screening in Screening.objects.select_related("screened_by"):
        latest.setdefault(screening.purpose, screening)
    return latest


def level(score: int) -> str:
    """A score of likelihood × impact (1-25) as low, medium or high."""
    return "high" if score >= 15 else "medium" if score >= 6 else "low"


def console_tiles(user: Any) -> list[Tile]:
    if not user.can(Capability.READ_SECURITY_REGISTERS):
        return []
    undecided = undecided_count()
    due = reviews_due_count()
    return [
        Tile(
            _("Breaches"),
            _("Personal-data breaches on their 72-hour clock, decisions and reports to Datatilsynet."),
            reverse("breaches_staff:list"),
            undecided,
            alert=bool(undecided),
        ),
        Tile(
            _("Risks"),
            _("The risk register, its reviews, and the DPIA screening of each purpose."),
            reverse("risks_staff:list"),
            due,
            alert=bool(due),
        ),
    ]


def record_sections(language: str) -> list[RecordSection]:
    """The breach register and the risk register for the record of processing (``vern ropa``)."""
    from vern.breaches.export import purpose_names

    names = purpose_names(language)
    with translation.override(language):
        breach_rows = tuple(
            {
                "reference": b.reference,
                "summary": b.title,
                "aware_at": timezone.localtime(b.aware_at).isoformat(timespec="minutes"),
                "people": "" if b.people_approx is None else str(b.people_approx),
                "authority": str(b.get_authority_decision_display()),
                "status": str(b.get_status_display()),
            }
            for b in Breach.objects.order_by("aware_at", "pk")
        )
        risk_rows = tuple(
            {
                "reference": f"R-{r.pk:04d}",
                "asset": r.asset or names.get(r.purpose, r.purpose),
                "threat": r.threat,
                "residual": str(r.residual_score),
                "owner": r.owner.name,
                "next_review": r.next_review.isoformat(),
            }
            for r in risks()
        )
        return [
            RecordSection(
                key="breaches",
                title=_("Personal-data breaches (Art. 33(5))"),
                columns=(
                    ("reference", _("Reference")),
                    ("summary", _("Summary of the breach")),
                    ("aware_at", _("When we became aware of it")),
                    ("people", _("Approximate number of people concerned")),
                    ("authority", _("Datatilsynet notified")),
                    ("status", _("Status")),
                ),
                rows=breach_rows,
            ),
            RecordSection(
                key="risks",
                title=_("Risk register (Art. 32)"),
                columns=(
                    ("reference", _("Reference")),
                    ("asset", _("Asset or processing")),
                    ("threat", _("Threat")),
                    ("residual", _("Residual risk")),
                    ("owner", _("Owner")),
                    ("next_review", _("Next review")),
                ),
                rows=risk_rows,
            ),
        ]
