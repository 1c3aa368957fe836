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
from vern.declaration.selectors import declaration_of, latest_version_for

Handler = Callable[[HttpRequest], HttpResponse]


def current_state(request: HttpRequest) -> ConsentState:
    version = latest_version_for(request)
    if version is None:
        return state_for(request, None, 0, timezone.now())
    return state_for(request, declaration_of(version), version.consent_revision, timezone.now())


def consent(get_response: Handler) -> Handler:
    def middleware(request: HttpRequest) -> HttpResponse:
        request.consent = SimpleLazyObject(lambda: current_state(request))  # type: ignore[attr-defined]
        response = get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            # The banner depends on the consent cookie and the GPC header: a shared cache
            # must keep one copy per value (see docs/consent.md, "Page caching").
            patch_vary_headers(response, ["Cookie", "Sec-GPC"])
        _keep_cookies_to_consent(request, response)
        frames = getattr(request, "_vern_frame_sources", None)
        if frames:
            response._csp_update = {"frame-src": sorted(frames)}  # type: ignore[attr-defined]
        return response

    return middleware


def _keep_cookies_to_consent(request: HttpRequest, response: HttpResponse) -> None:
    optional_cookies = _optional_cookies(request)
    if not optional_cookies:
        return
    state: ConsentState = request.consent  # type: ignore[attr-defined]
    for name, category in optional_cookies.items():
        if state.allows(category):
            continue
        if name in response.cookies and response.cookies[name]["max-age"] != 0:
            del response.cookies[name]
        if name in request.COOKIES:
            response.delete_cookie(name, path="/", samesite="Lax")


def _optional_cookies(request: HttpRequest) -> dict[str, str]:
    """First-party cookies of categories that need consent: name → category."""
    version = latest_version_for(request)
    if version is None:
        return {}
    declaration = declaration_of(version)
    optional = {c.id for c in declaration.cookies.categories if c.consent_required}
    return {c.name: c.category for c in declaration.cookies.cookies if c.category in optional and c.party == "first"}
