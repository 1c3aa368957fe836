"""From a beacon request to a hit in the buffer: parse, check, reduce, and never store more (P4, P21).

A hit is accepted only if it is well formed, small, sent by the site's own pages
(not another origin), for a page that exists, by something that is not a bot,
and within the rate limit of its network. What is kept of it:

- the path, without query string or fragment (only the query parameters the
  declaration names, such as ``utm_source``, survive);
- the referrer cut to host and path, and nothing when it is the site itself;
- browser and system family with major version, and a device class;
- the country of the full address (a two-letter code, looked up in memory), then
  the IP address shortened to its network (IPv4 /24, IPv6 /48) before anything
  else is done with it; the full address is never written or logged;
- the declared campaign parameters (``utm_source``, ``utm_medium``,
  ``utm_campaign``) and the referrer grouped into a channel (``sources``);
- for a custom event, the goal's name;
- a visitor hash: with consent to statistics, from the ``vern_visitor`` cookie
  (basis (a)); otherwise a keyed hash of the day's salt, the site, the shortened
  IP and the user agent, which changes every day (basis (f)).

A refusal is counted (``Dropped``) but never stored. The checks use no database
query on the way (the declaration's settings are read at most every 30 seconds
per process), so the beacon costs about what a bare request does.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from pydantic import ValidationError

from vern.analytics.agents import read_agent
from vern.analytics.buffer import BUFFER
from vern.analytics.models import Dropped, Hit
from vern.analytics.salts import day_of, visitor_hashes
from vern.analytics.schemas import MAX_BODY, BeaconRequest
from vern.analytics.sources import campaign_of, channel_of, country_of
from vern.declaration.durations import Duration
from vern.lib.days import local_day
from vern.lib.ip import shorten_ip
from vern.lib.keys import digest
from vern.lib.outage import is_outage
from vern.lib.ratelimit import Batched
from vern.registry import surface

PATH_LENGTH = Hit._meta.get_field("path").max_length or 512
REFERRER_PATH_LENGTH = Hit._meta.get_field("referrer_path").max_length or 512
CONFIG_SECONDS = 30
OUTAGE_RETRY_SECONDS = 5
_NOT_COUNTED = ("/staff/", "/api/", "/static/", "/en/staff/", "/healthz", "/robots.txt")


class Refused(Exception):
    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Settings:
    enabled: bool
    query_parameters: frozenset[str]
    visitor_cookie: str | None
    visitor_cookie_lifetime: Duration | None
    visitor_cookie_category: str = ""


@dataclass
class Request:
    """What the capture needs of an HTTP request, whichever server layer received it."""

    body: bytes
    ip: str  # the full address, shortened at once
    user_agent: str
    host: str  # the request's own host (and port), to recognise self-referrals and origins
    scheme: str
    origin: str = ""
    fetch_site: str = ""
    cookies: Mapping[str, str] = field(default_factory=dict)
    gpc: bool = False


@dataclass(frozen=True)
class Beacon:
    kind: int
    url: str
    referrer: str
    engaged_ms: int
    goal: str = ""


@dataclass(frozen=True)
class Accepted:
    set_cookie: tuple[str, str, int] | None  # (name, value, max-age) when a visitor cookie is to be set


_config: tuple[float, Settings] | None = None
_config_lock = threading.Lock()


def current_settings() -> Settings:
    """The published declaration's analytics settings, read at most every 30 seconds.

    While the database is down, the settings last read are used (and read again after
    ``OUTAGE_RETRY_SECONDS``), so beacons are still taken and kept for later.
    """
    global _config
    found = _config
    if found is not None and time.monotonic() - found[0] < CONFIG_SECONDS:
        return found[1]
    with _config_lock:
        found = _config  # another thread may have read them while this one waited
        if found is None or time.monotonic() - found[0] >= CONFIG_SECONDS:
            try:
                found = _config = (time.monotonic(), _load_settings())
            except Exception as exc:
                if found is None or not is_outage(exc):
                    raise
                found = _config = (time.monotonic() - CONFIG_SECONDS + OUTAGE_RETRY_SECONDS, found[1])
        return found[1]


def warm() -> None:
    """Read the settings and today's salt now (at start-up, before the web workers fork), so that a
    worker can take beacons even if the database goes away before its first one."""
    config = current_settings()
    if config.enabled:
        visitor_hashes(timezone.now(), "", "", "")  # today's salt, and yesterday's in the first half hour


def forget_settings() -> None:
    global _config
    _config = None


def _load_settings() -> Settings:
    from vern.declaration.selectors import published_declaration

    declaration = published_declaration()
    if declaration is None:
        return Settings(enabled=False, query_parameters=frozenset(), visitor_cookie=None, visitor_cookie_lifetime=None)
    analytics = declaration.analytics
    cookie = next((c for c in declaration.cookies.cookies if c.name == analytics.visitor_cookie), None)
    return Settings(
        enabled=analytics.enabled,
        query_parameters=frozenset(analytics.query_parameters),
        visitor_cookie=cookie.name if cookie else None,
        visitor_cookie_lifetime=Duration.parse(cookie.duration, allow_session=True) if cookie else None,
        visitor_cookie_category=cookie.category if cookie else "",
    )


# -- parsing ----------------------------------------------------------------------------


_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters and lone surrogates


def storable(text: str) -> bool:
    """Text a database column can hold as it is: no control characters, no lone surrogates."""
    return _UNSTORABLE.search(text) is None


_KINDS = {"v": Hit.Kind.PAGEVIEW, "e": Hit.Kind.ENGAGEMENT, "g": Hit.Kind.GOAL}


def _beacon(sent: BeaconRequest) -> Beacon:
    return Beacon(kind=int(_KINDS[sent.k]), url=sent.u, referrer=sent.r, engaged_ms=sent.e, goal=sent.g)


def _checked(data: object) -> Beacon:
    """A beacon from what was sent, checked by ``schemas.BeaconRequest``; else Refused."""
    try:
        sent = BeaconRequest.model_validate(data)
    except ValidationError:
        raise Refused(Dropped.Reason.INVALID, 400) from None
    return _beacon(sent)


def check_beacon(kind: object, url: object, referrer: object, engaged: object) -> Beacon:
    """A beacon from its parts, as the script or the no-script image gives them; else Refused."""
    return _checked({"k": kind, "u": url, "r": referrer, "e": engaged})


def parse_beacon(body: bytes) -> Beacon:
    """The beacon's JSON: ``{"k": "v"|"e", "u": url, "r": referrer, "e": engaged ms}``; else Refused."""
    if len(body) > MAX_BODY:
        raise Refused(Dropped.Reason.INVALID, 413)
    # Parsed and checked in one step by pydantic's own parser, not ``vern.lib.bodies.parse_json``
    # and then the model: the same answers (only UTF-8, no unpaired surrogate, nothing nested, as no
    # field takes an array or object, and a parser that bounds its own depth), parsed once (ADR 0025).
    try:
        sent = BeaconRequest.model_validate_json(body)
    except ValidationError:
        raise Refused(Dropped.Reason.INVALID, 400) from None
    return _beacon(sent)


