"""Goals and conversions, without cookies.

A goal is what staff call a conversion:

- a **server event**, something vern itself records (an enquiry sent, a demo booked, a
  newsletter subscription confirmed, a rights request made). The app that records it calls
  ``vern.registry.surface.reach_goal(event, request)``; it never imports analytics, and
  analytics never imports it (ADR 0020). ``record`` below counts the event: it works out the
  visitor's daily hash from the request exactly as the beacon does (the day's salt, the site,
  the shortened address and the browser), finds the visit that hash is on among today's raw
  hits, and adds one to the count of the day, the event, that visit's source (its referring
  site) and its entry page. Only that count is stored: no hash, no address, no cookie read
  or set. A visitor whose visit is not found (no JavaScript, a consented cookie visitor, a
  beacon still in another process's buffer) is counted with an empty source and entry.
- a **page view** of a page whose path matches a pattern (``/pricing/*``): counted from the
  daily totals, as visits that saw such a page. A visit that saw two matching pages counts
  twice; the rate is capped at 100 %.
- a **click** on an element the site marks ``data-vern-goal="name"``: the beacon sends the name
  (no cookie, like any hit), and the daily totals count it under the dimension ``goal``, once
  per visit in which it fired; the goal counts those visits.

The conversion rate is conversions per 100 visits, over the same period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.db.models import F, Min, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.analytics import selectors
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, EntryStat, Hit
from vern.analytics.reading_models import Goal, GoalCount
from vern.analytics.salts import day_start, local_day, visitor_hashes
from vern.analytics.selectors import Period
from vern.analytics.sqlaggregate import CUBE_COLUMNS
from vern.lib.ip import client_ip_shortened

VISIT_PAUSE = dt.timedelta(minutes=30)  # as in the aggregation: a pause this long begins a new visit
CAMPAIGN_PARAMETER = "utm_campaign"

# The events vern itself knows of without asking any app: none. Each app names its own on its surface.
PAGE_PATTERN = re.compile(r"^/[^\s]*$")


def pattern_regex(pattern: str) -> str:
    """A path pattern (``*`` stands for any text, nothing else is special) as an anchored regular expression."""
    return "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"


def matches(pattern: str, path: str) -> bool:
    return re.fullmatch(pattern_regex(pattern)[1:-1], path) is not None


# ------------------------------------------------------------------ counting a server event


def _entry_of(visitors: tuple[str, ...], now: dt.datetime) -> tuple[str, str] | None:
    """(source, entry page) of the visit these hashes are on now, from today's page views."""
    views = list(
        Hit.objects.filter(at__gte=day_start(local_day(now)), at__lte=now, visitor__in=visitors, kind=Hit.Kind.PAGEVIEW)
        .order_by("at")
        .values_list("at", "path", "referrer_host")
    )
    if not views or now - views[-1][0] >= VISIT_PAUSE:
        return None
    begins = 0
    for index in range(1, len(views)):
        if views[index][0] - views[index - 1][0] >= VISIT_PAUSE:
            begins = index
    _, path, source = views[begins]
    return source, path


def record(event: str, request: object, now: dt.datetime | None = None) -> None:
    """Count one server event (a ``Surface.goal_recorders`` member): the day's count for its visit's source."""
    now = now or timezone.now()
    found = None
    meta = getattr(request, "META", None)
    if meta is not None:
        BUFFER.flush()  # this process's newest page views, so that the visit is found
        host = request.get_host()  # type: ignore[attr-defined]
        today, previous = visitor_hashes(now, host, client_ip_shortened(request), meta.get("HTTP_USER_AGENT", ""))  # type: ignore[arg-type]
        found = _entry_of(tuple(h for h in (today, previous) if h), now)
    source, entry = found or ("", "")
    key = {"day": local_day(now), "event": event[:40], "source": source[:253], "entry": entry[:512]}
    # Only the count in a transaction: the visit was looked up above, outside the write lock.
    with transaction.atomic():
        if not GoalCount.objects.filter(**key).update(count=F("count") + 1):
            row, created = GoalCount.objects.get_or_create(**key, defaults={"count": 1})
            if not created:
                GoalCount.objects.filter(pk=row.pk).update(count=F("count") + 1)


