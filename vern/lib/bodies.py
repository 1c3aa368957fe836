"""Reading a JSON request body for every JSON API: bounded in size and depth, strict UTF-8, never a 500.

``request_body`` (a Django request) and ``read_body`` (a bare WSGI environ, for
the analytics beacon's front) read at most the API's limit, whatever the
``Content-Length`` says or whether there is one (a chunked body). ``parse_json``
decodes the bytes as UTF-8 and nothing else, and counts the brackets outside
strings before ``json.loads`` sees them, so a body nested deeper than
``MAX_DEPTH`` is refused without the parser ever recursing into a
``RecursionError``. Each refusal is a ``BodyRefused`` with the status to answer
(400 or 413); each API answers it in its own error shape.

A body refused for its size is read to its end (up to ``DRAIN_LIMIT``) and
thrown away before the answer goes out: a server that closes a connection
while the client is still sending makes the client's system reset it, and the
client then sees a reset instead of the 413.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from django.http import HttpRequest

MAX_DEPTH = 32  # arrays and objects inside each other; no API needs more than 3
DRAIN_LIMIT = 16 * 1024 * 1024  # bytes of a refused body read and thrown away, at most
CHUNK = 64 * 1024
# A JSON string (possibly cut short at the end of the body), and the brackets that nest.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class BodyRefused(Exception):
    """A body that is not read or not parsed: "too_large" (413) or "request" (400)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


TOO_LARGE = ("too_large", 413)
NOT_UNDERSTOOD = ("request", 400)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _declared_length(environ: Mapping[str, Any]) -> int | None:
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise BodyRefused(*NOT_UNDERSTOOD)
    return int(text)


def _read_up_to(stream: Readable, size: int) -> bytes:
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(min(CHUNK, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _drain(stream: Readable, declared: int | None) -> None:
    """Read what is left of a refused body and throw it away, up to ``DRAIN_LIMIT`` bytes."""
    left = DRAIN_LIMIT if declared is None else min(declared, DRAIN_LIMIT)
    while left > 0:
        part = stream.read(min(CHUNK, left))
        if not part:
            return
        left -= len(part)


def read_body(environ: Mapping[str, Any], stream: Readable, limit: int) -> bytes:
    """At most ``limit`` bytes of the body from ``stream``; else BodyRefused (413, the body drained).

    ``stream`` gives the body as the ``Content-Length`` bounds it; without one, the
    body is read from ``wsgi.input`` when the server says it ends there (a chunked
    body, as gunicorn passes it), and is empty otherwise, as Django reads it.
    """
    declared = _declared_length(environ)
    if declared is None:
        if not environ.get("wsgi.input_terminated") or "wsgi.input" not in environ:
            return b""
        stream = environ["wsgi.input"]
    elif declared > limit:
        _drain(stream, declared)
        raise BodyRefused(*TOO_LARGE)
    # Never more than the length declared: a stream that is not bounded by it would wait for more.
    body = _read_up_to(stream, limit + 1 if declared is None else declared)
    if len(body) > limit:
        _drain(stream, None)
        raise BodyRefused(*TOO_LARGE)
    return body


def request_body(request: HttpRequest, limit: int) -> bytes:
    """The body of a Django request, read as ``read_body`` reads it."""
    return read_body(request.META, request, limit)


def refuse_oversized(request: HttpRequest, limit: int) -> bool:
    """Whether the declared body is larger than ``limit`` (then it is drained, to be refused with 413).

    For a body Django parses itself (a form post), before it reads anything.
    """
    try:
        declared = _declared_length(request.META)
    except BodyRefused:
        return False  # Django reads an unreadable length as an empty body; the form finds it empty
    if declared is None or declared <= limit:
        return False
    _drain(request, declared)
    return True


def nesting_depth(text: str, stop_at: int) -> int:
    """How deep arrays and objects nest in ``text``, counting no bracket inside a string.

    Counting stops at ``stop_at`` + 1: only whether the bound is passed matters.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        else:
            depth -= 1
    return deepest


def parse_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of a UTF-8 body; BodyRefused (400) for other bytes, bad JSON or deep nesting."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(*NOT_UNDERSTOOD) from None
    # Fewer brackets than the bound cannot nest past it (most bodies): no need to count depth.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text, max_depth) > max_depth:
        raise BodyRefused(*NOT_UNDERSTOOD)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError cannot happen below the bound; kept as a guard
        raise BodyRefused(*NOT_UNDERSTOOD) from None


def request_json(request: HttpRequest, limit: int, *, empty: object = None) -> Any:
    """The JSON value of a Django request's body (``empty`` for an empty body); else BodyRefused."""
    body = request_body(request, limit)
    if not body and empty is not None:
        return empty
    return parse_json(body)
