"""What a scan saw, held against the published declaration: each finding names the rule, the
pass, the page, and the response or script responsible.

The rules (CONSENT.md; P6–P8, P13):

- ``undeclared-cookie``: a cookie the cookie table does not list (P8);
- ``wrong-lifetime``: a cookie that lives longer or shorter than the table says (P13);
- ``stored-before-consent``: before a choice, or after rejecting, a cookie of a category that
  needs consent (or one not declared), or anything in local storage, session storage or
  IndexedDB that is not a declared necessary cookie's name (C1);
- ``third-party-before-consent``: a request to another site before a choice or after rejecting (C1);
- ``kept-after-withdrawal``: after withdrawing, a cookie of a category that needs consent is still
  there, or a request goes to another site (C9);
- ``no-banner``: the first page asks nothing although the declaration has optional categories;
- ``unequal-buttons``: Accept and Reject on the first layer differ in size, weight or colour (C3);
- ``preticked``: an optional category switched on before the visitor chose (C5);
- ``no-way-back``: after a choice, a page with no control that reopens the choices (P7);
- ``could-not-act``: the banner's Accept or Reject could not be pressed, so a pass proves nothing.
"""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass
from typing import Any

from vern.declaration.durations import Duration
from vern.declaration.schema import Cookie, Declaration
from vern.scanner.crawl import PassSeen, Scan, SeenCookie

# A cookie's real lifetime may differ from the table by this much (clocks, rounding to seconds).
SLACK_SECONDS = 300
# Buttons of the same weight differ by at most this share in width or height.
SIZE_TOLERANCE = 0.10
# The shortest a calendar unit can be, against the longest ``Duration.max_seconds`` assumes.
SHORTEST_MONTH = 28 / 31
SHORTEST_YEAR = 365 / 366


@dataclass(frozen=True)
class Finding:
    rule: str
    pass_name: str
    page: str
    subject: str  # the cookie, storage name, address or control concerned
    detail: str  # in English, for the command line
    source: str = ""  # the response or script responsible, where known
    # What the console words in the reader's language: e.g. (("lives_days", "400"), ("declared", "6 months")).
    facts: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["facts"] = dict(self.facts)
        return found


def declared_cookie(declaration: Declaration, name: str) -> Cookie | None:
    """The row of the cookie table for ``name``; a trailing * names a family by prefix."""
    for cookie in declaration.cookies.cookies:
        if cookie.name == name or (cookie.name.endswith("*") and fnmatch.fnmatchcase(name, cookie.name)):
            return cookie
    return None


def _needs_consent(declaration: Declaration, cookie: Cookie | None) -> bool:
    if cookie is None:
        return True
    category = next((c for c in declaration.cookies.categories if c.id == cookie.category), None)
    return category is None or category.consent_required


def _lifetime_problem(declared: Cookie, seen: SeenCookie, scanned_at: float) -> str:
    duration = Duration.parse(declared.duration, allow_session=True)
    session = seen.expires < 0
    if duration.is_session or session:
        if duration.is_session == session:
            return ""
        return (
            "ends with the browser session, but the table says " + declared.duration
            if session
            else f"lives {_days(seen.expires - scanned_at)}, but the table says it ends with the session"
        )
    lives = seen.expires - scanned_at
    longest = duration.max_seconds()
    exact = duration.exact_seconds()
    shortest = exact if exact is not None else longest * (SHORTEST_YEAR if duration.unit == "year" else SHORTEST_MONTH)
    if lives > longest + SLACK_SECONDS or lives < shortest - SLACK_SECONDS:
        return f"lives {_days(lives)}, but the table says {declared.duration}"
    return ""


def _days(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(seconds, 0) / 60:.0f} minutes"


def _cookie_findings(declaration: Declaration, seen: PassSeen, scanned_at: float) -> list[Finding]:
    found = []
    before_consent = seen.name in ("none", "reject")
    for cookie in seen.cookies.values():
        declared = declared_cookie(declaration, cookie.name)
        if declared is None:
            found.append(
                Finding(
                    "undeclared-cookie",
                    seen.name,
                    cookie.page,
                    cookie.name,
                    "is not in the cookie table",
                    cookie.set_by,
                )
            )
        elif problem := _lifetime_problem(declared, cookie, scanned_at):
            lives = "session" if cookie.expires < 0 else str(round((cookie.expires - scanned_at) / 86400, 1))
            facts = (("lives_days", lives), ("declared", declared.duration))
            found.append(Finding("wrong-lifetime", seen.name, cookie.page, cookie.name, problem, cookie.set_by, facts))
        if before_consent and _needs_consent(declaration, declared) and seen.acted:
            when = "before any choice" if seen.name == "none" else "after rejecting all"
            found.append(
                Finding("stored-before-consent", seen.name, cookie.page, cookie.name, f"was set {when}", cookie.set_by)
            )
        if seen.name == "withdraw" and seen.acted and declared is not None and _needs_consent(declaration, declared):
            found.append(
                Finding(
                    "kept-after-withdrawal",
                    seen.name,
                    cookie.page,
                    cookie.name,
                    "is still set after withdrawal",
                    cookie.set_by,
                )
            )
    return found