# ------------------------------------------------------------------ reading conversions


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    conversions: int
    previous: int
    visits: int
    previous_visits: int

    @property
    def rate(self) -> float | None:
        return min(100.0, 100 * self.conversions / self.visits) if self.visits else None

    @property
    def previous_rate(self) -> float | None:
        return min(100.0, 100 * self.previous / self.previous_visits) if self.previous_visits else None

    @property
    def change(self) -> float | None:
        """Change in the number of conversions against the previous period, in percent."""
        return 100 * (self.conversions - self.previous) / self.previous if self.previous else None


@dataclass(frozen=True)
class SourceConversion:
    goal: str
    dimension: str  # "referrer" or "campaign" (server events); "channel", "utm_source", "utm_campaign" (the cube)
    value: str
    conversions: int
    visits: int

    @property
    def rate(self) -> float | None:
        return min(100.0, 100 * self.conversions / self.visits) if self.visits else None


def _in(period: Period) -> dict[str, dt.date]:
    return {"day__gte": period.start, "day__lte": period.end}


def _page_rows(period: Period, pattern: str) -> QuerySet[DailyStat]:
    return DailyStat.objects.filter(
        dimension=DailyStat.Dimension.PAGE, value__regex=pattern_regex(pattern), **_in(period)
    )


def conversions(goal: Goal, period: Period) -> int:
    if goal.kind == Goal.Kind.SERVER:
        found = GoalCount.objects.filter(event=goal.match, **_in(period)).aggregate(n=Sum("count", default=0))
    elif goal.kind == Goal.Kind.EVENT:
        found = DailyStat.objects.filter(dimension=DailyStat.Dimension.GOAL, value=goal.match, **_in(period)).aggregate(
            n=Sum("visits", default=0)
        )
    else:
        found = _page_rows(period, goal.match).aggregate(n=Sum("visits", default=0))
    return int(found["n"])


def _visits(period: Period) -> int:
    found = DailyStat.objects.filter(dimension=DailyStat.Dimension.TOTAL, **_in(period)).aggregate(
        n=Sum("visits", default=0)
    )
    return int(found["n"])


def results(period: Period) -> list[GoalResult]:
    """Every goal's conversions and rate in ``period`` and in the period of equal length before it."""
    previous = period.previous()
    visits, previous_visits = _visits(period), _visits(previous)
    return [
        GoalResult(goal, conversions(goal, period), conversions(goal, previous), visits, previous_visits)
        for goal in Goal.objects.all()
    ]


def campaign_of(path: str) -> str:
    """The ``utm_campaign`` an entry page's kept query string names ("" for none)."""
    query = urlsplit(path).query
    return parse_qs(query).get(CAMPAIGN_PARAMETER, [""])[0][:200] if query else ""


def by_source(period: Period, *, limit: int = 10) -> list[SourceConversion]:
    """Conversions of the server-event goals per referring site and per campaign, with the visits each brought.

    Page-view and click goals are not split by source here: the daily totals do not cross pages or
    goals with sources.
    """
    goals = {goal.match: goal.name for goal in Goal.objects.filter(kind=Goal.Kind.SERVER)}
    if not goals:
        return []
    per_source: dict[tuple[str, str], int] = defaultdict(int)
    per_campaign: dict[tuple[str, str], int] = defaultdict(int)
    for event, source, entry, count in GoalCount.objects.filter(event__in=goals, **_in(period)).values_list(
        "event", "source", "entry", "count"
    ):
        per_source[(goals[event], source)] += count
        campaign = campaign_of(entry)
        if campaign:
            per_campaign[(goals[event], campaign)] += count
    source_visits = dict(
        DailyStat.objects.filter(dimension=DailyStat.Dimension.REFERRER, **_in(period))
        .values("value")
        .annotate(n=Sum("visits"))
        .values_list("value", "n")
    )
    campaign_visits: dict[str, int] = defaultdict(int)
    if per_campaign:
        for value, n in (
            DailyStat.objects.filter(
                dimension=DailyStat.Dimension.ENTRY, value__contains=f"{CAMPAIGN_PARAMETER}=", **_in(period)
            )
            .values("value")
            .annotate(n=Sum("visits"))
            .values_list("value", "n")
        ):
            campaign_visits[campaign_of(value)] += int(n or 0)
    rows = [
        SourceConversion(goal, "referrer", source, n, int(source_visits.get(source) or 0))
        for (goal, source), n in per_source.items()
    ] + [
        SourceConversion(goal, "campaign", campaign, n, campaign_visits.get(campaign, 0))
        for (goal, campaign), n in per_campaign.items()
    ]
    rows.sort(key=lambda row: (-row.conversions, row.goal, row.dimension, row.value))
    return rows[: limit * 2]


