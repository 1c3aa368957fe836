"""The visitor's choice as it travels in the ``vern_consent`` cookie, and what it allows.

The cookie is readable by the page's own script (it must activate scripts without
a reload) and signed with a key the visitor does not have, so a hand-edited
cookie is treated as no choice at all. Its form is plain, so ``consent.js`` can
read it without a library::

    1.<consent id>.<revision>.<granted categories joined by ->.<decided, unix seconds>.<signature>
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from django.http import HttpRequest

from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration
from vern.lib.keys import digest, digests
from vern.lib.outage import is_outage

COOKIE_NAME = "vern_consent"
_ID = re.compile(r"^[0-9a-f]{32}$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def new_consent_id() -> str:
    """128 random bits: an id that says nothing about the visitor."""
    return secrets.token_hex(16)


def _signature(payload: str) -> str:
    return digest(payload, purpose="consent-cookie")[:20]


def _signatures(payload: str) -> list[str]:
    """The signature under every configured index key: a cookie signed before the index key
    rotated keeps the visitor's choice (new cookies are signed with the current key)."""
    return [signature[:20] for signature in digests(payload, purpose="consent-cookie")]


@dataclass(frozen=True)
class Choice:
    consent_id: str
    revision: int
    granted: frozenset[str]
    decided_at: int

    def encode(self) -> str:
        payload = f"1.{self.consent_id}.{self.revision}.{'-'.join(sorted(self.granted))}.{self.decided_at}"
        return f"{payload}.{_signature(payload)}"

    @classmethod
    def decode(cls, value: str) -> Choice | None:
        parts = value.split(".")
        if len(parts) != 6 or parts[0] != "1":
            return None
        payload, signature = ".".join(parts[:5]), parts[5]
        if not any(hmac.compare_digest(signature, expected) for expected in _signatures(payload)):
            return None
        _, consent_id, revision, granted, decided = parts[:5]
        categories = frozenset(granted.split("-")) if granted else frozenset()
        if not (_ID.match(consent_id) and revision.isdigit() and decided.isdigit()):
            return None
        if not all(_CATEGORY.match(category) for category in categories):
            return None
        return cls(consent_id=consent_id, revision=int(revision), granted=categories, decided_at=int(decided))

    def decided(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.decided_at, tz=dt.UTC)


def cookie_domain(declaration: Declaration | None, host: str) -> str:
    """The parent domain the choice cookie is set on, so that one choice covers the company's
    sites under it (``domain: .kaukus.no`` on ``vern_consent`` in the cookie table); "" for the
    host alone, also when ``host`` is not under the declared domain (a browser would refuse it)."""
    declared = next((c for c in declaration.cookies.cookies if c.name == COOKIE_NAME), None) if declaration else None
    if declared is None or not declared.domain:
        return ""
    parent = declared.domain.lstrip(".").lower()
    host = host.lower().rstrip(".")
    return f".{parent}" if host == parent or host.endswith(f".{parent}") else ""


def lifetime_of(declaration: Declaration) -> Duration:
    return Duration.parse(declaration.cookies.consent_lifetime)


def expires_at(declaration: Declaration, decided: dt.datetime) -> dt.datetime:
    return lifetime_of(declaration).after(decided)


