"""From a day's raw hits to its anonymous totals: visits, bounces, engaged time, per page and per source.

A visit is a visitor's run of hits without a pause of 30 minutes or more. It is
worked out here, from the stored hits, rather than in the web processes: several
processes (and servers) take hits, and only the database sees them all.

A visit belongs to the day (Europe/Oslo) on which it began. One going on at
midnight is followed into the next day, across the change of salt: a hit in the
first 30 minutes of a day carries the visitor's hash under the previous salt too
(``visitor_prev``), which joins it to the visit that was going on. So a day's
totals change once more after midnight, and the worker aggregates today and
yesterday every hour; older days are final.

Its duration is the engaged time the beacon reported (time the page was visible),
so a visit of one page has a real duration, not the 0 s of "last hit − first hit".
It bounced when it had one page view. The totals hold no IP address and no
visitor hash; a day is replaced as a whole, so aggregating twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from vern.analytics import sqlaggregate
from vern.analytics.models import DailyStat, EntryStat, Hit, HourlyStat, PatternReach, ReachStat, TotalledDay
from vern.analytics.salts import CARRY_OVER
from vern.declaration.durations import Duration
from vern.lib.days import day_start, local_day

Dimension = DailyStat.Dimension
FOLLOW_INTO_NEXT_DAY = dt.timedelta(hours=6)  # how far a visit going on at midnight is followed
_FIELDS = (
    "visitor",
    "at",
    "kind",
    "path",
    "referrer_host",
    "browser",
    "os",
    "device",
    "engaged_ms",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "country",
    "goal",
)


@dataclass
class _Row:
    visitor: str
    at: dt.datetime
    kind: int
    path: str
    referrer_host: str
    browser: str
    os: str
    device: str
    engaged_ms: int
    channel: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    country: str
    goal: str


@dataclass
class _Visit:
    rows: list[_Row] = field(default_factory=list)

    @property
    def pageviews(self) -> list[_Row]:
        return [row for row in self.rows if row.kind == Hit.Kind.PAGEVIEW]


@dataclass
class _Tally:
    visitors: set[str] = field(default_factory=set)
    visits: int = 0
    pageviews: int = 0
    bounces: int = 0
    duration_ms: int = 0


def _rows(query: Iterable[tuple]) -> Iterator[_Row]:  # type: ignore[type-arg]
    for values in query:
        yield _Row(*values)


def _last_seen(start: dt.datetime, end: dt.datetime) -> dict[str, dt.datetime]:
    """Each visitor's last hit in [start, end)."""
    found = Hit.objects.filter(at__gte=start, at__lt=end).values("visitor").annotate(last=Max("at"))
    return {item["visitor"]: item["last"] for item in found}


def _continuing(midnight: dt.datetime) -> dict[str, tuple[str, dt.datetime]]:
    """Visits going on at ``midnight``: after-midnight hash → (before-midnight hash, last hit before)."""
    before = _last_seen(midnight - CARRY_OVER, midnight)
    if not before:
        return {}
    joined: dict[str, tuple[str, dt.datetime]] = {}
    after = Hit.objects.filter(at__gte=midnight, at__lt=midnight + CARRY_OVER).values_list("visitor", "visitor_prev")
    for visitor, previous in after.distinct():
        if visitor in before:  # the same hash on both sides (a visitor cookie)
            joined.setdefault(visitor, (visitor, before[visitor]))
        elif previous in before:
            joined.setdefault(visitor, (previous, before[previous]))
    return joined


def _visits(rows: list[_Row], last_before: dt.datetime | None) -> list[_Visit]:
    """Split one visitor's hits (in time order) at every pause of 30 minutes or more.

    With ``last_before`` (the visitor's last hit before midnight), the hits that carry on
    that visit are left out: it began the day before, and is counted there.
    """
    visits: list[_Visit] = []
    previous = last_before
    for row in rows:
        if previous is None or _began(row) - previous >= CARRY_OVER:
            visits.append(_Visit())
        if visits:
            visits[-1].rows.append(row)
        previous = row.at
    return visits


def _began(row: _Row) -> dt.datetime:
    """When the visitor was last active before this hit: an engagement report arrives when they
    leave the page, so a page read for 40 minutes is one visit, not a view and a lone report."""
    return row.at - dt.timedelta(milliseconds=row.engaged_ms) if row.kind == Hit.Kind.ENGAGEMENT else row.at


