"""Counts of the cookie decisions of a period, from the proof chain, for the statistics dashboard.

Given to other apps through the surface (``Surface.consent_statistics``): analytics reads counts,
never a consent id, and never imports this app. A decision is a choice a visitor made on the
banner, the settings page, the API or an embedded banner, or the refusal a browser's Global
Privacy Control signal made (``accept_all``, ``reject_all``, ``custom``, ``gpc``); a withdrawal
or an expiry is not counted. Days are Europe/Oslo days, both ends included.

Every hour the job ``consent.totals`` counts each day that is over, and today up to an hour that
has passed, into ``DecisionTotal``: one row per combination of banner revision, language, GPC and
categories, a few dozen a day however many decisions there were. The statistics add those rows
up, and count the rest (the decisions since today's count, a day not counted yet, a day a late
decision came for) from the events, grouped by the database. So the dashboard reads a handful of
rows per day and at most an hour or so of decisions, not every decision of the period (ADR 0027).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.utils import timezone

from vern.consent.models import ConsentEvent, DecisionDay, DecisionTotal
from vern.lib.days import day_start, local_day
from vern.registry.surface import ConsentRate, ConsentStatistics

DECISIONS = (
    ConsentEvent.Action.ACCEPT_ALL,
    ConsentEvent.Action.REJECT_ALL,
    ConsentEvent.Action.CUSTOM,
    ConsentEvent.Action.GPC,
)
ONE_DAY = dt.timedelta(days=1)
# Decisions are counted up to an hour that ended at least this long ago: one made just before it
# is stored by then.
SETTLE = dt.timedelta(minutes=5)
# A decision stored this long after it was made may have missed a count, and marks its day. Well
# under SETTLE: a decision that checked its age just before a count would still have to take the
# difference to commit to be missed.
LATE = dt.timedelta(minutes=1)

# (banner revision, language, GPC sent, categories allowed, categories refused): one combination.
Combination = tuple[int, str, bool, tuple[str, ...], tuple[str, ...]]


def _rates(decided: Counter[str], accepted: Counter[str]) -> tuple[ConsentRate, ...]:
    return tuple(ConsentRate(value, decided[value], accepted[value]) for value in sorted(decided))


def _events(since: dt.datetime, until: dt.datetime) -> Counter[Combination]:
    """The decisions made from ``since`` until (before) ``until``, per combination, counted by the
    database; one count per combination, though the events may list its categories in another order."""
    grouped = (
        ConsentEvent.objects.filter(created_at__gte=since, created_at__lt=until, action__in=DECISIONS)
        .values_list("consent_revision", "language", "gpc", "granted", "refused")
        .annotate(n=Count("id"))
        .order_by()
    )
    combinations: Counter[Combination] = Counter()
    for revision, language, gpc, granted, refused, n in grouped:
        key = (int(revision), language, bool(gpc), tuple(sorted(granted or ())), tuple(sorted(refused or ())))
        combinations[key] += int(n)
    return combinations


def _stored(start: dt.date, end: dt.date) -> tuple[dict[dt.date, dt.datetime], Counter[Combination]]:
    """The counted rows of the days from ``start`` to ``end``, and how far each of those days is
    counted: in one statement, so that a count the job commits meanwhile cannot pair one day's old
    ``until`` with its new rows (and so count an hour twice)."""
    counted_until = DecisionDay.objects.filter(day=OuterRef("day"), current=True).values("until")[:1]
    found = (
        DecisionTotal.objects.filter(day__gte=start, day__lte=end)
        .annotate(counted_until=Subquery(counted_until))
        .filter(counted_until__isnull=False)
        .values_list("day", "counted_until", "revision", "language", "gpc", "granted", "refused", "decisions")
    )
    counted: dict[dt.date, dt.datetime] = {}
    combinations: Counter[Combination] = Counter()
    for day, until, revision, language, gpc, granted, refused, n in found:
        counted[day] = until
        key = (int(revision), language, bool(gpc), tuple(json.loads(granted)), tuple(json.loads(refused)))
        combinations[key] += int(n)
    return counted, combinations


def _spans(start: dt.date, end: dt.date, counted: dict[dt.date, dt.datetime]) -> list[tuple[dt.datetime, dt.datetime]]:
    """What of the days from ``start`` to ``end`` is not counted, as (since, until) moments: a day
    not counted at all, and a counted day from its ``until`` on; adjacent spans joined."""
    spans: list[tuple[dt.datetime, dt.datetime]] = []
    for day in _days(start, end):
        since, until = counted.get(day, day_start(day)), day_start(day + ONE_DAY)
        if since < until:
            if spans and spans[-1][1] == since:
                spans[-1] = (spans[-1][0], until)
            else:
                spans.append((since, until))
    return spans


def statistics(start: dt.date, end: dt.date) -> ConsentStatistics:
    """The decisions recorded from ``start`` to ``end``, as counts: the counted part of each day from
    its totals and the rest from the events, each combination once."""
    # A day counted without a decision has no rows: it is read from its events, which are none
    # before its ``until`` and, after it, the ones to read anyway.
    counted, combinations = _stored(start, end)
    for since, until in _spans(start, end, counted):
        combinations.update(_events(since, until))
    return _statistics(combinations)


def _statistics(combinations: Counter[Combination]) -> ConsentStatistics:
    decisions = accepted_any = gpc = 0
    category_decided: Counter[str] = Counter()
    category_accepted: Counter[str] = Counter()
    revision_decided: Counter[str] = Counter()
    revision_accepted: Counter[str] = Counter()
    language_decided: Counter[str] = Counter()
    language_accepted: Counter[str] = Counter()
    for (revision, language, sent_gpc, granted, refused), n in combinations.items():
        allowed = n if granted else 0
        decisions += n
        gpc += n if sent_gpc else 0
        accepted_any += allowed
        for category in granted:
            category_decided[category] += n
            category_accepted[category] += n
        for category in refused:
            category_decided[category] += n
        revision_decided[str(revision)] += n
        revision_accepted[str(revision)] += allowed
        language_decided[language] += n
        language_accepted[language] += allowed
    return ConsentStatistics(
        decisions=decisions,
        accepted_any=accepted_any,
        gpc=gpc,
        by_category=_rates(category_decided, category_accepted),
        by_revision=_rates(revision_decided, revision_accepted),
        by_language=_rates(language_decided, language_accepted),
    )


def _marked(day: dt.date, *, current: bool, until: dt.datetime | None = None) -> DecisionDay:
    return DecisionDay(day=day, until=until or day_start(day), current=current, totalled_at=timezone.now())


def mark_to_count_again(days: Iterable[dt.date]) -> None:
    """Decisions of these days were stored late (from the spool, or after a long wait for the proof
    chain): their counts, if any, may not hold them, so the statistics read the days' events again
    until the job has counted them afresh.

    An upsert, in the caller's transaction: it locks the day's row, so a count under way either
    finishes first (and is then marked as not current) or waits and sees the new decisions."""
    DecisionDay.objects.bulk_create(
        [_marked(day, current=False) for day in sorted(set(days))],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["current"],
    )


def count_day(day: dt.date, until: dt.datetime | None = None) -> int:
    """Count ``day``'s decisions made before ``until`` (by default ``counted_until`` now) into
    ``DecisionTotal`` afresh; returns how many there were."""
    until = min(until or counted_until(timezone.now()), day_start(day + ONE_DAY))
    with transaction.atomic():
        # The day's row is locked first (see ``mark_to_count_again``), then the events are read.
        DecisionDay.objects.bulk_create(
            [_marked(day, current=False)], update_conflicts=True, unique_fields=["day"], update_fields=["current"]
        )
        # The last decision stored so far, read before the events: one stored after this count
        # has a higher number, however long after it was made (``days_to_count``).
        seq = ConsentEvent.objects.aggregate(last=Max("seq"))["last"] or 0
        DecisionTotal.objects.filter(day=day).delete()
        rows = [
            DecisionTotal(
                day=day,
                revision=revision,
                language=language,
                gpc=gpc,
                granted=json.dumps(list(granted)),
                refused=json.dumps(list(refused)),
                decisions=n,
            )
            for (revision, language, gpc, granted, refused), n in _events(day_start(day), until).items()
        ]
        DecisionTotal.objects.bulk_create(rows, batch_size=500)
        DecisionDay.objects.filter(day=day).update(current=True, until=until, seq=seq, totalled_at=timezone.now())
    return sum(row.decisions for row in rows)


def counted_until(now: dt.datetime) -> dt.datetime:
    """How far the decisions are counted at ``now``: the last full hour that ended at least ``SETTLE``
    ago. A decision made before it and stored later waited longer than that, and marks its day."""
    settled = (now - SETTLE).astimezone(dt.UTC)
    return settled.replace(minute=0, second=0, microsecond=0)


def days_to_count(now: dt.datetime) -> list[dt.date]:
    """The days with decisions not counted up to ``counted_until(now)`` (every day that is over, and
    today's hours that have passed), or not since a late one came, from the first decision kept."""
    first = ConsentEvent.objects.filter(action__in=DECISIONS).aggregate(first=Min("created_at"))["first"]
    until = counted_until(now)
    if first is None or first >= until:
        return []
    start, last = local_day(first), local_day(until)
    if day_start(last) == until:
        last -= ONE_DAY  # counted up to its midnight: that day has nothing counted yet
    counted = dict(DecisionDay.objects.filter(day__gte=start, current=True).values_list("day", "until"))
    due = [day for day in _days(start, last) if counted.get(day, day_start(day)) < min(until, day_start(day + ONE_DAY))]
    return sorted({*due, *_missed(now)})


# How long after a count a decision it should have held may still be stored: a day counted in the
# last RECHECK, and less than RECHECK after its ``until``, is looked at again every hour (about two
# days: yesterday and today; a day counted long after it ended cannot have missed such a decision).
RECHECK = dt.timedelta(hours=24)


def _missed(now: dt.datetime) -> list[dt.date]:
    """Days counted lately whose count missed a decision made before its ``until`` but stored after
    it (a higher ``seq``): one whose transaction took minutes to become visible (a stalled commit,
    a paused process), which neither the spool nor the ``LATE`` check marked."""
    recent = DecisionDay.objects.filter(current=True, totalled_at__gte=now - RECHECK).values_list(
        "day", "until", "seq", "totalled_at"
    )
    return [
        day
        for day, until, seq, totalled_at in recent
        if totalled_at - until < RECHECK
        and ConsentEvent.objects.filter(
            created_at__gte=day_start(day), created_at__lt=until, seq__gt=seq, action__in=DECISIONS
        ).exists()
    ]


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def count_days(now: dt.datetime | None = None) -> dict[str, int]:
    """Count what ``days_to_count`` gives (the job ``consent.totals``), each day up to ``counted_until``."""
    now = now or timezone.now()
    until = counted_until(now)
    return {day.isoformat(): count_day(day, until) for day in days_to_count(now)}
