"""The enquiry API, for the company's other sites: the same form, the same checks, the same records.

``GET /api/enquiries/form`` gives a one-time token and the notice a form must
show; ``POST /api/enquiries/`` takes JSON (from ``enquiry.js``) or a plain HTML
form post (from a page without JavaScript). Only this site and the declared
``enquiries.embedding_origins`` may call it (CORS); it sets no cookie.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version_for
from vern.enquiries import tokens
from vern.enquiries.forms import EnquiryForm
from vern.enquiries.intake import body_too_large, problem_message, take
from vern.enquiries.models import Enquiry
from vern.enquiries.selectors import collection_notice
from vern.enquiries.views import render_form
from vern.lib.origins import allow_origin, caller_origin

KINDS = (Enquiry.Kind.CONTACT, Enquiry.Kind.DEMO)
FIELDS = ("name", "email", "phone", "organisation", "message", "preferred_date", "preferred_time", "website", "token")


def _declaration(request: HttpRequest) -> Declaration | None:
    version = latest_version_for(request)
    return declaration_of(version) if version is not None else None


def _error(code: str, status: int, origin: str, message: str, **extra: Any) -> HttpResponse:
    response = JsonResponse({"error": code, "message": message, **extra}, status=status)
    patch_cache_control(response, no_store=True)
    return allow_origin(response, origin)


def _request_message() -> str:
    return _("The request was not understood.")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "OPTIONS"])
def form_config(request: HttpRequest) -> HttpResponse:
    """``GET /api/enquiries/form?kind=contact&lang=nb``: a token, the notice and the policy's address."""
    declaration = _declaration(request)
    # Reading needs no proof of where the request comes from (a token is no secret from a
    # robot); CORS headers go only to declared sites, so no other page can read the answer.
    embedding = declaration.enquiries.embedding_origins if declaration else []
    origin = caller_origin(request, embedding) if request.headers.get("Origin") else ""
    if origin is None:
        return _error("origin", 403, "", _("This site may not use our enquiry forms."))
    if request.method == "OPTIONS":
        return allow_origin(HttpResponse(status=204), origin)
    language, kind = request.GET.get("lang", "nb"), request.GET.get("kind", "contact")
    if language not in ("nb", "en") or kind not in KINDS:
        return _error("request", 400, origin, _request_message())
    with translation.override(language):
        if declaration is None:
            return _error("unpublished", 503, origin, problem_message("unpublished", None))
        notice = collection_notice(declaration, kind, language)
        for key in ("policy_url", "purposes_url", "retention_url", "rights_url"):
            notice[key] = settings.VERN_PUBLIC_URL + notice[key]
    response = JsonResponse({"token": tokens.issue(kind), "min_seconds": tokens.MIN_FILL_SECONDS, "notice": notice})
    patch_cache_control(response, private=True, no_store=True)
    return allow_origin(response, origin)


def _fields(request: HttpRequest) -> dict[str, str] | None:
    """The submitted fields as strings, from JSON or a form post; None if they cannot be read."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict):
            return None
        values: dict[str, str] = {}
        for key, value in body.items():
            if value is None:
                continue
            if not isinstance(value, str):
                return None
            values[str(key)] = value
        return values
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {key: request.POST.get(key, "") for key in request.POST}
    return None


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def submit(request: HttpRequest) -> HttpResponse:
    """``POST /api/enquiries/``: one enquiry; 201 when stored, 200 when the same form came again."""
    declaration = _declaration(request)
    origin = caller_origin(request, declaration.enquiries.embedding_origins if declaration else [])
    if origin is None:
        return _error("origin", 403, "", _("This site may not use our enquiry forms."))
    if request.method == "OPTIONS":
        return allow_origin(HttpResponse(status=204), origin)
    if body_too_large(request):
        return _error("too_large", 413, origin, _("The enquiry is too long."))
    if request.content_type not in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        return _error("media_type", 415, origin, _("Send the enquiry as JSON or as a form."))
    fields = _fields(request)
    if fields is None:
        return _error("request", 400, origin, _request_message())
    language, kind = fields.get("lang", "nb"), fields.get("kind", "")
    if language not in ("nb", "en") or kind not in KINDS:
        return _error("request", 400, origin, _request_message())
    browser_form = request.content_type != "application/json"
    with translation.override(language):
        data = QueryDict(mutable=True)
        for key in FIELDS:
            if key in fields:
                data[key] = fields[key]
        form = EnquiryForm(data, kind=kind)
        channel = Enquiry.Channel.EMBEDDED if origin else Enquiry.Channel.FORM
        outcome = take(request, form, kind=kind, channel=channel, language=language)
        if browser_form:
            # A page without JavaScript: go on as on this site's own form page.
            if outcome.received is not None:
                return HttpResponseRedirect(reverse(f"enquiries:{kind}_thanks"), status=303)
            status = 400 if outcome.status == 422 else outcome.status
            return render_form(request, kind=kind, form=form, problem=outcome.problem, status=status)
        if outcome.received is None:
            extra: dict[str, Any] = {}
            if outcome.problem == "invalid":
                extra["fields"] = {name: [str(m) for m in errors] for name, errors in form.errors.items()}
            return _error(
                outcome.problem, outcome.status, origin, problem_message(outcome.problem, declaration), **extra
            )
        created = outcome.received.created
        if kind == Enquiry.Kind.DEMO:
            message = _("Thank you. We have received your request and will contact you to agree on a time.")
        else:
            message = _("Thank you. We have received your enquiry and will answer you as soon as we can.")
        response = JsonResponse(
            {"status": "received", "kind": kind, "message": message}, status=201 if created else 200
        )
    patch_cache_control(response, no_store=True)
    return allow_origin(response, origin)