def gpc_requested(request: HttpRequest) -> bool:
    """``Sec-GPC: 1``: the browser asks, on the visitor's behalf, that nothing be sold or shared (C16)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


@dataclass(frozen=True)
class ConsentState:
    """What this request may do: which optional categories are allowed, and whether to ask."""

    choice: Choice | None  # the visitor's choice, when it is current
    stale: Choice | None  # a choice made under an older revision, or expired: to ask again
    gpc: bool
    optional: tuple[str, ...] = ()
    necessary: tuple[str, ...] = ()
    gpc_refuses: frozenset[str] = field(default_factory=frozenset)
    published: bool = True

    @property
    def due(self) -> bool:
        """The banner is shown when there is something to ask and no current answer."""
        askable = [c for c in self.optional if not (self.gpc and c in self.gpc_refuses)]
        return self.published and self.choice is None and bool(askable)

    def allows(self, category: str) -> bool:
        """Strictly necessary: always. Optional: only with consent, and never against GPC. Unknown: never."""
        if category in self.necessary:
            return True
        if category not in self.optional:
            return False
        if self.gpc and category in self.gpc_refuses:
            return False
        return self.choice is not None and category in self.choice.granted

    def with_choice(self, choice: Choice) -> ConsentState:
        """This state after a decision made in this request."""
        return replace(self, choice=choice, stale=None)

    @property
    def granted(self) -> list[str]:
        return [c for c in self.optional if self.allows(c)]


def state_for(request: HttpRequest, declaration: Declaration | None, revision: int, now: dt.datetime) -> ConsentState:
    return state_of(request.COOKIES.get(COOKIE_NAME, ""), gpc_requested(request), declaration, revision, now)


def state_of(cookie: str, gpc: bool, declaration: Declaration | None, revision: int, now: dt.datetime) -> ConsentState:
    """The state that a ``vern_consent`` cookie value and a GPC signal give under a declaration."""
    if declaration is None:
        return ConsentState(choice=None, stale=None, gpc=gpc, published=False)
    categories = declaration.cookies.categories
    common = {
        "gpc": gpc,
        "optional": tuple(c.id for c in categories if c.consent_required),
        "necessary": tuple(c.id for c in categories if not c.consent_required),
        "gpc_refuses": frozenset(declaration.cookies.gpc_refuses),
    }
    choice = Choice.decode(cookie)
    if choice is not None and (choice.revision != revision or expires_at(declaration, choice.decided()) <= now):
        return ConsentState(choice=None, stale=choice, **common)  # type: ignore[arg-type]
    if choice is not None and withdrawn_by_request(choice, now):
        # Ended by the person's rights request: nothing is allowed, and the banner asks
        # afresh, under a new consent id (there is no earlier choice to carry over).
        return ConsentState(choice=None, stale=None, **common)  # type: ignore[arg-type]
    return ConsentState(choice=choice, stale=None, **common)  # type: ignore[arg-type]


_withdrawals: tuple[float, dict[str, dt.datetime]] | None = None


def forget_withdrawals() -> None:
    """Read the withdrawals by rights request afresh next time (after one is recorded)."""
    global _withdrawals
    _withdrawals = None


def withdrawn_by_request(choice: Choice, now: dt.datetime) -> bool:
    """Whether a rights request withdrew this choice after it was made.

    Such a withdrawal is in the consent proof, but the visitor's browser still holds the
    cookie that says yes. Each process keeps the few withdrawals whose effect can still
    matter (their record has not run out) and reads them again every 30 seconds, or at
    once after this process recorded one: the beacon, answered before Django's middleware,
    asks too, and must not cost a query per hit.
    """
    withdrawn_at = _withdrawals_now(now).get(choice.consent_id)
    return withdrawn_at is not None and choice.decided() <= withdrawn_at


def _withdrawals_now(now: dt.datetime) -> dict[str, dt.datetime]:
    global _withdrawals
    found = _withdrawals
    if found is None or time.monotonic() - found[0] > PUBLISHED_SECONDS:
        from vern.consent.models import ConsentEvent

        latest: dict[str, dt.datetime] = {}
        rows = ConsentEvent.objects.filter(
            layer=ConsentEvent.Layer.RIGHTS, action=ConsentEvent.Action.WITHDRAW, expires_at__gt=now
        ).values_list("consent_id", "created_at")
        try:
            for consent_id, at in rows:
                latest[consent_id] = max(at, latest.get(consent_id, at))
        except Exception as exc:
            if found is None or not is_outage(exc):
                raise
            # The database is down: the withdrawals read last hold (none can be recorded meanwhile).
            latest = found[1]
        found = _withdrawals = (time.monotonic(), latest)
    return found[1]


def warm(now: dt.datetime) -> None:
    """Read the withdrawals and the published declaration now (at start-up), so that a process can
    still check a cookie when the database goes away before its first request."""
    _withdrawals_now(now)
    consent_id_allowing("statistics", {COOKIE_NAME: "-"}, False)


_published: tuple[float, Declaration | None, int] | None = None
PUBLISHED_SECONDS = 30


def forget_published() -> None:
    """Read the published declaration afresh next time (tests, after a new publication)."""
    global _published
    _published = None


def consent_id_of(cookies: Mapping[str, str]) -> str | None:
    """The consent id of the visitor's cookie choice, when the cookie's signature holds.

    A stale choice (an older revision, or expired) still names the records made under it.
    """
    choice = Choice.decode(cookies.get(COOKIE_NAME, ""))
    return choice.consent_id if choice is not None else None


def consent_id_allowing(category: str, cookies: Mapping[str, str], gpc: bool) -> str | None:
    """The consent id when the request's consent cookie allows ``category`` now, else None.

    For checks outside a page request (the analytics beacon, answered before Django's
    middleware): the published declaration is read at most every 30 seconds per process.
    A withdrawal takes effect at once, since it changes the cookie itself; a new consent
    revision takes effect here within those 30 seconds.
    """
    global _published
    from django.utils import timezone

    cookie = cookies.get(COOKIE_NAME, "")
    if not cookie:
        return None
    from vern.declaration.selectors import declaration_of, latest_version

    found = _published
    if found is None or time.monotonic() - found[0] > PUBLISHED_SECONDS:
        try:
            version = latest_version()
            declaration = declaration_of(version) if version is not None else None
            found = _published = (time.monotonic(), declaration, version.consent_revision if version else 0)
        except Exception as exc:
            if found is None or not is_outage(exc):
                raise
            found = _published = (time.monotonic(), found[1], found[2])  # the database is down: as last read
    state = state_of(cookie, gpc, found[1], found[2], timezone.now())
    if state.choice is None or category not in state.optional or not state.allows(category):
        return None
    return state.choice.consent_id