def visits_of_day(day: dt.date) -> Iterator[tuple[str, _Visit]]:
    """(visitor, visit) for every visit that began on ``day``, followed past midnight where it goes on."""
    start, end = day_start(day), day_start(day + dt.timedelta(days=1))
    from_yesterday = _continuing(start)  # after-midnight hash → (hash before, last hit before)
    into_tomorrow = {before: after for after, (before, _) in _continuing(end).items()}
    tomorrow_rows: dict[str, list[_Row]] = defaultdict(list)
    if into_tomorrow:
        query = (
            Hit.objects.filter(visitor__in=list(into_tomorrow.values()), at__gte=end, at__lt=end + FOLLOW_INTO_NEXT_DAY)
            .order_by("visitor", "at", "id")
            .values_list(*_FIELDS)
        )
        for row in _rows(query):
            tomorrow_rows[row.visitor].append(row)

    query = Hit.objects.filter(at__gte=start, at__lt=end).order_by("visitor", "at", "id").values_list(*_FIELDS)
    current: list[_Row] = []
    for row in _rows(query.iterator(chunk_size=5000)):
        if current and row.visitor != current[0].visitor:
            yield from _visitor_visits(current, from_yesterday, into_tomorrow, tomorrow_rows)
            current = []
        current.append(row)
    if current:
        yield from _visitor_visits(current, from_yesterday, into_tomorrow, tomorrow_rows)


def _visitor_visits(
    rows: list[_Row],
    from_yesterday: dict[str, tuple[str, dt.datetime]],
    into_tomorrow: dict[str, str],
    tomorrow_rows: dict[str, list[_Row]],
) -> Iterator[tuple[str, _Visit]]:
    visitor = rows[0].visitor
    last_before = from_yesterday[visitor][1] if visitor in from_yesterday else None
    visits = _visits(rows, last_before)
    following = tomorrow_rows.get(into_tomorrow.get(visitor, ""), [])
    if visits and following:
        last = visits[-1]
        for row in following:  # the visit goes on after midnight until its first pause
            if _began(row) - last.rows[-1].at >= CARRY_OVER:
                break
            last.rows.append(row)
    for visit in visits:
        if visit.pageviews:  # engaged time alone, without its page view, is not a visit
            yield visitor, visit


# What a visit's entry hit holds for each dimension a breakdown can be filtered by.
ENTRY_VALUE: dict[str, Callable[[_Row], str]] = {
    Dimension.ENTRY: lambda row: row.path,
    Dimension.REFERRER: lambda row: row.referrer_host,
    Dimension.BROWSER: lambda row: row.browser,
    Dimension.OS: lambda row: row.os,
    Dimension.DEVICE: lambda row: row.device,
    # A hit stored before the channel existed: "direct" without a referrer, else "other" (docs/analytics.md).
    Dimension.CHANNEL: lambda row: row.channel or ("other" if row.referrer_host else "direct"),
    Dimension.UTM_SOURCE: lambda row: row.utm_source,
    Dimension.UTM_MEDIUM: lambda row: row.utm_medium,
    Dimension.UTM_CAMPAIGN: lambda row: row.utm_campaign,
    Dimension.COUNTRY: lambda row: row.country,
}


def tally_day(day: dt.date, filters: Mapping[str, str] | None = None) -> dict[tuple[str, str], _Tally]:
    """The day's totals per dimension value; with ``filters``, of the visits whose entry hit has
    every one of those values (``ENTRY_VALUE``)."""
    tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    tallies[(Dimension.TOTAL, "")]  # a day without visits still gets its (empty) total
    wanted = [(ENTRY_VALUE[name], value) for name, value in (filters or {}).items()]
    for visitor, visit in visits_of_day(day):
        pageviews = visit.pageviews
        entry = pageviews[0]
        if wanted and not all(value_of(entry) == value for value_of, value in wanted):
            continue
        bounced = len(pageviews) == 1
        duration = sum(row.engaged_ms for row in visit.rows)
        for key in [(Dimension.TOTAL, ""), *((name, value_of(entry)) for name, value_of in ENTRY_VALUE.items())]:
            tally = tallies[key]
            tally.visitors.add(visitor)
            tally.visits += 1
            tally.pageviews += len(pageviews)
            tally.bounces += bounced
            tally.duration_ms += duration
        for path in {row.path for row in pageviews}:
            page = tallies[(Dimension.PAGE, path)]
            page.visitors.add(visitor)
            page.visits += 1
            page.bounces += bounced
        for row in pageviews:
            tallies[(Dimension.PAGE, row.path)].pageviews += 1
        for row in visit.rows:
            if row.kind == Hit.Kind.ENGAGEMENT:
                tallies[(Dimension.PAGE, row.path)].duration_ms += row.engaged_ms
        goals = [row.goal for row in visit.rows if row.kind == Hit.Kind.GOAL and row.goal]
        for name in set(goals):  # a goal counts once per visit, and its firings as "page views"
            goal = tallies[(Dimension.GOAL, name)]
            goal.visitors.add(visitor)
            goal.visits += 1
            goal.pageviews += goals.count(name)
            goal.bounces += bounced
            goal.duration_ms += duration
    return tallies