def reduce_path(url: str, keep: frozenset[str]) -> str:
    """The path, and only the named query parameters; never the fragment."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if keep and parts.query:
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=False) if k in keep]
        if kept:
            path = f"{path}?{urlencode(kept)}"
    return path[:PATH_LENGTH]


def reduce_referrer(referrer: str, own_host: str) -> tuple[str, str]:
    """(host, path) of where the visitor came from; ("", "") for none, the site itself, or junk."""
    if not referrer:
        return "", ""
    try:
        parts = urlsplit(referrer.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return "", ""
    if parts.scheme not in ("http", "https") or not host or len(host) > 253:
        return "", ""
    if host == own_host.split(":")[0].lower():
        return "", ""
    return host.removeprefix("www."), (parts.path or "/")[:REFERRER_PATH_LENGTH]


@functools.lru_cache(maxsize=8192)
def _referral(referrer: str, own_host: str) -> tuple[str, str, str]:
    """(host, path, channel) of a referrer: most beacons repeat a few (none, a search engine's)."""
    host, path = reduce_referrer(referrer, own_host)
    return host, path, channel_of(host)


@functools.lru_cache(maxsize=8192)
def is_site_page(path: str) -> bool:
    """Whether ``path`` is one of the site's public pages (staff pages and the API are not counted)."""
    path = path.split("?", 1)[0]
    if path.startswith(_NOT_COUNTED):
        return False
    language = "en" if path == "/en" or path.startswith("/en/") else settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            resolve(path)
        except Resolver404:
            return False
    return True


# -- rate limit (shared by every process and server, counted in batches) ---------------------

# Most networks send a process fewer hits a minute than ``Batched.slack`` and so cost no write;
# a flooding one is refused by every process once the shared count is full (docs/analytics.md).
_window = Batched("analytics")
BUFFER.alongside(_window.flush)  # a batch that is due is added once a second, off the request's path


# -- the whole path ---------------------------------------------------------------------------


def _origin_ok(request: Request) -> bool:
    if request.fetch_site and request.fetch_site not in ("same-origin", "none"):
        return False
    return not request.origin or request.origin == f"{request.scheme}://{request.host}"


def accept(request: Request, *, source: int = Hit.Source.SCRIPT, beacon: Beacon | None = None) -> Accepted:
    """Turn a beacon into a buffered hit, or raise Refused (counted, nothing stored)."""
    now = timezone.now()
    day, _ = day_of(now)
    country = country_of(request.ip)  # in memory, from the full address; only the code is kept
    ip = shorten_ip(request.ip)  # first of all: nothing below sees the full address
    config = current_settings()
    try:
        if not config.enabled:
            raise Refused("disabled", 404)
        if not _window.allow(ip, settings.VERN_ANALYTICS_RATE):
            raise Refused(Dropped.Reason.RATE, 429)
        if not _origin_ok(request):
            raise Refused(Dropped.Reason.FOREIGN, 403)
        if beacon is None:
            beacon = parse_beacon(request.body)
        path = reduce_path(beacon.url, config.query_parameters)
        if not is_site_page(path):
            raise Refused(Dropped.Reason.UNKNOWN_PATH, 422)
    except Refused as refused:
        if refused.reason != "disabled":
            BUFFER.count_dropped(day, refused.reason)
        raise
    agent = read_agent(request.user_agent)
    if agent.bot:
        BUFFER.count_dropped(day, Dropped.Reason.BOT, agent.bot)
        return Accepted(set_cookie=None)  # a bot learns nothing from the answer
    consent_id, set_cookie = "", None
    if config.visitor_cookie:
        # The app that keeps cookie choices decides, through its surface; without one, no cookie.
        consent_id = surface.cookie_consent(config.visitor_cookie_category, request.cookies, request.gpc) or ""
    if consent_id and config.visitor_cookie and config.visitor_cookie_lifetime:
        value = request.cookies.get(config.visitor_cookie, "")
        if len(value) != 32 or not all(c in "0123456789abcdef" for c in value):
            value = secrets.token_hex(16)
        # Set on every hit, so that it lives its declared time (on the calendar) after the last visit.
        seconds = int((config.visitor_cookie_lifetime.after(now) - now).total_seconds())
        set_cookie = (config.visitor_cookie, value, seconds)
        visitor, previous = digest(value, purpose="analytics-visitor")[:32], ""
    else:  # no cookie without consent: the daily hash alone
        visitor, previous = visitor_hashes(now, request.host, ip, request.user_agent)
    # Only the scheme, host and path are read: a query or fragment (tokens, addresses) is never a cache key.
    referrer_host, referrer_path, channel = _referral(beacon.referrer.split("?", 1)[0].split("#", 1)[0], request.host)
    query = path.partition("?")[2]  # only the declared parameters are left in it
    utm_source, utm_medium, utm_campaign = campaign_of(query, config.query_parameters) if query else ("", "", "")
    BUFFER.add_hit(
        (  # in the order of buffer.HIT_COLUMNS
            now,
            beacon.kind,
            source,
            visitor,
            previous,
            consent_id,
            path,
            referrer_host,
            referrer_path,
            agent.browser,
            agent.browser_version,
            agent.os,
            agent.os_version,
            agent.device,
            ip,
            beacon.engaged_ms,
            country,
            channel,
            utm_source,
            utm_medium,
            utm_campaign,
            beacon.goal,
        )
    )
    return Accepted(set_cookie=set_cookie)


def count_refused(reason: str) -> None:
    BUFFER.count_dropped(local_day(timezone.now()), reason)
