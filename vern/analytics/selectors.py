"""What the analytics dashboard shows: totals, a series per day, top lists and what was not counted.

Everything here reads the anonymous daily aggregates (``DailyStat``, ``Dropped``)
with a handful of GROUP BY queries whose size depends on the number of days and
distinct values in the range, never on the number of hits: the raw ``Hit`` rows
are not read at all, so a range over years of data costs about the same as a week.

Days are dates in Europe/Oslo, and a range includes both its first and its last day.

Visitors are the sum of each day's distinct visitors. A visitor seen on two days
counts twice: without consent the visitor hash is made with a salt that changes
every day (and is deleted after 48 hours), so nothing can tell that two days'
visitors are the same person, by design.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.analytics.models import DailyStat, Dropped, EntryStat, Hit, HourlyStat, TotalledDay
from vern.analytics.sqlaggregate import CUBE_COLUMNS
from vern.lib.days import OSLO, day_start
from vern.registry.surface import Tile

Dimension = DailyStat.Dimension

COUNTS = ("visitors", "visits", "pageviews", "bounces", "duration_ms")
TOP_DIMENSIONS = (
    Dimension.PAGE,
    Dimension.ENTRY,
    Dimension.REFERRER,
    Dimension.BROWSER,
    Dimension.OS,
    Dimension.DEVICE,
    Dimension.CHANNEL,
    Dimension.UTM_CAMPAIGN,
    Dimension.COUNTRY,
    Dimension.GOAL,
)
# Every dimension a breakdown can be asked for (docs/analytics.md, "Contract with the reading side").
BREAKDOWNS: tuple[str, ...] = tuple(d.value for d in Dimension if d != Dimension.TOTAL)
# Those a breakdown can be filtered by: what the visit's entry hit holds (the cube's columns).
FILTERS: tuple[str, ...] = tuple(str(d) for d in CUBE_COLUMNS)
# The longest value each filter can have (its column's length): a longer one cannot match anything.
FILTER_LENGTH: dict[str, int] = {
    str(d): getattr(EntryStat._meta.get_field(column), "max_length", None) or 600 for d, column in CUBE_COLUMNS.items()
}
# Pages are ranked by how often they were seen; everything else by the visits it began or carried.
RANKED_BY: dict[str, str] = {Dimension.PAGE: "pageviews"}
LONGEST_PERIOD = 400  # days; longer ranges are refused by the form, not silently cut
TILE_DAYS = 7


@dataclass(frozen=True)
class Period:
    """The days from ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(self.days)]


@dataclass(frozen=True)
class Totals:
    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    duration_ms: int = 0
    # Under a filter the totals come from the cube, where distinct visitors cannot be added up
    # across rows: ``visitors`` is then 0 and not shown (ADR 0023).
    visitors_known: bool = True

    @property
    def average_duration_s(self) -> float | None:
        """Average engaged time per visit, in seconds; visits of one page view count with their own time."""
        return self.duration_ms / self.visits / 1000 if self.visits else None

    @property
    def bounce_rate(self) -> float | None:
        """Visits with a single page view, in percent of all visits."""
        return 100 * self.bounces / self.visits if self.visits else None

    @property
    def views_per_visit(self) -> float | None:
        return self.pageviews / self.visits if self.visits else None


@dataclass(frozen=True)
class Metric:
    """One of the six figures at the top, beside its value in the previous period."""

    key: str
    label: str
    kind: str  # "count", "ratio", "duration" (seconds) or "percent"
    value: float | None
    previous: float | None
    change: float | None  # percent; for the bounce rate, percentage points
    lower_is_better: bool = False

    @property
    def change_in_points(self) -> bool:
        return self.kind == "percent"

    @property
    def trend(self) -> str:
        """``better``, ``worse`` or ``same``, so that a rising bounce rate is not shown as good news."""
        if self.change is None or round(self.change, 1) == 0:
            return "same"
        return "better" if (self.change > 0) != self.lower_is_better else "worse"


@dataclass(frozen=True)
class Day:
    day: dt.date
    visitors: int
    visits: int
    pageviews: int