def aggregate_day(day: dt.date, *, unless_unchanged: bool = False) -> int:
    """Replace ``day``'s totals, cube and hourly totals with ones worked out afresh from its hits,
    by the database (``sqlaggregate``); returns the day's visits. Rerunning it gives the same
    totals, and a hit stored late for a day already totalled is counted once, at the next run.

    With ``unless_unchanged`` (the hourly job) a day is left as it is when the hits in its window
    are the ones its totals were worked out from (``TotalledDay``): yesterday, once no visit
    goes on from it and no late hit comes, costs one count instead of a day's work (ADR 0026).
    """
    with transaction.atomic():
        # Counted before anything is read, and again once the totals are written (below): unless
        # both agree (a hit another process stored or deleted meanwhile), the day is not settled
        # and the next run works it out again (ADR 0026).
        hits, id_sum, newest = sqlaggregate.counted(day)
        if unless_unchanged:
            same = TotalledDay.objects.filter(
                day=day, hits=hits, id_sum=id_sum, newest=newest, rules=sqlaggregate.RULES, settled=True
            ).exists()
            if same and (visits := _visits_of(day)) is not None:
                return visits
        DailyStat.objects.filter(day=day).delete()
        EntryStat.objects.filter(day=day).delete()
        HourlyStat.objects.filter(day=day).delete()
        ReachStat.objects.filter(day=day).delete()
        sqlaggregate.insert_day(day)
        # The row is locked before the second count: a late hit's writer that marked it not settled
        # (``unsettle``) has then committed that hit, and this count sees it. Made if it is missing
        # (an upsert, as ``unsettle`` makes it), so that a writer's new row cannot slip in unlocked.
        TotalledDay.objects.bulk_create(
            [_unsettled(day)], update_conflicts=True, unique_fields=["day"], update_fields=["settled"]
        )
        TotalledDay.objects.update_or_create(
            day=day,
            defaults={
                "hits": hits,
                "id_sum": id_sum,
                "newest": newest,
                "rules": sqlaggregate.RULES,
                # Not settled when hits were stored or deleted while the day was worked out
                # (another process's commit): which of them these totals hold is not known, so
                # the next run works the day out again.
                "settled": sqlaggregate.counted(day) == (hits, id_sum, newest),
                "totalled_at": timezone.now(),
            },
        )
        return _visits_of(day) or 0


def _visits_of(day: dt.date) -> int | None:
    """The visits of ``day``'s stored totals; None when it has none."""
    total = DailyStat.objects.filter(day=day, dimension=Dimension.TOTAL, value="").values_list("visits", flat=True)
    return total.first()


def aggregate_day_in_python(day: dt.date) -> int:
    """The same totals worked out in Python, row by row: the reference the SQL is tested against."""
    tallies = tally_day(day)
    rows = [
        DailyStat(
            day=day,
            dimension=dimension,
            value=value[:600],
            visitors=len(tally.visitors),
            visits=tally.visits,
            pageviews=tally.pageviews,
            bounces=tally.bounces,
            duration_ms=tally.duration_ms,
        )
        for (dimension, value), tally in tallies.items()
    ]
    with transaction.atomic():
        DailyStat.objects.filter(day=day).delete()
        DailyStat.objects.bulk_create(rows, batch_size=1000)
    return tallies[(Dimension.TOTAL, "")].visits


def analyze_totals() -> None:
    """Fresh planner statistics on the totals, at once: the dashboard's plans must not wait for
    autovacuum to notice the rows the aggregation replaced (issue 20: 480 ms before, 279 ms after)."""
    with connection.cursor() as cursor:
        for model in (DailyStat, EntryStat, HourlyStat, ReachStat, PatternReach):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# A hit written this long after its time was kept somewhere (a spool, a process's memory) while
# the database was away; the usual batch is a second or two old.
LATE = dt.timedelta(minutes=5)


