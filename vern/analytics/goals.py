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
import itertools
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.db import transaction
from django.db.models import Case, F, Min, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.analytics import selectors
from vern.analytics.buffer import BUFFER
from vern.analytics.models import DailyStat, EntryStat, Hit, PatternReach, ReachStat, TotalledDay
from vern.analytics.reading_models import Goal, GoalCount
from vern.analytics.salts import visitor_hashes
from vern.analytics.selectors import Period
from vern.analytics.sqlaggregate import SPLITS
from vern.lib.days import day_start, local_day
from vern.lib.ip import client_ip_shortened

VISIT_PAUSE = dt.timedelta(minutes=30)  # as in the aggregation: a pause this long begins a new visit
CAMPAIGN_PARAMETER = "utm_campaign"

# The events vern itself knows of without asking any app: none. Each app names its own on its surface.
PAGE_PATTERN = re.compile(r"^/[^\s]*$")
# Up to this many paths are looked up by name (an index); more, and every page's row is read instead.
IN_LIST = 500


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


def _matching(patterns: Mapping[str, str], pages: Iterable[str]) -> dict[str, list[str]]:
    """Each page that some patterns match → the keys of those patterns (a page may match several)."""
    compiled = [(key, re.compile(pattern_regex(pattern))) for key, pattern in patterns.items()]
    found: dict[str, list[str]] = {}
    for page in pages:
        keys = [key for key, regex in compiled if regex.match(page)]
        if keys:
            found[page] = keys
    return found


def _pages_seen(days: Period) -> QuerySet[DailyStat, str]:
    """The paths of the pages seen on ``days``, each once: a few thousand at most, however busy the site."""
    return (
        DailyStat.objects.filter(dimension=DailyStat.Dimension.PAGE, **_in(days))
        .order_by()
        .values_list("value", flat=True)
        .distinct()
    )


def _page_conversions(page_goals: Mapping[str, str], periods: Sequence[Period]) -> dict[tuple[str, Period], int]:
    """(goal's key, period) → the visits that saw a page its pattern matches (a visit that saw two
    such pages counts twice), for periods that do not overlap. The daily totals of the pages are
    added up per page and period in one query for every goal (a few thousand rows: one per page
    seen), and each path is matched once in Python, rather than a regular expression run in the
    database over every page's rows for each goal and period."""
    found = {(key, period): 0 for key in page_goals for period in periods}
    if not page_goals or not periods:
        return found
    ordered = sorted(periods, key=lambda p: p.start)
    if any(later.start <= earlier.end for earlier, later in itertools.pairwise(ordered)):
        raise ValueError("the periods overlap")
    span = Period(ordered[0].start, ordered[-1].end)
    rows = DailyStat.objects.filter(dimension=DailyStat.Dimension.PAGE, **_in(span))
    which = Case(*(When(**_in(p), then=Value(i)) for i, p in enumerate(periods)), default=Value(-1))
    per_page = [
        (value, index, int(n or 0)) for value, index, n in rows.values_list("value", which).annotate(n=Sum("visits"))
    ]
    matching = _matching(page_goals, {value for value, _, _ in per_page})
    for value, index, visits in per_page:
        if index >= 0:
            for key in matching.get(value, ()):
                found[(key, periods[index])] += visits
    return found


def conversions(goal: Goal, period: Period) -> int:
    if goal.kind == Goal.Kind.SERVER:
        found = GoalCount.objects.filter(event=goal.match, **_in(period)).aggregate(n=Sum("count", default=0))
    elif goal.kind == Goal.Kind.EVENT:
        found = DailyStat.objects.filter(dimension=DailyStat.Dimension.GOAL, value=goal.match, **_in(period)).aggregate(
            n=Sum("visits", default=0)
        )
    else:
        return _page_conversions({goal.match: goal.match}, [period])[(goal.match, period)]
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
    every = list(Goal.objects.all())
    pages = _page_conversions({str(g.pk): g.match for g in every if g.kind == Goal.Kind.PAGE}, (period, previous))

    def count(goal: Goal, when: Period) -> int:
        return pages[(str(goal.pk), when)] if goal.kind == Goal.Kind.PAGE else conversions(goal, when)

    return [GoalResult(goal, count(goal, period), count(goal, previous), visits, previous_visits) for goal in every]


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


