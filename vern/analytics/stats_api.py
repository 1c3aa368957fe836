"""``GET /api/analytics/stats``: the dashboard's figures as JSON, for a staff member's token.

Read-only and scoped: a token made in the console (``Statistics settings``) reads this endpoint
and nothing else; no other view looks at the ``Authorization`` header. A missing, malformed or
unknown token is answered 401 with ``WWW-Authenticate: Bearer``; a revoked one, or one whose
staff member was deactivated or may no longer read statistics, 403. Only anonymous daily and hourly
totals are returned, as on the dashboard, so a call is not written to the audit log; the token's last
use is kept. Tokens are stored as their SHA-256 (they are 32 random bytes) and shown once.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vern.accounts.roles import Capability
from vern.analytics import reports, selectors
from vern.analytics.forms import FILTER_PARAMETER, PRESETS, chosen_filters, preset_period
from vern.analytics.reading_models import Goal, StatsToken
from vern.analytics.reading_services import token_digest
from vern.analytics.selectors import LONGEST_PERIOD, Period
from vern.analytics.services import Today, analytics_refresh_today
from vern.lib.days import OSLO, local_day
from vern.lib.openapi import Answer, OneOf, Operation, documented

DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
BEARER = re.compile(r"Bearer (vst_[A-Za-z0-9_-]{43})")


class StatsQuery(BaseModel):
    model_config = ConfigDict(
        strict=True,
        use_attribute_docstrings=True,
        json_schema_extra={"examples": [{"start": "2026-11-01", "end": "2026-11-30"}, {"range": "today"}]},
    )

    range: Annotated[str, OneOf(*PRESETS)] | None = None
    """A period as the dashboard offers it, instead of ``start`` and ``end``: ``today``, ``yesterday``, ``7d`` and
    ``30d`` (the last 7 or 30 days, today included), ``month`` (this month so far), ``last-month``. Days are
    Europe/Oslo's."""
    start: Annotated[str, Field(pattern=DAY, max_length=10)] | None = None
    """The first day (Europe/Oslo), year-month-day; with ``end``. Without both: the last 30 days."""
    end: Annotated[str, Field(pattern=DAY, max_length=10)] | None = None
    """The last day, included; not after today."""
    filter: Annotated[list[Annotated[str, Field(max_length=700)]], Field(max_length=20)] | None = None
    """Repeatable, ``dimension:value`` (``country:NO``, ``channel:search``, ``utm_campaign:spring``): only the
    visits whose first page view had every one of these values. Dimensions: ``entry``, ``referrer``,
    ``browser``, ``os``, ``device``, ``channel``, ``utm_source``, ``utm_medium``, ``utm_campaign``, ``country``.
    Under a filter no visitor figure is given (``null``): distinct visitors cannot be added up from the
    totals per entry."""


class PeriodOut(BaseModel):
    start: dt.date
    end: dt.date


class TotalsOut(BaseModel):
    visitors: int | None
    """The sum of each day's visitors (a visitor cannot be recognised across days); null under a filter."""
    visits: int
    pageviews: int
    bounce_rate: float | None
    """Visits with one page view, in percent."""
    average_duration_s: float | None


class RowOut(BaseModel):
    value: str
    visitors: int | None
    """Null under a filter."""
    visits: int
    pageviews: int


class RateOut(BaseModel):
    goal: str
    dimension: str
    """``channel`` (search, social, direct, other), ``utm_source`` or ``utm_campaign``."""
    value: str
    visits: int
    """Visits that began from this value."""
    conversions: int
    """Those of them that reached the goal."""
    rate: float | None
    """Conversions per 100 visits."""


class GoalOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    name: str
    kind: Annotated[str, OneOf(*Goal.Kind.values)]
    """``server``: something vern records; ``page``: a visit to a page; ``event``: a click on an element
    marked ``data-vern-goal``."""
    conversions: int
    previous: int
    """Conversions in the period of equal length before."""
    rate: float | None
    """Conversions per 100 visits."""


class PointOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    start: dt.datetime | dt.date
    """The day (``2026-11-30``) or, for a period of one day, the hour it began, in Norwegian time with its
    offset (``2026-11-30T14:00:00+01:00``; on the night summer time ends, 02:00 comes twice, with two offsets)."""
    visitors: int | None
    """Distinct visitors of the day or hour: someone who comes back in another hour counts in both hours, so
    the hours add up to more than the day; null under a filter."""
    visits: int
    """Visits that began in the day or hour."""
    pageviews: int
    """Page views of the day's visits; for an hour, page views seen in that hour."""


class StatsOut(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    period: PeriodOut
    previous_period: PeriodOut
    totals: TotalsOut
    previous_totals: TotalsOut
    breakdowns: dict[str, list[RowOut]]
    """The ten values seen most per dimension (``page``, ``entry``, ``referrer``, ``browser`` …)."""
    goals: list[GoalOut]
    filters: dict[str, str]
    """The filters applied to the totals, breakdowns and conversion rates (not to ``goals``)."""
    conversion_rates: list[RateOut]
    """For goals the beacon sees (page views, goals fired from the page): per source and campaign, the top ten."""
    interval: Literal["hour", "day"]
    """What ``series`` counts by: ``hour`` for a period of one day (23 or 25 hours on the days the clocks
    change), else ``day``. Under a filter always ``day``: the totals per hour keep no entry values."""
    series: list[PointOut]
    """The period hour by hour or day by day, with no gaps; today's hours still to come are left out."""
    today_worked_out_at: dt.datetime | None = None
    """Null when today's figures are current. On a busy day (more than 20,000 hits) they are worked out in
    the background, at most every five minutes; a period that includes today then gives when they were
    last worked out (Norwegian time with its offset), and the visits since are not in them yet."""


class StatsError(BaseModel):
    error: str
    """``token`` (none or not known), ``revoked`` (revoked, or its owner may no longer read statistics), ``period``
    (also a ``range`` not offered), ``filter``."""
    message: str


def _refusal(description: str, *, auth: bool = False) -> Answer:
    headers = {"WWW-Authenticate": {"schema": {"type": "string"}}} if auth else {}
    return Answer(description, {"application/json": StatsError}, headers=headers)


STATS = Operation(
    method="get",
    operation_id="analyticsStats",
    summary="The statistics of a period, for a staff member's token (Authorization: Bearer vst_…)",
    description=(
        "Read-only. Make a token in the console under Statistics → Goals, reports and API; it is shown once. "
        "Send it as `Authorization: Bearer <token>`. Anonymous daily and hourly totals only."
    ),
    query=StatsQuery,
    responses={
        200: Answer("The figures of the period and of the period before", {"application/json": StatsOut}),
        400: _refusal(
            "start or end is not a day, in the wrong order, after today, or the period is too long; "
            "range is not one of those offered, or comes with start or end; "
            "or a filter names no dimension that can be filtered by, or a value too long"
        ),
        401: _refusal("No token, or not one vern knows", auth=True),
        403: _refusal("The token was revoked, or its staff member may no longer read statistics"),
    },
)


def _error(code: str, message: str, status: int) -> JsonResponse:
    response = JsonResponse(StatsError(error=code, message=message).model_dump(), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="vern statistics"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def token_of(request: HttpRequest) -> StatsToken | None:
    """The token row the request's ``Authorization`` header names, revoked or not; None if none."""
    found = BEARER.fullmatch(request.headers.get("Authorization", "").strip())
    if found is None:
        return None
    return StatsToken.objects.select_related("user").filter(digest=token_digest(found.group(1))).first()


def _period(query: StatsQuery, today: dt.date) -> Period | str:
    if query.range is not None:
        if query.start is not None or query.end is not None:
            return "Give range, or start and end, not both."
        return preset_period(query.range, today)
    if query.start is None and query.end is None:
        return Period(today - dt.timedelta(days=29), today)
    if query.start is None or query.end is None:
        return "Give both start and end, or neither."
    try:
        start, end = dt.date.fromisoformat(query.start), dt.date.fromisoformat(query.end)
    except ValueError:
        return "start and end must be days of the calendar."
    if start > end:
        return "start is after end."
    if end > today:
        return "end is after today."
    if (end - start).days + 1 > LONGEST_PERIOD:
        return f"A period can be at most {LONGEST_PERIOD} days long."
    return Period(start, end)


def _totals(totals: selectors.Totals) -> TotalsOut:
    return TotalsOut(
        visitors=totals.visitors if totals.visitors_known else None,
        visits=totals.visits,
        pageviews=totals.pageviews,
        bounce_rate=totals.bounce_rate,
        average_duration_s=totals.average_duration_s,
    )


def _series(period: Period, board: selectors.Dashboard, now: dt.datetime) -> tuple[str, list[PointOut]]:
    if selectors.shown_by_hour(period, board.filters):
        hours = selectors.period_hours(period, now)
        return "hour", [
            PointOut(start=h.local, visitors=h.visitors, visits=h.visits, pageviews=h.pageviews) for h in hours
        ]
    known = board.totals.visitors_known
    return "day", [
        PointOut(start=d.day, visitors=d.visitors if known else None, visits=d.visits, pageviews=d.pageviews)
        for d in board.days
    ]


def stats_for(
    period: Period,
    filters: dict[str, str] | None = None,
    now: dt.datetime | None = None,
    today_worked_out_at: dt.datetime | None = None,
) -> StatsOut:
    board = reports.board(period, filters)
    interval, series = _series(period, board.dashboard, now or timezone.now())
    return StatsOut(
        period=PeriodOut(start=period.start, end=period.end),
        previous_period=PeriodOut(start=board.dashboard.previous_period.start, end=board.dashboard.previous_period.end),
        totals=_totals(board.dashboard.totals),
        previous_totals=_totals(board.dashboard.previous_totals),
        breakdowns={
            dimension: [
                RowOut(value=row.value, visitors=row.visitors, visits=row.visits, pageviews=row.pageviews)
                for row in top.rows
            ]
            for dimension, top in board.dashboard.top.items()
        },
        goals=[
            GoalOut(name=r.goal.name, kind=r.goal.kind, conversions=r.conversions, previous=r.previous, rate=r.rate)
            for r in board.goals
        ],
        filters=board.dashboard.filters,
        conversion_rates=[
            RateOut(
                goal=r.goal,
                dimension=r.dimension,
                value=r.value,
                visits=r.visits,
                conversions=r.conversions,
                rate=r.rate,
            )
            for r in board.rates
        ],
        interval=interval,
        series=series,
        today_worked_out_at=today_worked_out_at,
    )


@csrf_exempt  # no cookie is read: the token in the header is the only credential
@require_http_methods(["GET", "HEAD"])
@documented(STATS)
def stats(request: HttpRequest) -> HttpResponse:
    token = token_of(request)
    if token is None:
        return _error("token", "Send a statistics token: Authorization: Bearer vst_…", 401)
    user = token.user
    if token.revoked_at is not None or not user.is_active or not user.can(Capability.READ_ANALYTICS):
        return _error("revoked", "This token no longer gives access to the statistics.", 403)
    try:
        query = StatsQuery.model_validate(
            {key: request.GET.getlist(key) if key == FILTER_PARAMETER else request.GET[key] for key in request.GET}
        )
    except ValidationError as exc:
        if any(error["loc"] and error["loc"][0] == FILTER_PARAMETER for error in exc.errors()):
            return _error("filter", "At most 20 filters, each dimension:value of at most 700 characters.", 400)
        if any(error["loc"] and error["loc"][0] == "range" for error in exc.errors()):
            return _error("period", f"range is one of: {', '.join(PRESETS)}.", 400)
        return _error("period", "start and end are days written year-month-day.", 400)
    with translation.override("en"):
        filters, errors = chosen_filters(request.GET)
    if errors:
        return _error("filter", " ".join(errors), 400)
    now = timezone.now()
    period = _period(query, local_day(now))
    if isinstance(period, str):
        return _error("period", period, 400)
    StatsToken.objects.filter(pk=token.pk).update(last_used_at=now)
    worked_out_at = None
    # Today's visits as the dashboard shows them, not after the hourly job; on a busy day, said how old.
    if period.end >= local_day(now) and analytics_refresh_today(now) is Today.QUEUED:
        found = selectors.worked_out_at(local_day(now))
        worked_out_at = found.astimezone(OSLO) if found is not None else None
    response = JsonResponse(stats_for(period, filters, now, worked_out_at).model_dump(mode="json"))
    patch_cache_control(response, private=True, no_store=True)
    return response
