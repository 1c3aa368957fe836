"""``/api/openapi.json``: one description of every API vern serves, generated from the code.

Each API view declares its operations (``vern.lib.openapi.documented``) with the
pydantic models it validates requests and builds answers with; the paths come
from the URL map, so a route cannot be described under another address.
Every response an operation can give is declared, so that a schema-driven
fuzzer (schemathesis, ``scripts/api_fuzz.py``) finds nothing undeclared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.decorators.http import require_safe

from vern.lib.openapi import Answer, Operation, document, operations_of

INFO = {
    "title": "vern API",
    "version": "1",
    "description": (
        "Record a visitor's cookie choice; send an enquiry or a demo booking from this site or a declared one; "
        "count a page view; read the visitor statistics with a staff member's token."
    ),
}

# gunicorn (``vern serve``) refuses a request line longer than 4,094 bytes before vern sees it. A
# query of the longest values an API takes, percent-encoded, can be longer than that.
LONG_REQUEST_LINE = Answer("The path and query are longer than the web server reads (4,094 bytes)")


def routes(patterns: Iterable[URLPattern | URLResolver], prefix: str = "/") -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every route of the URL map as (path, view)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def api_routes() -> list[tuple[str, Sequence[Operation]]]:
    """The routes under /api/ with the operations each view declares."""
    return [
        (path, operations_of(view)) for path, view in routes(get_resolver().url_patterns) if path.startswith("/api/")
    ]


@functools.cache
def spec() -> dict[str, Any]:
    described = [(path, operations) for path, operations in api_routes() if operations]
    return document(INFO, described, with_query={414: LONG_REQUEST_LINE})


@require_safe
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(spec())