Counts = dict[tuple[str, str], int]  # (split, split value) -> visits


def page_reach(patterns: Collection[str], days: Period, *, store: bool = False) -> dict[str, Counts]:
    """pattern → (split, split value) → the visits over ``days`` that saw a page the pattern matches,
    per source, campaign source and campaign (a visit that saw two such pages counts twice).

    Read from ``PatternReach`` for each day whose rows were added up from that day's current totals
    (their ``totalled_at`` is the day's); any other day is added up here from ``ReachStat``, and with
    ``store`` (the hourly job, a goal being added) kept for next time. A day's ``totalled_at`` is
    read before its rows, so rows stored from totals written meanwhile carry the older time and are
    added up again at the next read: never trusted, only redone.
    """
    found: dict[str, Counts] = {pattern: defaultdict(int) for pattern in patterns}
    if not patterns:
        return found
    versions = dict(TotalledDay.objects.filter(**_in(days)).values_list("day", "totalled_at"))
    done: set[tuple[str, dt.date]] = set()
    for pattern, day, totalled_at, split, value, visits in PatternReach.objects.filter(
        pattern__in=list(patterns), **_in(days)
    ).values_list("pattern", "day", "totalled_at", "split", "split_value", "visits"):
        if versions.get(day) == totalled_at:
            done.add((pattern, day))
            if split:
                found[pattern][(split, value)] += visits
    missing = {(pattern, day) for pattern in patterns for day in days.dates() if (pattern, day) not in done}
    if not missing:
        return found
    missing_days = sorted({day for _, day in missing})
    added: dict[tuple[str, dt.date], Counts] = {key: defaultdict(int) for key in missing}
    # The pages seen from the first missing day to the last: some may be of a day not missing, which
    # only costs a name in the lookup below.
    pages = _pages_seen(Period(missing_days[0], missing_days[-1]))
    matching = _matching({pattern: pattern for pattern in patterns}, pages)
    if matching:
        rows = ReachStat.objects.filter(dimension=DailyStat.Dimension.PAGE, day__in=missing_days)
        if len(matching) <= IN_LIST:
            rows = rows.filter(value__in=list(matching))
        for day, page, split, value, visits in rows.values_list("day", "value", "split", "split_value", "visits"):
            for pattern in matching.get(page, ()):
                if (pattern, day) in added:
                    added[(pattern, day)][(split, value)] += visits
    for (pattern, _day), counts in added.items():
        for key, visits in counts.items():
            found[pattern][key] += visits
    if store:
        _keep(added, versions)
    return found


def _keep(added: Mapping[tuple[str, dt.date], Counts], versions: Mapping[dt.date, dt.datetime]) -> None:
    """Store what ``page_reach`` added up, each day under the ``totalled_at`` read before its rows."""
    rows = []
    with transaction.atomic():
        for (pattern, day), counts in added.items():
            if day not in versions:  # totalled before TotalledDay existed: added up at each read
                continue
            PatternReach.objects.filter(pattern=pattern, day=day).exclude(totalled_at=versions[day]).delete()
            rows.append(PatternReach(pattern=pattern, day=day, totalled_at=versions[day]))  # added up, maybe to nothing
            rows += [
                PatternReach(
                    pattern=pattern, day=day, totalled_at=versions[day], split=split, split_value=value, visits=n
                )
                for (split, value), n in counts.items()
            ]
        # Another process may be adding up the same day from the same totals: the same rows.
        PatternReach.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def refresh_page_reach(today: dt.date) -> int:
    """Add up every page-view goal's pattern for each day the cube has that is not added up from its
    current totals (the hourly job, after the aggregation); forget the patterns no goal has. Returns
    the number of patterns."""
    patterns = set(Goal.objects.filter(kind=Goal.Kind.PAGE).values_list("match", flat=True))
    PatternReach.objects.exclude(pattern__in=patterns).delete()
    days = _cube_days(Period(dt.date.min, today))
    if days is not None and patterns:
        page_reach(patterns, days, store=True)
    return len(patterns)


def _per_split(rows: QuerySet[EntryStat]) -> Iterator[tuple[str, str, str, int]]:
    """(value, split, split value, visits) of cube rows, added up per value and each split's column."""
    for reached, *values, n in rows.values_list("value", *SPLITS).annotate(n=Sum("visits")):
        for split, value in zip(SPLITS, values, strict=True):
            yield reached, split, value, int(n or 0)


