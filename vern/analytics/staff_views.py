"""The analytics dashboard for sales and the privacy officer, and its CSV export.

Everything shown here is anonymous totals (``DailyStat``, ``HourlyStat``, ``Dropped``):
no person can be picked out, so looking is not written to the audit log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.analytics import chart, goals, reading_services, reports, selectors
from vern.analytics.forms import FILTER_PARAMETER, PRESETS, RangeForm, chosen_filters, chosen_period
from vern.analytics.reading_forms import GoalForm, TokenForm
from vern.analytics.reading_models import Goal, ReportRecipient, StatsToken
from vern.analytics.selectors import Period
from vern.analytics.services import Today, analytics_refresh_today
from vern.lib import csvsafe
from vern.lib.days import local_day
from vern.registry import surface
from vern.registry.surface import ConsentStatistics


def _page(
    request: HttpRequest,
    form: RangeForm,
    period: Period,
    preset: str,
    refused: bool,
    status: int = 200,
    filters: dict[str, str] | None = None,
    filter_errors: list[str] | None = None,
) -> HttpResponse:
    now = timezone.now()
    today = local_day(now)
    # Today's visits from the first one on, not after the hourly job; on a large day the worker
    # works them out in a moment, and the page says how old today's figures are meanwhile.
    refreshing = period.end >= today and analytics_refresh_today() is Today.QUEUED
    filters = filters or {}
    found = reports.board(period, filters)
    board = found.dashboard
    days = board.days
    if filters:
        # Distinct visitors do not add up across the cube's rows: the line shows visits instead.
        days = [dataclasses.replace(day, visitors=day.visits) for day in days]
    one_day = period.days == 1
    # A single day is drawn by the hour; the hourly totals keep no entry values, so not under a filter,
    # and not for a day counted before they were kept.
    hourly = selectors.shown_by_hour(period, filters)
    day_hours = selectors.day_hours(period.start) if hourly else []
    hour = now.replace(minute=0, second=0, microsecond=0)
    context = {
        "hours": []
        if one_day
        else selectors.hourly_series(hour - dt.timedelta(hours=23), hour + dt.timedelta(hours=1)),
        "one_day": one_day,
        "hourly": hourly,
        "is_today": one_day and period.start == today,
        "today_worked_out_at": selectors.worked_out_at(today) if refreshing else None,
        # Beside today so far, yesterday by the same hour (all visits: not under a filter).
        "so_far": selectors.yesterday_so_far(now) if one_day and period.start == today and not filters else None,
        # Today's hours still to come are not listed: a 0 there would be a guess, not a count.
        "day_hours": [h for h in day_hours if h.hour <= now],
        "unfiltered_query": f"?range=custom&start={period.start}&end={period.end}",
        "rates": found.rates,
        "filter_chips": _chips(filters),
        "filter_errors": filter_errors or [],
        "filter_query": _filter_query(filters),
        "filterable": list(selectors.FILTERS),
        "filter_keys": list(filters),
        "board": board,
        "goals": found.goals,
        "by_source": found.by_source,
        "consent": found.consent,
        "previous_consent": found.previous_consent,
        "export_views": _export_labels(),
        "consent_tables": _consent_tables(found.consent),
        "right_now": selectors.right_now(),
        "chart": chart.build(day_hours, now=now) if hourly else chart.build(days),
        "form": form,
        "preset": preset if not refused else "",
        "presets": list(PRESETS.items()),
        "refused": refused,
        # Translators: how a day is written under the chart, in Django's date format ("12. mai" in Bokmål).
        "axis_format": _("M j"),
    }
    return render(request, "analytics/staff_dashboard.html", context, status=status)


@staff_view(Capability.READ_ANALYTICS)
@require_http_methods(["GET", "HEAD"])
def dashboard(request: HttpRequest) -> HttpResponse:
    form, period, preset, refused = chosen_period(request.GET)
    filters, errors = chosen_filters(request.GET)
    return _page(
        request, form, period, preset, refused, status=400 if errors else 200, filters=filters, filter_errors=errors
    )


def _filter_query(filters: dict[str, str]) -> str:
    """The filters as a query string to append (``&filter=…``), so that links keep them."""
    return "".join(f"&{urlencode({FILTER_PARAMETER: f'{name}:{value}'})}" for name, value in filters.items())


def _chips(filters: dict[str, str]) -> list[dict[str, str]]:
    """One removable chip per filter: its label, its value in words and the query without it."""
    return [
        {
            "dimension": name,
            "label": str(selectors.Dimension(name).label),
            "value": value,
            "without": _filter_query({k: v for k, v in filters.items() if k != name}),
        }
        for name, value in filters.items()
    ]


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


HOURS_VIEW = "hours"


def export_views() -> list[str]:
    """What the CSV export can give besides every daily total: the hours, each breakdown, the goals,
    the consent figures."""
    return [
        HOURS_VIEW,
        *(str(dimension) for dimension in selectors.TOP_DIMENSIONS),
        "goals",
        "conversions",
        "rates",
        "consent",
    ]


def _view_rows(
    period: Period, view: str, filters: dict[str, str] | None = None
) -> tuple[tuple[str, ...], Iterator[tuple[object, ...]]]:
    """The header and rows of one view of the dashboard, over the whole period (not only the top ten);
    a breakdown or the conversion rates under ``filters`` come from the cube (no visitor column)."""
    if view == HOURS_VIEW:
        # Each hour in Norwegian time with its offset, so that the two 02:00 of the autumn night differ.
        hours = selectors.period_hours(period, timezone.now())
        return ("hour", "visitors", "visits", "pageviews"), iter(
            (h.local.isoformat(), h.visitors, h.visits, h.pageviews) for h in hours
        )
    if view == "rates":
        found = goals.conversion_rates(period, filters, limit=None)
        return ("goal", "dimension", "value", "conversions", "visits", "rate"), iter(
            (r.goal, r.dimension, r.value, r.conversions, r.visits, _rounded(r.rate)) for r in found
        )
    if filters and view in selectors.BREAKDOWNS:
        counts = selectors.COUNTS[1:]
        found_rows = selectors.breakdown(view, period.start, period.end, filters, limit=1_000_000)
        return ("value", *counts), iter((r.value, *(getattr(r, n) for n in counts)) for r in found_rows)
    if view == "goals":
        results = goals.results(period)
        return ("goal", "kind", "match", "conversions", "rate", "previous"), iter(
            (r.goal.name, r.goal.kind, r.goal.match, r.conversions, _rounded(r.rate), r.previous) for r in results
        )
    if view == "conversions":
        rows = goals.by_source(period, limit=10_000)
        return ("goal", "dimension", "value", "conversions", "visits", "rate"), iter(
            (r.goal, r.dimension, r.value, r.conversions, r.visits, _rounded(r.rate)) for r in rows
        )
    if view == "consent":
        stats = surface.consent_statistics(period.start, period.end)
        parts = (
            []
            if stats is None
            else [("category", stats.by_category), ("revision", stats.by_revision), ("language", stats.by_language)]
        )
        return ("dimension", "value", "decisions", "accepted", "rate"), iter(
            (name, r.value, r.decisions, r.accepted, _rounded(r.rate)) for name, rates in parts for r in rates
        )
    top = selectors.top_values(period, view, limit=1_000_000)
    return ("value", *selectors.COUNTS), iter((r.value, *(getattr(r, n) for n in selectors.COUNTS)) for r in top)


def _hours_unfiltered() -> str:
    return _("The totals per hour cannot be filtered: they keep no entry values. Download them without filters.")


def _export_labels() -> list[tuple[str, str]]:
    labels = {str(d): str(d.label) for d in selectors.Dimension}
    labels.update(
        hours=_("Visitors and page views per hour"),
        # The breakdown of data-vern-goal names, titled as on the dashboard: "Goals" is the next one.
        goal=_("Goal clicks"),
        goals=_("Goals"),
        conversions=_("Conversions by source"),
        rates=_("Conversion rates by source and campaign"),
        consent=_("Cookie choices"),
    )
    return [(view, labels[view]) for view in export_views()]


def _consent_tables(stats: ConsentStatistics | None) -> list[tuple[str, object, str]]:
    if stats is None:
        return []
    return [
        (_("Category"), stats.by_category, "category"),
        (_("Banner revision"), stats.by_revision, "revision"),
        (_("Language"), stats.by_language, "language"),
    ]


def _rounded(value: float | None) -> object:
    return "" if value is None else round(value, 2)


def _lines(period: Period, view: str = "", filters: dict[str, str] | None = None) -> Iterator[str]:
    writer = csvsafe.writer(_Echo())
    if view:
        header, rows = _view_rows(period, view, filters)
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)
        return
    yield writer.writerow(selectors.EXPORT_COLUMNS)
    for row in selectors.export_rows(period):
        yield writer.writerow(row)


@staff_view(Capability.READ_ANALYTICS, reauth=True)
@require_http_methods(["GET", "HEAD"])
def export(request: HttpRequest) -> HttpResponseBase:
    form, period, preset, refused = chosen_period(request.GET)
    if refused:
        # A hand-made link with a bad range: say why on the page rather than export something else.
        return _page(request, form, period, preset, refused, status=400)
    filters, errors = chosen_filters(request.GET)
    if errors:
        return _page(request, form, period, preset, refused, status=400, filter_errors=errors)
    view = request.GET.get("view", "")
    if view and view not in export_views():
        view = ""  # a hand-made link naming no view: every daily total, as without one
    if view == HOURS_VIEW and filters:
        # Refused rather than given unfiltered: a file named for a filter must hold only those visits.
        return _page(request, form, period, preset, refused, status=400, filter_errors=[_hours_unfiltered()])
    response = StreamingHttpResponse(_lines(period, view, filters), content_type="text/csv; charset=utf-8")
    name = f"analytics-{view + '-' if view else ''}{period.start}-to-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _settings_page(
    request: HttpRequest,
    *,
    goal_form: GoalForm | None = None,
    token_form: TokenForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = {
        "goals": Goal.objects.all(),
        "events": {key: str(label) for key, label in surface.goal_events().items()},
        "goal_form": goal_form or GoalForm(),
        "token_form": token_form or TokenForm(),
        "tokens": StatsToken.objects.filter(user=user),
        "new_token": new_token,
        "reported": ReportRecipient.objects.filter(user=user).exists(),
        "stats_url": request.build_absolute_uri(reverse("analytics_api:stats")),
    }
    response = render(request, "analytics/staff_settings.html", context, status=status)
    if new_token:
        patch_cache_control(response, private=True, no_store=True)  # shown once: never kept by a cache
    return response


@staff_view(Capability.READ_ANALYTICS)
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Goals, the staff member's statistics API tokens and the weekly report, each a small form posting here."""
    if request.method != "POST":
        return _settings_page(request)
    user = request.user
    assert isinstance(user, User)
    action = request.POST.get("action", "")
    if action == "goal_add":
        form = GoalForm(request.POST)
        if not form.is_valid():
            return _settings_page(request, goal_form=form, status=400)
        data = form.cleaned_data
        reading_services.goal_create(actor=user, name=data["name"], kind=data["kind"], match=data["match"])
        messages.success(request, _("The goal was added."))
    elif action == "goal_delete":
        goal = Goal.objects.filter(pk=_id(request.POST.get("goal"))).first()
        if goal is None:
            raise Http404
        reading_services.goal_delete(actor=user, goal=goal)
        messages.success(request, _("The goal was removed. What was counted for it stays in the totals."))
    elif action == "token_create":
        token_form = TokenForm(request.POST)
        if not token_form.is_valid():
            return _settings_page(request, token_form=token_form, status=400)
        _row, token = reading_services.stats_token_create(actor=user, name=token_form.cleaned_data["name"].strip())
        return _settings_page(request, new_token=token)
    elif action == "token_revoke":
        row = StatsToken.objects.filter(pk=_id(request.POST.get("token")), user=user).first()
        if row is None:  # another staff member's token, or none: the same answer
            raise Http404
        reading_services.stats_token_revoke(actor=user, token=row)
        messages.success(request, _("The token was revoked. Programs that use it get no more statistics."))
    elif action in ("report_on", "report_off"):
        reading_services.report_subscribe(actor=user, on=action == "report_on")
        messages.success(
            request,
            _("You will get the weekly report each Monday.")
            if action == "report_on"
            else _("You will get no more weekly reports."),
        )
    else:
        return _settings_page(request, status=400)
    return redirect("analytics_staff:settings")


def _id(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 12 else 0
