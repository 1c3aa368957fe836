"""What the dashboard, the stats API and the weekly email report read: one ``Board`` per period.

The weekly report goes each Monday (or at the worker's first run after it) to every staff member
who asked for it (``ReportRecipient``) and may still read statistics, in that staff member's
language, through the outbox (mail kind ``analytics_report``). It covers the last full week,
Monday to Sunday (Europe/Oslo), against the week before, and says so at the top when a figure
moved **sharply**:

- visitors: up or down by ``TRAFFIC_CHANGE`` (50 %) or more, when the busier of the two weeks
  had at least ``TRAFFIC_FLOOR`` (100) visitors, so that 2 → 4 visitors is no alarm;
- consent rate (decisions that allowed any optional cookie): up or down by ``CONSENT_POINTS``
  (15 percentage points) or more, when both weeks had at least ``CONSENT_FLOOR`` (50) decisions.

A staff member gets a week once: the week's Monday is kept on their row (``last_week``), so a
rerun or a second worker sends nothing more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from vern.accounts.roles import Capability
from vern.analytics import goals, selectors
from vern.analytics.goals import GoalResult, SourceConversion
from vern.analytics.reading_models import ReportRecipient
from vern.analytics.selectors import Period
from vern.lib.days import local_day
from vern.mail import emails
from vern.registry import surface
from vern.registry.surface import ConsentStatistics

TRAFFIC_CHANGE = 50.0  # percent
TRAFFIC_FLOOR = 100  # visitors in the busier week
CONSENT_POINTS = 15.0  # percentage points
CONSENT_FLOOR = 50  # decisions in each week


@dataclass(frozen=True)
class Board:
    dashboard: selectors.Dashboard
    goals: list[GoalResult]
    by_source: list[SourceConversion]
    consent: ConsentStatistics | None
    previous_consent: ConsentStatistics | None
    rates: list[SourceConversion] = field(default_factory=list)  # conversion rates from the cube


def board(period: Period, filters: Mapping[str, str] | None = None) -> Board:
    """The dashboard's figures; ``filters`` narrow the totals, breakdowns and conversion rates to
    the visits whose entry hit has those values (not the goals' totals nor the cookie choices)."""
    previous = period.previous()
    return Board(
        dashboard=selectors.dashboard(period, filters=filters),
        rates=goals.conversion_rates(period, filters),
        goals=goals.results(period),
        by_source=goals.by_source(period),
        consent=surface.consent_statistics(period.start, period.end),
        previous_consent=surface.consent_statistics(previous.start, previous.end),
    )


@dataclass(frozen=True)
class Alert:
    kind: str  # "traffic" or "consent"
    now: float
    before: float
    change: float  # percent (traffic) or percentage points (consent)


def alerts(found: Board) -> list[Alert]:
    """The figures that moved sharply (see the module's docstring for what that means)."""
    raised = []
    now, before = found.dashboard.totals.visitors, found.dashboard.previous_totals.visitors
    if max(now, before) >= TRAFFIC_FLOOR:
        change = 100 * (now - before) / before if before else 100.0
        if abs(change) >= TRAFFIC_CHANGE:
            raised.append(Alert("traffic", now, before, change))
    consent, earlier = found.consent, found.previous_consent
    if (
        consent is not None
        and earlier is not None
        and consent.decisions >= CONSENT_FLOOR
        and earlier.decisions >= CONSENT_FLOOR
        and consent.rate is not None
        and earlier.rate is not None
        and abs(consent.rate - earlier.rate) >= CONSENT_POINTS
    ):
        raised.append(Alert("consent", consent.rate, earlier.rate, consent.rate - earlier.rate))
    return raised


def last_full_week(today: dt.date) -> Period:
    """Monday to Sunday of the week before the one ``today`` is in."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return Period(monday, monday + dt.timedelta(days=6))


def _number(value: float, digits: int = 0) -> str:
    return formats.number_format(value, digits, force_grouping=True)


def _change(now: float, before: float) -> str:
    if not before:
        return ""
    change = 100 * (now - before) / before
    return ("+" if change > 0 else "") + _number(change) + " %"


def _alert_text(alert: Alert) -> str:
    if alert.kind == "traffic":
        return _("Visitors moved sharply: %(now)s this week against %(before)s the week before (%(change)s).") % {
            "now": _number(alert.now),
            "before": _number(alert.before),
            "change": ("+" if alert.change > 0 else "") + _number(alert.change) + " %",
        }
    return _(
        "The share of visitors who accept optional cookies moved sharply: %(now)s %% this week against "
        "%(before)s %% the week before (%(change)s percentage points)."
    ) % {
        "now": _number(alert.now, 1),
        "before": _number(alert.before, 1),
        "change": ("+" if alert.change > 0 else "") + _number(alert.change, 1),
    }


def _line(label: str, value: str, note: str = "") -> str:
    return f"{label}: {value}" + (f" ({note})" if note else "")


def report_context(found: Board, *, name: str, link: str) -> dict[str, object]:
    """The weekly report's figures as lines of text, in the active language (the recipient's)."""
    period, totals, before = found.dashboard.period, found.dashboard.totals, found.dashboard.previous_totals
    rows = [
        _line(_("Visitors"), _number(totals.visitors), _change(totals.visitors, before.visitors)),
        _line(_("Visits"), _number(totals.visits), _change(totals.visits, before.visits)),
        _line(_("Page views"), _number(totals.pageviews), _change(totals.pageviews, before.pageviews)),
    ]
    consent = found.consent
    if consent is not None and consent.rate is not None:
        rows.append(_line(_("Accepted optional cookies"), _number(consent.rate, 1) + " %"))
    pages = found.dashboard.top.get(str(selectors.Dimension.PAGE))
    return {
        "name": name,
        "start": formats.date_format(period.start, "DATE_FORMAT"),
        "end": formats.date_format(period.end, "DATE_FORMAT"),
        "alerts": [_alert_text(alert) for alert in alerts(found)],
        "rows": rows,
        "pages": [_line(row.value, _number(row.pageviews)) for row in (pages.rows[:5] if pages else [])],
        "goals": [
            _line(r.goal.name, _number(r.conversions), "" if r.rate is None else _number(r.rate, 1) + " %")
            for r in found.goals
        ],
        "link": link,
    }


def send_weekly_reports(now: dt.datetime | None = None) -> int:
    """Queue last week's report for every recipient who has not had it; returns how many were queued."""
    now = now or timezone.now()
    week = last_full_week(local_day(now))
    found = None
    sent = 0
    link = f"{_site()}{reverse('analytics_staff:dashboard')}?range=custom&start={week.start}&end={week.end}"
    for recipient in ReportRecipient.objects.select_related("user").exclude(last_week=week.start).order_by("pk"):
        user = recipient.user
        if not user.is_active or not user.can(Capability.READ_ANALYTICS):
            continue
        found = found or board(week)
        with transaction.atomic():
            claimed = (
                ReportRecipient.objects.filter(pk=recipient.pk)
                .exclude(last_week=week.start)
                .update(last_week=week.start)
            )
            if not claimed:  # another worker sent it meanwhile
                continue
            with translation.override(user.language):
                context = report_context(found, name=user.name or "", link=link)
            emails.analytics_report(to=user.email, language=user.language, context=context)
        sent += 1
    return sent


def _site() -> str:
    return str(settings.VERN_PUBLIC_URL)
