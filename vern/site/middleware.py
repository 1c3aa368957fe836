"""Request logging without personal data, and the security headers Django does not set."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from vern.lib.logs import route_of

log = logging.getLogger("vern.requests")

Handler = Callable[[HttpRequest], HttpResponse]

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def request_log(get_response: Handler) -> Handler:
    """One line per request: method, URL pattern (not the path), status, time.

    The pattern (``staff/people/<int:pk>/``) is logged instead of the path so that
    tokens and other values in URLs never reach the log; no IP address is logged.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        response = get_response(request)
        log.info(
            "%s %s %s %.0fms",
            request.method,
            route_of(request),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    return middleware


def security_headers(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    return middleware


def head_without_body(get_response: Handler) -> Handler:
    """HEAD gets GET's headers (Content-Length included) and no body, as RFC 9110 asks.

    First in MIDDLEWARE, so it sees the response last, after Content-Length is set.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if request.method == "HEAD" and not response.streaming:
            response.content = b""
        return response

    return middleware