@dataclass(frozen=True)
class Row:
    """One value of a dimension, summed over the period."""

    value: str
    visitors: int | None  # None under a filter: distinct visitors do not add up across the cube's rows
    visits: int
    pageviews: int
    bounces: int
    duration_ms: int
    share: float  # of all page views (pages) or all visits (the rest), in percent

    @property
    def bounce_rate(self) -> float | None:
        return 100 * self.bounces / self.visits if self.visits else None

    @property
    def average_duration_s(self) -> float | None:
        return self.duration_ms / self.visits / 1000 if self.visits else None


@dataclass(frozen=True)
class TopList:
    dimension: str
    rows: list[Row]
    distinct: int  # how many values the period has in all

    @property
    def more(self) -> int:
        return max(self.distinct - len(self.rows), 0)


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class DroppedSummary:
    total: int = 0
    reasons: list[ReasonCount] = field(default_factory=list)
    bots: list[tuple[str, int]] = field(default_factory=list)  # (agent, count), most first


@dataclass(frozen=True)
class Dashboard:
    period: Period
    previous_period: Period
    totals: Totals
    previous_totals: Totals
    metrics: list[Metric]
    days: list[Day]
    top: dict[str, TopList]
    dropped: DroppedSummary
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def has_data(self) -> bool:
        return self.totals.visits > 0 or self.totals.pageviews > 0 or self.totals.visitors > 0


METRIC_LABELS: dict[str, Promise] = {
    "visitors": gettext_lazy("Visitors"),
    "visits": gettext_lazy("Visits"),
    "pageviews": gettext_lazy("Page views"),
    "views_per_visit": gettext_lazy("Pages per visit"),
    "bounce_rate": gettext_lazy("Bounce rate"),
    "average_duration": gettext_lazy("Visit duration"),
}


def _sums(prefix: str, condition: Q | None = None) -> dict[str, Sum]:
    return {f"{prefix}{name}": Sum(name, filter=condition, default=0) for name in COUNTS}


def _totals_of_two(period: Period, previous: Period) -> tuple[Totals, Totals]:
    """The totals of a period and of the one before it, in one query."""
    now = Q(day__gte=period.start, day__lte=period.end)
    before = Q(day__gte=previous.start, day__lte=previous.end)
    sums = DailyStat.objects.filter(dimension=Dimension.TOTAL, day__gte=previous.start, day__lte=period.end).aggregate(
        **_sums("now_", now), **_sums("before_", before)
    )
    return (
        _totals({name: int(sums[f"now_{name}"]) for name in COUNTS}),
        _totals({name: int(sums[f"before_{name}"]) for name in COUNTS}),
    )


def period_totals(period: Period) -> Totals:
    sums = DailyStat.objects.filter(dimension=Dimension.TOTAL, day__gte=period.start, day__lte=period.end).aggregate(
        **_sums("")
    )
    return _totals({name: int(sums[name]) for name in COUNTS})


def _totals(counts: Mapping[str, int], *, visitors_known: bool = True) -> Totals:
    return Totals(
        visitors=counts.get("visitors", 0),
        visits=counts["visits"],
        pageviews=counts["pageviews"],
        bounces=counts["bounces"],
        duration_ms=counts["duration_ms"],
        visitors_known=visitors_known,
    )


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or not before:
        return None
    return 100 * (now - before) / before


def _metrics(now: Totals, before: Totals) -> list[Metric]:
    def count(key: str) -> Metric:
        value, previous = getattr(now, key), getattr(before, key)
        if key == "visitors" and not now.visitors_known:
            return Metric(key, str(METRIC_LABELS[key]), "count", None, None, None)
        return Metric(key, str(METRIC_LABELS[key]), "count", value, previous, _change(value, previous))

    bounce_change = (
        now.bounce_rate - before.bounce_rate if now.bounce_rate is not None and before.bounce_rate is not None else None
    )
    return [
        count("visitors"),
        count("visits"),
        count("pageviews"),
        Metric(
            "views_per_visit",
            str(METRIC_LABELS["views_per_visit"]),
            "ratio",
            now.views_per_visit,
            before.views_per_visit,
            _change(now.views_per_visit, before.views_per_visit),
        ),
        Metric(
            "bounce_rate",
            str(METRIC_LABELS["bounce_rate"]),
            "percent",
            now.bounce_rate,
            before.bounce_rate,
            bounce_change,
            lower_is_better=True,
        ),
        Metric(
            "average_duration",
            str(METRIC_LABELS["average_duration"]),
            "duration",
            now.average_duration_s,
            before.average_duration_s,
            _change(now.average_duration_s, before.average_duration_s),
        ),
    ]