def unsettle(moments: list[dt.datetime], now: dt.datetime | None = None) -> None:
    """Mark every day before today whose totals read hits of these times, when they come late, as
    not settled, so that the hourly job works it out again however old it is: hits stored after
    an outage, from a spool or a buffer that kept them (ADR 0026). Yesterday too: the job's
    next run may come after midnight, when it is the day before yesterday.

    Called with every batch of hits written, so the usual batch (nothing older than ``LATE``)
    costs one ``min`` and no query."""
    now = now or timezone.now()
    if not moments or min(moments) >= now - LATE:
        return
    spans: dict[dt.date, tuple[dt.datetime, dt.datetime]] = {}  # day -> its earliest and latest late hit
    for at in moments:
        if at < now - LATE:
            day = local_day(at)
            earliest, latest = spans.get(day, (at, at))
            spans[day] = (min(earliest, at), max(latest, at))
    days: set[dt.date] = set()
    one = dt.timedelta(days=1)
    for day, (earliest, latest) in spans.items():
        days.add(day)
        if earliest < sqlaggregate.window(day - one)[1]:  # before 06:00: the day before's too
            days.add(day - one)
        if latest >= sqlaggregate.window(day + one)[0]:  # after 23:30: the next day's too
            days.add(day + one)
    today = local_day(now)
    if older := sorted(day for day in days if day < today):
        # An upsert, not an update: a day totalled before ``TotalledDay`` existed has no row yet, and
        # must be worked out again all the same. Its stand-in figures match no count (``rules`` 0).
        TotalledDay.objects.bulk_create(
            [_unsettled(day) for day in older], update_conflicts=True, unique_fields=["day"], update_fields=["settled"]
        )


def _unsettled(day: dt.date) -> TotalledDay:
    return TotalledDay(day=day, hits=0, id_sum=0, newest=0, rules=0, settled=False)


def days_to_aggregate(now: dt.datetime, cube_from: dt.date | None = None) -> list[dt.date]:
    """Today and yesterday (they may still change), and any older day with hits but no totals yet,
    with totals but no cube (totalled before the cube existed, ADR 0023), or not settled (hits
    were stored in its window after it was worked out, ADR 0026).

    A day's cube is redone only while all its hits are there: the first day left may have lost its
    early hits to the retention sweep, and redoing it would replace its totals with partial ones.
    Nor is a day before ``cube_from`` (the first day whose raw hits are kept) redone, for its cube
    or for a late hit: its cube was deleted on purpose (``forget_old_cube``), and the hits left of
    such a day (the sweep is behind, or a hold keeps some) would give partial totals.
    """
    today = local_day(now)
    days = {today, today - dt.timedelta(days=1)}
    first = Hit.objects.aggregate(first=Min("at"))["first"]
    if first is not None:
        start = local_day(first)
        totalled = dict(
            DailyStat.objects.filter(dimension=Dimension.TOTAL, day__gte=start).values_list("day", "visits")
        )
        in_cube = set(
            EntryStat.objects.filter(dimension=Dimension.TOTAL, day__gte=start).values_list("day", flat=True).distinct()
        )
        unsettled = set(
            TotalledDay.objects.filter(settled=False, day__gt=start, day__lt=today).values_list("day", flat=True)
        )
        day = start
        while day < today:
            cube_missing = day not in in_cube and (cube_from is None or day >= cube_from)
            if day not in totalled or (day > start and totalled[day] > 0 and cube_missing):
                days.add(day)
            day += dt.timedelta(days=1)
        # Not a day past the hits' month either: its other hits are being swept, so a late one would
        # turn its totals into those of the few left.
        days |= {day for day in unsettled if cube_from is None or day >= cube_from}
    return sorted(days)


def forget_old_cube(now: dt.datetime, period: Duration | None) -> int:
    """Delete the cube's days that the raw hits' retention period has passed; returns rows deleted.

    The cube crosses all of a visit's entry values, so on a small site a row is often a single
    visit: it is kept no longer than the hits it was counted from (P12: after that only the daily
    totals remain, which add every visit of a value up). Filtered breakdowns reach back as far.
    What a day was worked out from (``TotalledDay``) goes once none of its hits is left: while some
    are (the sweep is behind, or a hold keeps some), a late hit for that day still finds its record.
    """
    if period is None:
        return 0
    first_kept = local_day(period.before(now))
    first_hit = Hit.objects.aggregate(first=Min("at"))["first"]
    gone = min(first_kept, local_day(first_hit)) if first_hit is not None else first_kept
    with transaction.atomic():  # the rows added up from the cube go with it, so both cover the same days
        TotalledDay.objects.filter(day__lt=gone).delete()
        ReachStat.objects.filter(day__lt=first_kept).delete()
        PatternReach.objects.filter(day__lt=first_kept).delete()
        deleted, _ = EntryStat.objects.filter(day__lt=first_kept).delete()
    return deleted
