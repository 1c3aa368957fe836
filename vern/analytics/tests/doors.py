"""Two doors for a beacon, as tests use them: the WSGI front production runs, and the Django view."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from vern.analytics.collector import front

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _django(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    client = Client(HTTP_USER_AGENT=headers.pop("User-Agent", FIREFOX), REMOTE_ADDR=headers.pop("ip", "203.0.113.77"))
    meta: dict[str, Any] = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    response = client.post("/api/analytics/event", data=body, content_type="text/plain", **meta)
    return response.status_code, dict(response.headers)


def _wsgi(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Through the WSGI front that production runs, without Django's middleware."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/analytics/event",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": headers.pop("ip", "203.0.113.77"),
        "HTTP_USER_AGENT": headers.pop("User-Agent", FIREFOX),
    }
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    def django_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise AssertionError("the beacon must be answered in front of Django")

    # As Django's test client does: the test's own connection (its transaction) must stay open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        front(django_app)(environ, start_response)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"]


def sender(door_name: str) -> Any:
    """A function that sends a beacon through one door; both doors must behave the same."""
    door = _wsgi if door_name == "wsgi" else _django

    def send(payload: Any, **headers: str) -> tuple[int, dict[str, str]]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return door(body, dict(headers))

    return send


@pytest.fixture(params=["wsgi", "django"])
def send(request: Any, published: Any) -> Any:
    """Each test that sends beacons runs through both doors."""
    return sender(request.param)
