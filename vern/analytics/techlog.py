"""The technical log for operating and securing the site (§4, basis (f)): errors and security events.

One row per server error, refused access (403), rate-limit hit (429) and failed
staff login, with the URL pattern (never the path with its values), the method,
the status, the browser family and the IP address shortened to its network. No
email address, no full IP, no query string. The rows go through the same buffer
as the hits and are deleted after one month (P12) by the ``technical_logs`` rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from vern.analytics.agents import read_agent
from vern.analytics.buffer import BUFFER
from vern.analytics.models import LogEvent
from vern.lib.ip import client_ip_shortened
from vern.lib.logs import route_of

Handler = Callable[[HttpRequest], HttpResponse]
_ANALYTICS = "/api/analytics/"
_KIND_OF_STATUS = {403: LogEvent.Kind.FORBIDDEN, 429: LogEvent.Kind.RATE_LIMITED}


def log_event(kind: str, request: HttpRequest | None, *, status: int = 0, detail: str = "") -> None:
    agent = read_agent(request.headers.get("User-Agent", "")) if request is not None else None
    BUFFER.add_log(
        LogEvent(
            at=timezone.now(),
            kind=kind,
            status=status,
            method=(request.method or "")[:8] if request is not None else "",
            route=route_of(request)[:200],
            ip=client_ip_shortened(request) if request is not None else "",
            browser=(agent.browser or agent.bot)[:40] if agent is not None else "",
            detail=detail[:200],
        )
    )


def technical_log(get_response: Handler) -> Handler:
    """Middleware: a log row for every answer that says something went wrong or was refused."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        status = response.status_code
        kind = LogEvent.Kind.SERVER_ERROR if status >= 500 else _KIND_OF_STATUS.get(status)
        # A refused analytics hit is counted as dropped, and never stored, not even here.
        if kind is not None and not (status < 500 and request.path.startswith(_ANALYTICS)):
            log_event(kind, request, status=status)
        return response

    return middleware


def login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_login_failed``: the address tried is not logged, only that a login failed and from where."""
    log_event(LogEvent.Kind.LOGIN_FAILED, request, status=200)
