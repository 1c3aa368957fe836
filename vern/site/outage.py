"""A database outage is answered 503 with ``Retry-After``, never 500: JSON for the APIs, a short page otherwise.

``vern.lib.outage`` tells an outage (the database cannot be reached, or a
connection was dropped) from every other error. Whatever layer raises it, the
answer is built here without the database: the middleware ``database_outage``
catches it from a view, and ``handler500`` (``vern.site.views.server_error``)
from a middleware. The log gets one line (``REPORTER``), not a traceback per
request, and Django's own error line is skipped.

- ``/api/consent/…`` and ``/api/enquiries/…`` answer in their documented error shape
  (``ConsentError``, ``EnquiryError``) with the error ``unavailable``;
- ``/api/analytics/…`` answers with an empty body, like every other answer there;
- a page answers with ``site/503.html`` in the page's language (``/en/…`` English,
  else Bokmål), rendered without a session and without the context processors,
  which read the database.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template
from django.utils import translation
from django.utils.translation import get_language_from_path

from vern.consent.schemas import MESSAGES as CONSENT_MESSAGES
from vern.consent.schemas import ConsentError
from vern.enquiries.schemas import EnquiryError
from vern.lib.outage import REPORTER, RETRY_AFTER, is_outage

Handler = Callable[[HttpRequest], HttpResponse]
LANGUAGES = ("nb", "en")


def _api_language(request: HttpRequest) -> str:
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    active = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in LANGUAGES else settings.LANGUAGE_CODE


def _api_answer(request: HttpRequest) -> HttpResponse:
    path = request.path_info
    with translation.override(_api_language(request)):
        if path.startswith("/api/consent/"):
            consent = ConsentError(error="unavailable", message=CONSENT_MESSAGES["unavailable"]())
            return JsonResponse(consent.model_dump(), status=503)
        if path.startswith("/api/enquiries/"):
            body = EnquiryError(error="unavailable", message=CONSENT_MESSAGES["unavailable"]())
            return JsonResponse(body.model_dump(exclude_defaults=True), status=503)
        if path.startswith("/api/analytics/"):
            return HttpResponse(status=503)
        return JsonResponse({"error": "unavailable", "message": CONSENT_MESSAGES["unavailable"]()}, status=503)


def _page(request: HttpRequest) -> HttpResponse:
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    if language not in LANGUAGES:
        language = settings.LANGUAGE_CODE
    other = "en" if language == "nb" else "nb"
    with translation.override(language):
        html = get_template("site/503.html").render(
            {
                "language": language,
                "other": other,
                "home": "/en/" if language == "en" else "/",
                "other_home": "/en/" if other == "en" else "/",
                "site_name": settings.VERN_SITE_NAME,
                "retry_after": RETRY_AFTER,
            }
        )
    response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return response


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 for ``request``, which failed because the database is down (``exc``)."""
    REPORTER.seen(exc, "a request")
    response = _api_answer(request) if request.path_info.startswith("/api/") else _page(request)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # the line above says it; no traceback
    return response


def database_outage(get_response: Handler) -> Handler:
    """Middleware: a view that fails because the database is down gets the 503 above."""

    def middleware(request: HttpRequest) -> HttpResponse:
        return get_response(request)

    def process_exception(request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return outage_response(request, exception) if is_outage(exception) else None

    middleware.process_exception = process_exception  # type: ignore[attr-defined]
    return middleware
