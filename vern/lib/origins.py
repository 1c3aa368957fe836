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

DEFAULT_PORTS = {"http": 80, "https": 443}


def normal_origin(text: str) -> str:
    """``HTTPS://Kaukus.no:443/`` → ``https://kaukus.no``: how browsers write an origin; "" if it is none."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def own_origins(request: HttpRequest) -> set[str]:
    return {normal_origin(settings.VERN_PUBLIC_URL), normal_origin(f"{request.scheme}://{request.get_host()}")}


def caller_origin(request: HttpRequest, embedding: list[str]) -> str | None:
    """The origin a request comes from if it may act: this site (``""``) or a declared one; else None."""
    own = own_origins(request)
    allowed = own | {normal_origin(origin) for origin in embedding}
    header = request.headers.get("Origin")
    if header is None and request.headers.get("Referer"):
        header = request.headers["Referer"]
    if header is None:
        return "" if request.headers.get("Sec-Fetch-Site") == "same-origin" else None
    origin = normal_origin(header)
    if not origin or origin not in allowed:
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
