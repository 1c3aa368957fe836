"""The beacon endpoint in front of Django, so a hit costs what a bare request costs.

``POST /api/analytics/event`` is answered here, in the WSGI layer, before
Django's middleware and URL resolution: the beacon needs none of them (no
session, no CSRF token, no template, no page headers), and skipping them is
what lets one small server take thousands of hits a second. Every other
request goes on to Django unchanged. The same endpoint also exists as a Django
view (``views.event``), which is what the test client and the OpenAPI schema
see; both call ``capture.accept``, so they cannot disagree.

With ``VERN_BENCH_FLOOR`` set (``make bench`` only), ``/api/analytics/floor``
answers 204 without reading anything: the HTTP floor of the machine.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from vern.analytics import capture
from vern.analytics.models import Dropped
from vern.analytics.schemas import MAX_BODY
from vern.lib.bodies import BodyRefused, read_body
from vern.lib.ip import client_ip_of
from vern.lib.outage import REPORTER, RETRY_AFTER, is_outage

log = logging.getLogger("vern.analytics")

EVENT_PATH = "/api/analytics/event"
FLOOR_PATH = "/api/analytics/floor"
_REASONS = {
    204: "204 No Content",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    422: "422 Unprocessable Content",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_HEADERS = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def cookies_of(header: str) -> dict[str, str]:
    """Cookies as Django reads them: one odd cookie of another site does not hide the others."""
    return parse_cookie(header) if header else {}  # most beacons (no consent) send no Cookie header


@functools.lru_cache(maxsize=64)
def _allowed_host(host: str) -> bool:
    return validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS)


def request_of(environ: Mapping[str, Any], body: bytes, cookies: Mapping[str, str]) -> capture.Request:
    """The capture's view of a request, from a WSGI environ or Django's ``request.META``."""
    scheme = "https" if settings.HTTPS else str(environ.get("wsgi.url_scheme", "http"))
    return capture.Request(
        body=body,
        ip=client_ip_of(environ),
        user_agent=str(environ.get("HTTP_USER_AGENT", "")),
        host=_host(environ),
        scheme=scheme,
        origin=str(environ.get("HTTP_ORIGIN", "")),
        fetch_site=str(environ.get("HTTP_SEC_FETCH_SITE", "")),
        cookies=cookies,
        gpc=str(environ.get("HTTP_SEC_GPC", "")).strip() == "1",
    )


def _host(environ: Mapping[str, Any]) -> str:
    """The host the request was sent to, as the Host header (or the server's name) gives it."""
    host = str(environ.get("HTTP_HOST", ""))
    if host:
        return host
    name, port = str(environ.get("SERVER_NAME", "")), str(environ.get("SERVER_PORT", ""))
    return name if port in ("", "80", "443") else f"{name}:{port}"


def cookie_header(name: str, value: str, max_age: int) -> str:
    secure = "; Secure" if settings.HTTPS else ""
    return f"{name}={value}; Max-Age={max_age}; Path=/; SameSite=Lax; HttpOnly{secure}"


def _read_body(environ: Mapping[str, Any]) -> bytes:
    """The body, at most a beacon's size; else BodyRefused (a larger one is drained, never kept)."""
    return read_body(environ, environ["wsgi.input"], MAX_BODY)


def handle_event(environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    headers = list(_HEADERS)
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, [*headers, ("Allow", "POST")]
    if not _allowed_host(str(environ.get("HTTP_HOST", ""))):
        return 400, headers  # as Django answers a Host that is not in ALLOWED_HOSTS
    try:
        body = _read_body(environ)
    except BodyRefused as refused:
        capture.count_refused(Dropped.Reason.INVALID)
        return refused.status, headers
    request = request_of(environ, body, cookies_of(str(environ.get("HTTP_COOKIE", ""))))
    try:
        accepted = capture.accept(request)
    except capture.Refused as refused:
        return refused.status, headers
    if accepted.set_cookie is not None:
        headers.append(("Set-Cookie", cookie_header(*accepted.set_cookie)))
    return 204, headers


# Django's request signals cost about a third of a beacon (they close and check every database
# and cache connection, twice). The beacon rarely touches either, so each thread sends them at
# most once a second, and at once after a request that failed (a connection the database closed
# is then replaced before the next one uses it). ADR 0019.
TIDY_SECONDS = 1.0
_tidied = threading.local()


def _tidy_due() -> bool:
    now = time.monotonic()
    if now - getattr(_tidied, "at", -TIDY_SECONDS) >= TIDY_SECONDS:
        _tidied.at = now
        return True
    return False


def front(django_app: WSGIApp) -> WSGIApp:
    """``django_app`` with the beacon (and, for benchmarks, the floor) answered in front of it."""
    floor = bool(settings.VERN_BENCH_FLOOR)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == EVENT_PATH:
            # Django's request signals, as its own handler sends them (at most once a second per
            # thread): among other things, a connection the database closed (a restart) is
            # replaced rather than used again.
            tidy = _tidy_due()
            if tidy:
                request_started.send(sender=front, environ=environ)
            try:
                status, headers = handle_event(environ)
            except Exception as exc:
                tidy = True
                _tidied.at = -TIDY_SECONDS  # the next request tidies up first
                if is_outage(exc):
                    # The database is down and this process has not read what it needs yet (the
                    # settings, the day's salt): the hit cannot be taken now.
                    REPORTER.seen(exc, "the beacon endpoint")
                    status, headers = 503, [*_HEADERS, ("Retry-After", str(RETRY_AFTER))]
                else:
                    log.exception("the beacon endpoint failed")
                    status, headers = 500, list(_HEADERS)
            finally:
                if tidy:
                    request_finished.send(sender=front)
            start_response(_REASONS[status], [*headers, ("Content-Length", "0")])
            return [b""]
        if floor and path == FLOOR_PATH:
            start_response(_REASONS[204], [("Content-Length", "0")])
            return [b""]
        return django_app(environ, start_response)

    return application