def daily_series(period: Period) -> list[Day]:
    """Visitors, visits and page views for every day of the period; a day without data is zero."""
    found = {
        day: (visitors, visits, pageviews)
        for day, visitors, visits, pageviews in DailyStat.objects.filter(
            dimension=Dimension.TOTAL, day__gte=period.start, day__lte=period.end
        ).values_list("day", "visitors", "visits", "pageviews")
    }
    return [Day(day, *found.get(day, (0, 0, 0))) for day in period.dates()]


def top_values(period: Period, dimension: str, *, limit: int = 10, totals: Totals | None = None) -> list[Row]:
    """The ``limit`` values of one dimension seen most in the period (one GROUP BY query)."""
    ranked_by = RANKED_BY.get(dimension, "visits")
    totals = totals if totals is not None else period_totals(period)
    whole = totals.pageviews if ranked_by == "pageviews" else totals.visits
    rows = (
        DailyStat.objects.filter(dimension=dimension, day__gte=period.start, day__lte=period.end)
        .values("value")
        .annotate(**{name: Sum(name) for name in COUNTS})
        .order_by(f"-{ranked_by}", "-visitors", "value")[:limit]
    )
    return [
        Row(
            value=row["value"],
            **{name: int(row[name] or 0) for name in COUNTS},
            share=100 * (row[ranked_by] or 0) / whole if whole else 0.0,
        )
        for row in rows
    ]


def breakdown(
    dimension: str, start: dt.date, end: dt.date, filters: Mapping[str, str] | None = None, *, limit: int = 100
) -> list[Row]:
    """The values of ``dimension`` from ``start`` to ``end`` (both included), largest first.

    Without ``filters`` this reads the daily totals. With them (``{dimension: value}`` from
    ``FILTERS``, all must hold) it reads the cube (``EntryStat``): the visits whose entry hit has
    every one of those values, over any range the totals cover. Its rows have no visitor figure.
    """
    if dimension not in BREAKDOWNS:
        raise ValueError(f"unknown dimension {dimension!r}")
    check_filters(filters or {})
    period = Period(start, end)
    if not filters:
        return top_values(period, dimension, limit=limit)
    return _cube_top(period, dimension, filters, limit=limit)


def impossible_value(name: str, value: str) -> bool:
    """Whether no row of the cube can hold ``value`` under ``name`` (too long, control characters)."""
    return len(value) > FILTER_LENGTH[name] or any(ord(c) < 32 for c in value)


