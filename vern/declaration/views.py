"""The public policy pages: the policy, the cookie table, versions and their changes."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from vern.declaration import changes, selectors
from vern.declaration.context import NOTICE_COOKIE
from vern.declaration.durations import Duration
from vern.declaration.models import PolicyVersion
from vern.lib.language import page_language


def _unpublished(request: HttpRequest) -> HttpResponse:
    return render(request, "declaration/unpublished.html", status=503)


def _policy_response(request: HttpRequest, policy_version: PolicyVersion, *, current: PolicyVersion) -> HttpResponse:
    page = selectors.policy_page(policy_version, page_language(), live=policy_version.number == current.number)
    return render(request, "declaration/policy.html", {"page": page, "current": current})


@require_safe
def policy(request: HttpRequest) -> HttpResponse:
    current = selectors.latest_version()
    if current is None:
        return _unpublished(request)
    return _policy_response(request, current, current=current)


@require_safe
def cookies(request: HttpRequest) -> HttpResponse:
    current = selectors.latest_version()
    if current is None:
        return _unpublished(request)
    page = selectors.policy_page(current, page_language(), live=True)
    return render(request, "declaration/cookies.html", {"page": page})


@require_safe
def versions(request: HttpRequest) -> HttpResponse:
    return render(request, "declaration/versions.html", {"versions": selectors.all_versions()})


def _version_or_404(number: int) -> PolicyVersion:
    found = selectors.version(number)
    if found is None:
        raise Http404
    return found


@require_safe
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    shown = _version_or_404(number)
    current = selectors.latest_version()
    assert current is not None
    return _policy_response(request, shown, current=current)


@require_safe
def version_changes(request: HttpRequest, number: int) -> HttpResponse:
    """Every change of the rendered policy from an earlier version, paragraph by paragraph, in both
    languages: the page's own first."""
    new = _version_or_404(number)
    from_text = request.GET.get("from", "")
    # Any earlier version may be compared; anything else (text, a later version) means the one before.
    old_number = int(from_text) if re.fullmatch(r"[0-9]{1,9}", from_text) else number - 1
    if not 1 <= old_number < number:
        old_number = number - 1
    old = selectors.version(old_number)
    if old is None:
        return render(request, "declaration/changes.html", {"new": new, "old": None, "languages": []})
    first = page_language()
    languages = sorted(settings.LANGUAGES, key=lambda item: item[0] != first)
    context = {
        "new": new,
        "old": old,
        "languages": changes.version_changes(old, new, languages, request=request),
        # "6. desember 2026", "6 December 2026": a date as people write it.
        "published": date_format(timezone.localtime(new.published_at), "j. F Y" if first == "nb" else "j F Y"),
    }
    return render(request, "declaration/changes.html", context)


# Without a CSRF token: closing the notice only sets a cookie in the visitor's own browser, and a
# form on every page must not set the CSRF cookie on every page.
@csrf_exempt
@require_POST
def notice_close(request: HttpRequest) -> HttpResponse:
    """Close the notice of a significant change: a cookie remembers the version, for as long as the
    declaration says; the visitor goes back to the page they were on."""
    current = selectors.latest_version()
    declared = (
        next((c for c in selectors.declaration_of(current).cookies.cookies if c.name == NOTICE_COOKIE), None)
        if current is not None
        else None
    )
    number = request.POST.get("number", "")
    if declared is None or not re.fullmatch(r"[0-9]{1,9}", number) or selectors.version(int(number)) is None:
        raise Http404
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("declaration:policy")
    response = HttpResponseRedirect(back)
    duration = Duration.parse(declared.duration, allow_session=True)
    response.set_cookie(
        NOTICE_COOKIE,
        number,
        max_age=None if duration.is_session else duration.max_seconds(),
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response
