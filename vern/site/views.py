from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from vern.accounts.access import CapabilityMissing, staff_member
from vern.accounts.views import console_forbidden
from vern.lib.outage import is_outage
from vern.site.outage import outage_response


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "site/home.html")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /staff/", "Disallow: /en/staff/", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "site/csrf_failure.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "site/error.html", {"status": 400}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, CapabilityMissing) and staff_member(request) is not None:
        return console_forbidden(request, exception)  # inside the console, in its layout
    return render(request, "site/error.html", {"status": 403}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "site/error.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Rendered without the context processors: whatever broke may be among them.
    from django.template.loader import get_template

    error = sys.exc_info()[1]
    if error is not None and is_outage(error):
        # The database is down (raised in a middleware, or where the view middleware does not see it).
        return outage_response(request, error)
    return HttpResponse(get_template("site/500.html").render(), status=500)