def check_filters(filters: Mapping[str, str]) -> None:
    """Refuse a filter by something the cube does not hold, or a value no row can have."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"cannot filter by {', '.join(sorted(unknown))}")
    for name, value in filters.items():
        if impossible_value(name, value):
            raise ValueError(f"not a value of {name}")


def cube_rows(period: Period, filters: Mapping[str, str]) -> QuerySet[EntryStat]:
    return EntryStat.objects.filter(
        day__gte=period.start,
        day__lte=period.end,
        **{CUBE_COLUMNS[Dimension(name)]: value for name, value in filters.items()},
    )


_CUBE_COUNTS = COUNTS[1:]


def _cube_sums(prefix: str = "", condition: Q | None = None) -> dict[str, Sum]:
    return {f"{prefix}{name}": Sum(name, filter=condition, default=0) for name in _CUBE_COUNTS}


def _cube_totals(period: Period, filters: Mapping[str, str]) -> Totals:
    sums = cube_rows(period, filters).filter(dimension=Dimension.TOTAL).aggregate(**_cube_sums())
    return _totals({name: int(sums[name]) for name in _CUBE_COUNTS}, visitors_known=False)


def _cube_top(
    period: Period, dimension: str, filters: Mapping[str, str], *, limit: int, totals: Totals | None = None
) -> list[Row]:
    """The values of one dimension among the visits the filters select (one GROUP BY on the cube)."""
    ranked_by = RANKED_BY.get(dimension, "visits")
    totals = totals if totals is not None else _cube_totals(period, filters)
    rows = cube_rows(period, filters)
    if dimension in (Dimension.PAGE, Dimension.GOAL):
        column, rows = "value", rows.filter(dimension=dimension)
    else:
        column, rows = CUBE_COLUMNS[Dimension(dimension)], rows.filter(dimension=Dimension.TOTAL)
    found = rows.values(column).annotate(**_cube_sums()).order_by(f"-{ranked_by}", column)[:limit]
    return [_cube_row(dimension, row[column], row, totals) for row in found]


def _cube_row(dimension: str, value: str, sums: Mapping[str, int | None], totals: Totals) -> Row:
    """A row of a list read from the cube: its summed counts, and its share of the visits (of the
    page views, for pages) of the visits the filters select."""
    counts = {name: int(sums[name] or 0) for name in _CUBE_COUNTS}
    ranked_by = RANKED_BY.get(dimension, "visits")
    whole = totals.pageviews if ranked_by == "pageviews" else totals.visits
    return Row(value=value, visitors=None, **counts, share=100 * counts[ranked_by] / whole if whole else 0.0)


_SERIES = "_day"  # the ``dim`` of the rows that give the filtered visits per day (no dimension's name)


def _cube_board(
    period: Period, filters: Mapping[str, str], *, top: int
) -> tuple[Totals, list[Day], dict[str, TopList]]:
    """The filtered visits' totals, their series and every top list with how many values each has,
    in TWO queries over the cube (ADR 0025): the series and the entry values' lists from
    its visit rows (on PostgreSQL a ``GROUPING SETS`` of the day and the entry columns, read in one
    pass; on SQLite, which has none, a ``UNION ALL`` of the same groups), the pages' and goals' from
    their rows, grouped by dimension and value. Ranked and cut in the database, as ``_cube_top``
    ranks (pages by views, the rest by visits, then the value in the database's order), so both
    give the same rows; the period's totals are the sum of its days."""
    entries = [d for d in TOP_DIMENSIONS if d not in (Dimension.PAGE, Dimension.GOAL)]
    columns = {str(d): connection.ops.quote_name(CUBE_COLUMNS[Dimension(d)]) for d in entries}
    sums = ", ".join(f"SUM({name}) AS {name}" for name in ("visits", "pageviews", "bounces", "duration_ms"))
    table = connection.ops.quote_name(EntryStat._meta.db_table)
    day = connection.ops.quote_name("day")

    def where_of(rows: QuerySet[EntryStat]) -> tuple[str, list[Any]]:
        where, params = rows.query.get_compiler(using=rows.db).compile(rows.query.where)
        return where, list(params)

    where, params = where_of(cube_rows(period, filters).filter(dimension=Dimension.TOTAL))
    if connection.vendor == "postgresql":
        which = " ".join(f"WHEN GROUPING({column}) = 0 THEN '{name}'" for name, column in columns.items())
        grouped = (
            f"SELECT CASE {which} ELSE '{_SERIES}' END AS dim, "  # noqa: S608
            f"COALESCE({', '.join(columns.values())}, to_char({day}, 'YYYY-MM-DD')) AS value, {sums} FROM {table} "
            f"WHERE {where} GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in (*columns.values(), day))})"
        )
    else:
        # The day as text: a column of type date would have the driver read every value as one.
        grouped = " UNION ALL ".join(
            f"SELECT '{name}' AS dim, {shown} AS value, {sums} FROM {table} WHERE {where} GROUP BY {column}"  # noqa: S608
            for name, column, shown in (
                *((name, column, column) for name, column in columns.items()),
                (_SERIES, day, f"CAST({day} AS TEXT)"),
            )
        )
        params = params * (len(columns) + 1)
    found, distinct = _ranked(grouped, params, top=top)
    per_day = {dt.date.fromisoformat(str(value)[:10]): counts for value, counts in found.pop(_SERIES, [])}
    distinct.pop(_SERIES, None)
    totals = _totals(
        {name: sum(int(counts[name] or 0) for counts in per_day.values()) for name in _CUBE_COUNTS},
        visitors_known=False,
    )
    empty: Counts = dict.fromkeys(_CUBE_COUNTS, 0)
    days = []
    for when in period.dates():
        counts = per_day.get(when, empty)
        days.append(Day(when, 0, int(counts["visits"] or 0), int(counts["pageviews"] or 0)))
    valued = (Dimension.PAGE, Dimension.GOAL)
    where, params = where_of(cube_rows(period, filters).filter(dimension__in=valued))
    dimension = connection.ops.quote_name("dimension")
    grouped = (
        f"SELECT {dimension} AS dim, value, {sums} FROM {table} WHERE {where} "  # noqa: S608
        f"GROUP BY {dimension}, value"
    )
    more, more_distinct = _ranked(grouped, params, top=top)
    found.update(more)
    distinct.update(more_distinct)
    lists = {
        str(d): TopList(
            str(d),
            [_cube_row(str(d), value, counts, totals) for value, counts in found.get(str(d), [])],
            distinct.get(str(d), 0),
        )
        for d in TOP_DIMENSIONS
    }
    return totals, days, lists


Counts = dict[str, Any]


def _ranked(grouped: str, params: list[Any], *, top: int) -> tuple[dict[str, list[tuple[str, Counts]]], dict[str, int]]:
    """The first ``top`` (value, counts) of each ``dim`` that the query ``grouped`` gives, and how
    many values each has; every row of the series (``_SERIES``), which is not cut."""
    ranks = " ".join(f"WHEN '{dimension}' THEN {column}" for dimension, column in RANKED_BY.items())
    ranked = (
        "SELECT dim, value, visits, pageviews, bounces, duration_ms, values_in_all FROM ("  # noqa: S608
        f"SELECT g.*, ROW_NUMBER() OVER (PARTITION BY dim ORDER BY CASE dim {ranks} ELSE visits END DESC, value) "
        f"AS place, COUNT(*) OVER (PARTITION BY dim) AS values_in_all FROM ({grouped}) g) r "
        f"WHERE place <= %s OR dim = '{_SERIES}' ORDER BY dim, place"
    )
    found: dict[str, list[tuple[str, Counts]]] = {}
    distinct: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(ranked, [*params, top])
        for dim, value, visits, pageviews, bounces, duration_ms, values_in_all in cursor.fetchall():
            counts = {"visits": visits, "pageviews": pageviews, "bounces": bounces, "duration_ms": duration_ms}
            found.setdefault(dim, []).append((value, counts))
            distinct[dim] = int(values_in_all)
    return found, distinct


@dataclass(frozen=True)
class Hour:
    hour: dt.datetime  # UTC
    visitors: int
    visits: int
    pageviews: int
    # On the night summer time ends the clock shows 02:00–03:00 twice: each of the two says so.
    repeated: bool = False

    @property
    def local(self) -> dt.datetime:
        return self.hour.astimezone(OSLO)

    @property
    def summer_time(self) -> bool:
        return bool(self.local.dst())


def hourly_series(start: dt.datetime, end: dt.datetime) -> list[Hour]:
    """Every hour from ``start`` to ``end`` (whole hours, end excluded), from the hourly totals;
    an hour that two days' aggregations wrote (a visit going on past midnight) is summed.

    The hours are counted in UTC, so that a day on which the clocks change has its 23 or 25.
    """
    start, end = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    found = {
        hour.astimezone(dt.UTC): (int(visitors), int(visits), int(pageviews))
        for hour, visitors, visits, pageviews in HourlyStat.objects.filter(hour__gte=start, hour__lt=end)
        .values("hour")
        .annotate(a=Sum("visitors"), b=Sum("visits"), c=Sum("pageviews"))
        .values_list("hour", "a", "b", "c")
    }
    hours = []
    hour = start
    while hour < end:
        hours.append(Hour(hour, *found.get(hour, (0, 0, 0))))
        hour += dt.timedelta(hours=1)
    return hours


def period_hours(period: Period, now: dt.datetime | None = None) -> list[Hour]:
    """The hours of the period's days in Europe/Oslo, midnight to midnight: 24 a day, or 23 and 25
    on the days the clocks change; with ``now``, none that has not begun. Visits and visitors in the
    hour the visit began, page views in the hour they were seen (so a visit going on past midnight
    adds page views, not a visit, to the next day). One query."""
    end = day_start(period.end + dt.timedelta(days=1))
    if now is not None:
        end = min(end, now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1))
    hours = hourly_series(day_start(period.start), end)
    seen = Counter((h.local.date(), h.local.hour) for h in hours)
    return [replace(h, repeated=True) if seen[h.local.date(), h.local.hour] > 1 else h for h in hours]