def _storage_findings(declaration: Declaration, seen: PassSeen) -> list[Finding]:
    if seen.name not in ("none", "reject"):
        return []
    found = []
    for name, page in seen.storage.items():
        key = name.split(": ", 1)[-1]
        declared = declared_cookie(declaration, key)
        if declared is None or _needs_consent(declaration, declared):
            when = "before any choice" if seen.name == "none" else "after rejecting all"
            found.append(
                Finding("stored-before-consent", seen.name, page, name, f"was stored {when}", f"a script on {page}")
            )
    return found


def _request_findings(seen: PassSeen) -> list[Finding]:
    if seen.name == "accept" or not seen.acted:
        return []
    rule = "kept-after-withdrawal" if seen.name == "withdraw" else "third-party-before-consent"
    when = {"none": "before any choice", "reject": "after rejecting all", "withdraw": "after withdrawal"}[seen.name]
    found, reported = [], set()
    for request in seen.requests:
        if (request.page, request.url) in reported:
            continue
        reported.add((request.page, request.url))
        found.append(
            Finding(rule, seen.name, request.page, request.url, f"a {request.kind} request {when}", request.initiator)
        )
    return found


def _banner_findings(declaration: Declaration, scan: Scan) -> list[Finding]:
    first = scan.passes.get("none")
    if first is None or not first.pages:
        return []
    page = first.pages[0]
    optional = [c.id for c in declaration.cookies.categories if c.consent_required]
    found = []
    if optional and not first.banner:
        found.append(Finding("no-banner", "none", page, "banner", "no consent banner on the first visit"))
    accept, reject = first.buttons.get("accept_all"), first.buttons.get("reject_all")
    if first.banner and (accept is None or reject is None):
        missing = "Reject all" if reject is None else "Accept all"
        found.append(Finding("unequal-buttons", "none", page, missing, "is not on the first layer"))
    elif accept is not None and reject is not None:
        differences, measures = [], []
        for measure in ("width", "height"):
            a, r = getattr(accept, measure), getattr(reject, measure)
            if max(a, r) > 0 and abs(a - r) / max(a, r) > SIZE_TOLERANCE:
                differences.append(f"{measure} {a:.0f} px against {r:.0f} px")
                measures.append(measure)
        for style in ("weight", "color", "background", "font_size"):
            if getattr(accept, style) != getattr(reject, style):
                differences.append(
                    f"{style.replace('_', ' ')} {getattr(accept, style)} against {getattr(reject, style)}"
                )
                measures.append(style)
        if differences:
            facts = (("measures", " ".join(measures)),)
            found.append(
                Finding("unequal-buttons", "none", page, "Accept all / Reject all", "; ".join(differences), "", facts)
            )
    for category in first.preticked:
        found.append(Finding("preticked", "none", page, category, "is switched on before the visitor chose"))
    for seen in scan.passes.values():
        if seen.name != "none" and not seen.acted:
            found.append(Finding("could-not-act", seen.name, page, "banner", "its button could not be pressed"))
        for without in seen.without_settings if seen.name == "reject" else ():
            found.append(
                Finding("no-way-back", seen.name, without, "cookie settings", "no control reopens the choices")
            )
    return found


def findings(scan: Scan, declaration: Declaration) -> list[Finding]:
    """Every finding of ``scan`` against ``declaration``, in a stable order."""
    found = _banner_findings(declaration, scan)
    for seen in scan.passes.values():
        found += _cookie_findings(declaration, seen, scan.scanned_at)
        found += _storage_findings(declaration, seen)
        found += _request_findings(seen)
    unique = list(dict.fromkeys(found))
    return sorted(
        unique,
        key=lambda f: (
            list(scan.passes).index(f.pass_name) if f.pass_name in scan.passes else 9,
            f.page,
            f.rule,
            f.subject,
        ),
    )
