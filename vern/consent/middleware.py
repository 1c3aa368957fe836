"""Every request knows the visitor's consent; every response keeps to it (C9, P13).

``request.consent`` is the visitor's current choice (computed on first use). On
the way out, a cookie of an optional category that the visitor has not allowed is
never set, and one the browser still holds is expired, HttpOnly ones included,
so a withdrawal takes effect on the next response even for cookies that
JavaScript cannot reach.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

from vern.consent.choice import ConsentState, state_for
from vern.consent.expiry import expire_refused
from vern.declaration.selectors import declaration_of, latest_version_for, latest_version_or_last_known

Handler = Callable[[HttpRequest], HttpResponse]


def current_state(request: HttpRequest) -> ConsentState:
    # While the database is down, the version read last: a choice can still be made and kept.
    version = latest_version_or_last_known(request)
    if version is None:
        return state_for(request, None, 0, timezone.now())
    return state_for(request, declaration_of(version), version.consent_revision, timezone.now())


# Where each kind of declared tag loads from and sends to: allowed by the page's CSP only when a
# tag of that kind is declared; the tag itself still runs only after consent (consent.js).
TAG_SOURCES: dict[str, dict[str, list[str]]] = {
    "google": {
        "script-src": ["https://www.googletagmanager.com"],
        "connect-src": [
            "https://*.google-analytics.com",
            "https://*.analytics.google.com",
            "https://*.googletagmanager.com",
        ],
        "img-src": ["https://*.google-analytics.com", "https://*.googletagmanager.com"],
    },
    "clarity": {
        "script-src": ["https://www.clarity.ms", "https://*.clarity.ms"],
        "connect-src": ["https://*.clarity.ms"],
        "img-src": ["https://*.clarity.ms", "https://c.bing.com"],
    },
}


def _is_console(request: HttpRequest) -> bool:
    """The staff console never runs a site's tags, so its CSP never admits their hosts."""
    return request.path.startswith(("/staff/", "/en/staff/"))


def _allow_tags(request: HttpRequest, response: HttpResponse) -> None:
    version = latest_version_for(request)
    if version is None:
        return
    kinds = {tag.kind for tag in declaration_of(version).cookies.tags}
    if not kinds:
        return
    update = dict(getattr(response, "_csp_update", None) or {})
    for kind in sorted(kinds):
        for directive, sources in TAG_SOURCES[kind].items():
            update[directive] = sorted({*update.get(directive, []), *sources})
    response._csp_update = update  # type: ignore[attr-defined]


def consent(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        request.consent = SimpleLazyObject(lambda: current_state(request))  # type: ignore[attr-defined]
        response = get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            # The banner depends on the consent cookie and the GPC header: a shared cache
            # must keep one copy per value (see docs/consent.md, "Page caching").
            patch_vary_headers(response, ["Cookie", "Sec-GPC"])
        if request.COOKIES or response.cookies:  # nothing to keep to otherwise: no query
            version = latest_version_for(request)
            if version is not None:
                state: ConsentState = request.consent  # type: ignore[attr-defined]
                expire_refused(response, request.COOKIES, declaration_of(version), state.allows)
        if response.get("Content-Type", "").startswith("text/html") and not _is_console(request):
            _allow_tags(request, response)
        frames = getattr(request, "_vern_frame_sources", None)
        if frames:
            update = dict(getattr(response, "_csp_update", None) or {})
            update["frame-src"] = sorted({*update.get("frame-src", []), *frames})
            response._csp_update = update  # type: ignore[attr-defined]
        return response

    return middleware