def day_hours(day: dt.date, now: dt.datetime | None = None) -> list[Hour]:
    """The hours of one day (see ``period_hours``)."""
    return period_hours(Period(day, day), now)


def hours_missing(period: Period) -> bool:
    """Whether a day has totals but no totals per hour: it was counted before vern kept them."""
    if period.days != 1:
        return False
    day = DailyStat.objects.filter(day=period.start, dimension=Dimension.TOTAL)
    return day.exists() and not HourlyStat.objects.filter(day=period.start).exists()


def shown_by_hour(period: Period, filters: Mapping[str, str] | None = None) -> bool:
    """Whether the period is shown hour by hour: a single day, unfiltered (the totals per hour keep no
    entry values), counted with its hours."""
    return period.days == 1 and not filters and not hours_missing(period)


@dataclass(frozen=True)
class SoFar:
    """A day's visits and page views up to a time of day, from its hours."""

    until: dt.time
    visits: int
    pageviews: int


def yesterday_so_far(now: dt.datetime) -> SoFar | None:
    """Yesterday's visits and page views in the hours that began by the hour ``now`` is in (by the clock):
    what today so far can fairly be set beside, where the totals compare it with the whole of yesterday.
    None in the day's last hour (that is all of yesterday) and when yesterday has no hourly totals."""
    local = now.astimezone(OSLO)
    yesterday = local.date() - dt.timedelta(days=1)
    if local.hour == 23 or hours_missing(Period(yesterday, yesterday)):
        return None
    hours = [h for h in day_hours(yesterday) if h.local.hour <= local.hour]
    return SoFar(dt.time(local.hour + 1), sum(h.visits for h in hours), sum(h.pageviews for h in hours))