# What a conversion rate is split by: the visit's source (search, social, direct, other sites),
# its campaign's source, and its campaign (``ReachStat.Split``, the cube's columns of those names).
RATE_DIMENSIONS = SPLITS


def conversion_rates(
    period: Period, filters: Mapping[str, str] | None = None, *, limit: int | None = 10
) -> list[SourceConversion]:
    """For each goal the beacon sees (a page-view goal, and each goal fired from the page), the visits
    that reached it per source, campaign source and campaign, against the visits each brought.

    Unfiltered, from the cube's rows added up per source (``ReachStat``) and the daily totals, over
    the days the cube still has, so that the visits and the conversions cover the same days: a few
    rows per page and source a day, however many visits. Filtered, from the cube (``EntryStat``),
    so any filter applies. Server-event goals are not hits, so they are not in the cube: ``by_source``
    has them. A page-view goal counts the visits that saw a matching page; a visit that saw two
    matching pages counts twice, as in ``results``, and the rate is capped at 100 %.
    """
    filters = dict(filters or {})
    page_goals = dict(Goal.objects.filter(kind=Goal.Kind.PAGE).values_list("name", "match"))
    # A name fired from the page is shown by the name staff gave its click goal, where there is one.
    click_goals = dict(Goal.objects.filter(kind=Goal.Kind.EVENT).values_list("match", "name"))
    days = _cube_days(period)
    if days is None:
        return []
    visits: dict[tuple[str, str], int] = defaultdict(int)  # (dimension, value) -> visits
    # (kind, goal, dimension, value) -> visits: a page-view goal and a name fired from the page that no
    # goal names may read the same, and stay two rows, as they are two things.
    reached: dict[tuple[str, str, str, str], int] = defaultdict(int)
    fired: Iterable[tuple[str, str, str, int]]  # (goal's name as fired, split, split value, visits)
    if filters:
        cube = selectors.cube_rows(period, filters)
        in_cube = cube.filter(dimension=DailyStat.Dimension.TOTAL).values_list(*SPLITS).annotate(n=Sum("visits"))
        for *values, n in in_cube:
            for dimension, value in zip(SPLITS, values, strict=True):
                visits[(dimension, value)] += int(n or 0)
        fired = _per_split(cube.filter(dimension=DailyStat.Dimension.GOAL))
        matching = _matching(page_goals, _pages_seen(days)) if page_goals else {}
        if matching:
            pages = cube.filter(dimension=DailyStat.Dimension.PAGE)
            if len(matching) <= IN_LIST:  # else all pages' rows, matched below
                pages = pages.filter(value__in=list(matching))
            for page, split, value, n in _per_split(pages):
                for name in matching.get(page, ()):
                    reached[(Goal.Kind.PAGE, name, split, value)] += n
    else:
        daily = DailyStat.objects.filter(dimension__in=SPLITS, **_in(days)).values_list("dimension", "value")
        for dimension, value, n in daily.annotate(total=Sum("visits")):
            visits[(dimension, value)] += int(n or 0)
        goal_rows = ReachStat.objects.filter(dimension=DailyStat.Dimension.GOAL, **_in(days))
        fired = (
            (name, split, value, int(n or 0))
            for name, split, value, n in goal_rows.values_list("value", "split", "split_value").annotate(
                n=Sum("visits")
            )
        )
        if page_goals:
            per_pattern = page_reach(set(page_goals.values()), days)
            for name, pattern in page_goals.items():
                for (split, value), n in per_pattern[pattern].items():
                    reached[(Goal.Kind.PAGE, name, split, value)] += n
    for name, split, value, n in fired:
        reached[(Goal.Kind.EVENT, click_goals.get(name, name), split, value)] += n
    # A source none of whose visits reached the goal is not listed (a page row of the cube counts 0
    # visits when the page was only reported engaged, never viewed).
    rows = [
        SourceConversion(goal, dimension, value, n, visits.get((dimension, value), 0))
        for (_kind, goal, dimension, value), n in reached.items()
        if n
    ]
    rows.sort(key=lambda row: (-row.conversions, row.goal, RATE_DIMENSIONS.index(row.dimension), row.value))
    return rows if limit is None else rows[:limit]
