"""Counts of the cookie decisions of a period, from the proof chain, for the statistics dashboard.

Given to other apps through the surface (``Surface.consent_statistics``): analytics reads counts,
never a consent id, and never imports this app. A decision is a choice a visitor made on the
banner, the settings page, the API or an embedded banner, or the refusal a browser's Global
Privacy Control signal made (``accept_all``, ``reject_all``, ``custom``, ``gpc``); a withdrawal
or an expiry is not counted. Days are Europe/Oslo days, both ends included.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from vern.consent.models import ConsentEvent
from vern.registry.surface import ConsentRate, ConsentStatistics

OSLO = ZoneInfo("Europe/Oslo")
DECISIONS = (
    ConsentEvent.Action.ACCEPT_ALL,
    ConsentEvent.Action.REJECT_ALL,
    ConsentEvent.Action.CUSTOM,
    ConsentEvent.Action.GPC,
)


def _rates(decided: Counter[str], accepted: Counter[str]) -> tuple[ConsentRate, ...]:
    return tuple(ConsentRate(value, decided[value], accepted[value]) for value in sorted(decided))


def statistics(start: dt.date, end: dt.date) -> ConsentStatistics:
    """The decisions recorded from ``start`` to ``end``, as counts (one pass over the period's rows)."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=OSLO)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=OSLO)
    rows = (
        ConsentEvent.objects.filter(created_at__gte=since, created_at__lt=until, action__in=DECISIONS)
        .values_list("granted", "refused", "consent_revision", "language", "gpc")
        .iterator(chunk_size=5000)
    )
    decisions = accepted_any = gpc = 0
    category_decided: Counter[str] = Counter()
    category_accepted: Counter[str] = Counter()
    revision_decided: Counter[str] = Counter()
    revision_accepted: Counter[str] = Counter()
    language_decided: Counter[str] = Counter()
    language_accepted: Counter[str] = Counter()
    for granted, refused, revision, language, sent_gpc in rows:
        decisions += 1
        gpc += bool(sent_gpc)
        allowed = bool(granted)
        accepted_any += allowed
        for category in granted or ():
            category_decided[category] += 1
            category_accepted[category] += 1
        for category in refused or ():
            category_decided[category] += 1
        revision_decided[str(revision)] += 1
        revision_accepted[str(revision)] += allowed
        language_decided[language] += 1
        language_accepted[language] += allowed
    return ConsentStatistics(
        decisions=decisions,
        accepted_any=accepted_any,
        gpc=gpc,
        by_category=_rates(category_decided, category_accepted),
        by_revision=_rates(revision_decided, revision_accepted),
        by_language=_rates(language_decided, language_accepted),
    )