DIRECT = _("Direct or unknown")


# ------------------------------------------------------------------ conversion rates from the cube


def _cube_days(period: Period) -> Period | None:
    """The part of ``period`` the cube still has (it goes with the raw hits, ``forget_old_cube``);
    None when it has none of it."""
    first = EntryStat.objects.filter(dimension=DailyStat.Dimension.TOTAL).aggregate(first=Min("day"))["first"]
    if first is None or first > period.end:
        return None
    return Period(max(first, period.start), period.end)


def _visits_per_value(days: Period, dimension: str) -> dict[str, int]:
    """The visits each value of an entry dimension brought over ``days``, from the daily totals: the
    cube's visit rows add up to them, and they are a few rows a day where the cube has about one per
    visit. Only over the days the cube has, so that the visits and the conversions counted from the
    cube cover the same days."""
    found = (
        DailyStat.objects.filter(dimension=dimension, day__gte=days.start, day__lte=days.end)
        .values("value")
        .annotate(n=Sum("visits"))
        .values_list("value", "n")
    )
    return {value: int(n or 0) for value, n in found}


# What a conversion rate is split by: the visit's source (search, social, direct, other sites),
# its campaign's source, and its campaign.
RATE_DIMENSIONS = ("channel", "utm_source", "utm_campaign")


def conversion_rates(
    period: Period, filters: Mapping[str, str] | None = None, *, limit: int | None = 10
) -> list[SourceConversion]:
    """For each goal the beacon sees (a page-view goal, and each goal fired from the page), the visits
    that reached it per source, campaign source and campaign, against the visits each brought:
    from the cube (``EntryStat``), so any filter applies and any range the totals cover.

    Server-event goals are not hits, so they are not in the cube: ``by_source`` has them. A
    page-view goal counts the visits that saw a matching page; a visit that saw two matching
    pages counts twice, as in ``results``, and the rate is capped at 100 %.
    """
    filters = dict(filters or {})
    cube = selectors.cube_rows(period, filters)
    page_goals = list(Goal.objects.filter(kind=Goal.Kind.PAGE).values_list("name", "match"))
    # A name fired from the page is shown by the name staff gave its click goal, where there is one.
    click_goals = dict(Goal.objects.filter(kind=Goal.Kind.EVENT).values_list("match", "name"))
    rows: list[SourceConversion] = []
    # Unfiltered, the visits per value come from the daily totals, over the days the cube has.
    days = None if filters else _cube_days(period)
    for dimension in RATE_DIMENSIONS:
        column = CUBE_COLUMNS[DailyStat.Dimension(dimension)]
        visits = _visits_per_value(days, dimension) if days is not None else None
        if visits is None:
            visits = dict(
                cube.filter(dimension=DailyStat.Dimension.TOTAL)
                .values(column)
                .annotate(n=Sum("visits"))
                .values_list(column, "n")
            )
        reached = [
            (click_goals.get(goal, goal), value, int(n or 0))
            for goal, value, n in cube.filter(dimension=DailyStat.Dimension.GOAL)
            .values("value", column)
            .annotate(n=Sum("visits"))
            .values_list("value", column, "n")
        ]
        for name, pattern in page_goals:
            reached += [
                (name, value, int(n or 0))
                for value, n in cube.filter(dimension=DailyStat.Dimension.PAGE, value__regex=pattern_regex(pattern))
                .values(column)
                .annotate(n=Sum("visits"))
                .values_list(column, "n")
            ]
        rows += [SourceConversion(goal, dimension, value, n, int(visits.get(value) or 0)) for goal, value, n in reached]
    rows.sort(key=lambda row: (-row.conversions, row.goal, RATE_DIMENSIONS.index(row.dimension), row.value))
    return rows if limit is None else rows[:limit]
