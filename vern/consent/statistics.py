"""Counts of the cookie decisions of a period, from the proof chain, for the statistics dashboard.

Given to other apps through the surface (``Surface.consent_statistics``): analytics reads counts,
never a consent id, and never imports this app. A decision is a choice a visitor made on the
banner, the settings page, the API or an embedded banner, or the refusal a browser's Global
Privacy Control signal made (``accept_all``, ``reject_all``, ``custom``, ``gpc``); a withdrawal
or an expiry is not counted. Days are Europe/Oslo days, both ends included.

A day that is over is counted once, by the job ``consent.totals``, into ``DecisionTotal``: one row
per combination of banner revision, language, GPC and categories, a few dozen a day however many
decisions there were. The statistics add those rows up, and count the other days (today, a day
not counted yet, a day a late decision came for) from the events, grouped by the database. So
the dashboard reads a handful of rows per day instead of every decision of the period (ADR 0027).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from vern.consent.models import ConsentEvent, DecisionDay, DecisionTotal
from vern.registry.surface import ConsentRate, ConsentStatistics

OSLO = ZoneInfo("Europe/Oslo")
DECISIONS = (
    ConsentEvent.Action.ACCEPT_ALL,
    ConsentEvent.Action.REJECT_ALL,
    ConsentEvent.Action.CUSTOM,
    ConsentEvent.Action.GPC,
)
# A day is counted once it has been over this long: a decision made just before midnight is
# stored by then.
SETTLE = dt.timedelta(minutes=5)

# (banner revision, language, GPC sent, categories allowed, categories refused): one combination.
Combination = tuple[int, str, bool, tuple[str, ...], tuple[str, ...]]


def _rates(decided: Counter[str], accepted: Counter[str]) -> tuple[ConsentRate, ...]:
    return tuple(ConsentRate(value, decided[value], accepted[value]) for value in sorted(decided))


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=OSLO)


def _events(first: dt.date, last: dt.date) -> Iterable[tuple[Combination, int]]:
    """The decisions from ``first`` to ``last`` (both included), per combination, counted by the database."""
    grouped = (
        ConsentEvent.objects.filter(
            created_at__gte=_start(first), created_at__lt=_start(last + dt.timedelta(days=1)), action__in=DECISIONS
        )
        .values_list("consent_revision", "language", "gpc", "granted", "refused")
        .annotate(n=Count("id"))
        .order_by()
    )
    for revision, language, gpc, granted, refused, n in grouped:
        yield (int(revision), language, bool(gpc), tuple(sorted(granted or ())), tuple(sorted(refused or ()))), int(n)


def _stored(days: list[dt.date]) -> Iterable[tuple[Combination, int]]:
    found = (
        DecisionTotal.objects.filter(day__in=days)
        .values_list("revision", "language", "gpc", "granted", "refused")
        .annotate(n=Sum("decisions"))
        .order_by()
    )
    for revision, language, gpc, granted, refused, n in found:
        yield (int(revision), language, bool(gpc), tuple(json.loads(granted)), tuple(json.loads(refused))), int(n)


def _runs(start: dt.date, end: dt.date, counted: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The spans of days from ``start`` to ``end`` that are not in ``counted``, each as (first, last)."""
    runs: list[tuple[dt.date, dt.date]] = []
    day = start
    while day <= end:
        if day not in counted:
            if runs and runs[-1][1] == day - dt.timedelta(days=1):
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        day += dt.timedelta(days=1)
    return runs


def statistics(start: dt.date, end: dt.date) -> ConsentStatistics:
    """The decisions recorded from ``start`` to ``end``, as counts: the counted days' totals and the
    other days' events, each combination once."""
    counted = set(DecisionDay.objects.filter(day__gte=start, day__lte=end, current=True).values_list("day", flat=True))
    combinations: Counter[Combination] = Counter()
    for combination, n in _stored(sorted(counted)) if counted else ():
        combinations[combination] += n
    for first, last in _runs(start, end, counted):
        for combination, n in _events(first, last):
            combinations[combination] += n
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


def _marked(day: dt.date, *, current: bool) -> DecisionDay:
    return DecisionDay(day=day, current=current, totalled_at=timezone.now())


def mark_to_count_again(days: Iterable[dt.date]) -> None:
    """Decisions of these days were stored late (from the spool): their counts, if any, no longer
    hold them, so the statistics read the days' events again until the job has counted them afresh.

    An upsert, in the caller's transaction: it locks the day's row, so a count under way either
    finishes first (and is then marked as not current) or waits and sees the new decisions."""
    DecisionDay.objects.bulk_create(
        [_marked(day, current=False) for day in sorted(set(days))],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["current"],
    )


def count_day(day: dt.date) -> int:
    """Count ``day``'s decisions into ``DecisionTotal`` afresh; returns how many there were."""
    with transaction.atomic():
        # The day's row is locked first (see ``mark_to_count_again``), then the events are read.
        DecisionDay.objects.bulk_create(
            [_marked(day, current=False)], update_conflicts=True, unique_fields=["day"], update_fields=["current"]
        )
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
            for (revision, language, gpc, granted, refused), n in _merged(_events(day, day))
        ]
        DecisionTotal.objects.bulk_create(rows, batch_size=500)
        DecisionDay.objects.filter(day=day).update(current=True, totalled_at=timezone.now())
    return sum(row.decisions for row in rows)


def _merged(found: Iterable[tuple[Combination, int]]) -> Iterable[tuple[Combination, int]]:
    """One count per combination: the events may list the same categories in another order."""
    combinations: Counter[Combination] = Counter()
    for combination, n in found:
        combinations[combination] += n
    return combinations.items()


def days_to_count(now: dt.datetime) -> list[dt.date]:
    """The days that are over and whose decisions are not counted (or not since a late one came),
    from the first decision kept."""
    first = ConsentEvent.objects.filter(action__in=DECISIONS).aggregate(first=Min("created_at"))["first"]
    if first is None:
        return []
    start, last = first.astimezone(OSLO).date(), (now - SETTLE).astimezone(OSLO).date() - dt.timedelta(days=1)
    counted = set(DecisionDay.objects.filter(day__gte=start, current=True).values_list("day", flat=True))
    return [day for day in _days(start, last) if day not in counted]


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def count_days(now: dt.datetime | None = None) -> dict[str, int]:
    """Count every day that is over and not counted yet (the job ``consent.totals``)."""
    return {day.isoformat(): count_day(day) for day in days_to_count(now or timezone.now())}
