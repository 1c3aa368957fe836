"""Where domain apps tell the registry's walkers about a person, without importing each other.

Retention and rights never import a domain app (DESIGN.md, Apps). When one domain
app knows something the walkers must respect, it registers a function here from
its ``AppConfig.ready``:

- a *holder* names the people whose data retention must keep for now (an open
  rights request, a restriction): ``holder(now)`` returns, per identifier kind
  (``email``, ``phone``, ``consent_id``), querysets of one column of the keys
  as stored (blind indexes, consent ids), so the sweep uses them as subqueries;
- a *withdrawer* withdraws every consent the person gave to the app that
  registers it (cookie consent by consent id, a newsletter subscription) and
  returns how many it withdrew: ``withdrawer(keys, language)``;
- a *consent id reader* finds, in a visitor's cookies, the id of their cookie
  choice when its signature holds (the privacy center sends it with a request,
  so that the cookie-consent records are found too): ``reader(cookies)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet

Holder = Callable[[dt.datetime], Mapping[str, list[QuerySet[Any]]]]
Withdrawer = Callable[[Mapping[str, str]], int]
RestrictionCheck = Callable[[Mapping[str, str]], bool]
ConsentIdReader = Callable[[Mapping[str, str]], str | None]

_HOLDERS: list[Holder] = []
_WITHDRAWERS: list[Withdrawer] = []
_RESTRICTION_CHECKS: list[RestrictionCheck] = []
_ERASURE_CHECKS: list[RestrictionCheck] = []
_CONSENT_ID_READERS: list[ConsentIdReader] = []


def add_holder(holder: Holder) -> None:
    if holder not in _HOLDERS:
        _HOLDERS.append(holder)


def add_withdrawer(withdrawer: Withdrawer) -> None:
    if withdrawer not in _WITHDRAWERS:
        _WITHDRAWERS.append(withdrawer)


def add_consent_id_reader(reader: ConsentIdReader) -> None:
    if reader not in _CONSENT_ID_READERS:
        _CONSENT_ID_READERS.append(reader)


def add_restriction_check(check: RestrictionCheck) -> None:
    if check not in _RESTRICTION_CHECKS:
        _RESTRICTION_CHECKS.append(check)


def is_restricted(keys: Mapping[str, str]) -> bool:
    """Whether the processing of this person's data is restricted; keys as stored (blind indexes)."""
    present = {kind: key for kind, key in keys.items() if key}
    return bool(present) and any(check(present) for check in _RESTRICTION_CHECKS)


def add_erasure_check(check: RestrictionCheck) -> None:
    if check not in _ERASURE_CHECKS:
        _ERASURE_CHECKS.append(check)


def erasure_forbidden(keys: Mapping[str, str]) -> bool:
    """Whether a legal hold (or another registered reason) forbids erasing this person now."""
    present = {kind: key for kind, key in keys.items() if key}
    return bool(present) and any(check(present) for check in _ERASURE_CHECKS)


def held_keys(now: dt.datetime) -> dict[str, list[QuerySet[Any]]]:
    """Per identifier kind, the subqueries of keys whose data must be kept at ``now``."""
    merged: dict[str, list[QuerySet[Any]]] = {}
    for holder in _HOLDERS:
        for kind, querysets in holder(now).items():
            merged.setdefault(kind, []).extend(querysets)
    return merged


def withdraw_consents(keys: Mapping[str, str]) -> int:
    """Withdraw every consent the person with these stored keys gave; how many were withdrawn."""
    return sum(withdrawer(keys) for withdrawer in _WITHDRAWERS)


def consent_id_from(cookies: Mapping[str, str]) -> str:
    """The consent id a visitor's cookies carry, checked by the app that set it; "" when there is none."""
    for reader in _CONSENT_ID_READERS:
        found = reader(cookies)
        if found:
            return found
    return ""