def _distinct_values(period: Period) -> dict[str, int]:
    """How many values each list has in ``period``: the distinct (dimension, value) pairs, counted per
    dimension. A plain DISTINCT is hashed, where COUNT(DISTINCT …) per dimension sorts every value by
    the locale's rules: 69 ms against 21 at 1 M hits (ADR 0027)."""
    dimensions = [str(dimension) for dimension in TOP_DIMENSIONS]
    marks = ", ".join(["%s"] * len(dimensions))
    table = connection.ops.quote_name(DailyStat._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT dimension, COUNT(*) FROM (SELECT DISTINCT dimension, value FROM {table} "  # noqa: S608
            f"WHERE dimension IN ({marks}) AND day >= %s AND day <= %s) pairs GROUP BY dimension",
            [
                *dimensions,
                connection.ops.adapt_datefield_value(period.start),
                connection.ops.adapt_datefield_value(period.end),
            ],
        )
        return {str(dimension): int(n) for dimension, n in cursor.fetchall()}


def worked_out_at(day: dt.date) -> dt.datetime | None:
    """When ``day``'s totals were last worked out, as the aggregation recorded it (ADR 0026)."""
    found: dt.datetime | None = TotalledDay.objects.filter(day=day).values_list("totalled_at", flat=True).first()
    return found


def dropped_summary(period: Period, *, limit: int = 10) -> DroppedSummary:
    """What was not counted in the period, per reason, and the bots that came most."""
    in_period = Dropped.objects.filter(day__gte=period.start, day__lte=period.end)
    per_reason = dict(in_period.values("reason").annotate(n=Sum("count")).values_list("reason", "n"))
    reasons = [
        ReasonCount(reason.value, str(reason.label), int(per_reason[reason.value]))
        for reason in Dropped.Reason
        if per_reason.get(reason.value)
    ]
    bots = [
        (agent, int(n))
        for agent, n in in_period.filter(reason=Dropped.Reason.BOT)
        .values("agent")
        .annotate(n=Sum("count"))
        .order_by("-n", "agent")
        .values_list("agent", "n")[:limit]
    ]
    return DroppedSummary(total=sum(r.count for r in reasons), reasons=reasons, bots=bots)


REALTIME_MINUTES = 30


@dataclass(frozen=True)
class RightNow:
    """Visitors and page views of the last minutes, counted from the raw hits."""

    minutes: int
    visitors: int
    pageviews: int


def right_now(now: dt.datetime | None = None, *, minutes: int = REALTIME_MINUTES) -> RightNow:
    """The last ``minutes`` of visits, from the raw hits (kept a month, P12): a visitor is one
    daily pseudonym, so someone who stays over midnight counts twice."""
    now = now or timezone.now()
    counted = Hit.objects.filter(at__gt=now - dt.timedelta(minutes=minutes), at__lte=now, kind=Hit.Kind.PAGEVIEW)
    # Page views per visitor, then those added up: a hashed GROUP BY, where COUNT(DISTINCT …) sorts every
    # hash (82,000 page views in the half hour, stored in time order: 52 → 27 ms on PostgreSQL).
    per_visitor = counted.order_by().values("visitor").annotate(views=Count("id"))
    found = per_visitor.aggregate(pageviews=Sum("views"), visitors=Count("visitor"))
    return RightNow(minutes=minutes, visitors=found["visitors"] or 0, pageviews=found["pageviews"] or 0)


def dashboard(period: Period, *, top: int = 10, filters: Mapping[str, str] | None = None) -> Dashboard:
    """Everything the dashboard shows for ``period``, compared with the period of equal length before it.

    Fifteen queries, whatever the amount of data: the totals of both periods, the
    series, one per top list, the number of values per list, and two for what was dropped.
    With ``filters`` the totals, series and lists are those of the visits the filters select,
    read from the cube (no visitor figure) in three queries: the series (whose sum is the
    period's totals) and every entry value's list in one, the pages' and the goals' lists in one,
    and the previous period's totals; what was dropped is not split by entry values.
    """
    previous = period.previous()
    filters = dict(filters or {})
    check_filters(filters)
    if filters:
        totals, days, lists = _cube_board(period, filters, top=top)
        previous_totals = _cube_totals(previous, filters)
    else:
        totals, previous_totals = _totals_of_two(period, previous)
        distinct = _distinct_values(period)
        days = daily_series(period)
        lists = {
            str(dimension): TopList(
                str(dimension), top_values(period, dimension, limit=top, totals=totals), distinct.get(str(dimension), 0)
            )
            for dimension in TOP_DIMENSIONS
        }

    return Dashboard(
        period=period,
        previous_period=previous,
        totals=totals,
        previous_totals=previous_totals,
        metrics=_metrics(totals, previous_totals),
        days=days,
        top=lists,
        dropped=dropped_summary(period, limit=top),
        filters=filters,
    )


EXPORT_COLUMNS = ("day", "dimension", "value", *COUNTS)


def export_rows(period: Period) -> Iterator[tuple[object, ...]]:
    """Every aggregate of the period: one row per day, dimension and value, with all counts."""
    return (
        DailyStat.objects.filter(day__gte=period.start, day__lte=period.end)
        .order_by("day", "dimension", "value")
        .values_list(*EXPORT_COLUMNS)
        .iterator(chunk_size=2000)
    )


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.READ_ANALYTICS):
        return []
    today = timezone.localdate()
    week = Period(today - dt.timedelta(days=TILE_DAYS - 1), today)
    return [
        Tile(
            _("Analytics"),
            _("Visitors in the last 7 days; pages, sources and what was not counted."),
            reverse("analytics_staff:dashboard"),
            period_totals(week).visitors,
        )
    ]
