"""Which site a request comes from, for APIs that other sites of the same company may call.

A browser names the page's origin in ``Origin`` (or, failing that, ``Referer``);
an API that changes something accepts it only from this site or from a site the
declaration lists, and answers those with CORS headers. Together with
``SameSite`` cookies this is what stops cross-site forgery for requests that
carry no CSRF cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers


def own_origins(request: HttpRequest) -> set[str]:
    public = urlsplit(settings.VERN_PUBLIC_URL)
    return {f"{public.scheme}://{public.netloc}", f"{request.scheme}://{request.get_host()}"}


def caller_origin(request: HttpRequest, embedding: list[str]) -> str | None:
    """The origin a request comes from if it may act: this site (``""``) or a declared one; else None."""
    own = own_origins(request)
    allowed = own | {origin.rstrip("/") for origin in embedding}
    origin = request.headers.get("Origin")
    if origin is None and request.headers.get("Referer"):
        parts = urlsplit(request.headers["Referer"])
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin is None:
        return "" if request.headers.get("Sec-Fetch-Site") == "same-origin" else None
    if origin not in allowed:
        return None
    return "" if origin in own else origin


def allow_origin(response: HttpResponse, origin: str, *, methods: str = "GET, POST, OPTIONS") -> HttpResponse:
    """CORS headers for a declared site (``origin``); none for this site's own requests."""
    patch_vary_headers(response, ["Origin"])
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = methods
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "3600"
    return response
