"""The enquiry API, for the company's other sites: the same form, the same checks, the same records.

``GET /api/enquiries/form`` gives a one-time token and the notice a form must
show; ``POST /api/enquiries/`` takes JSON (from ``enquiry.js``) or a plain HTML
form post (from a page without JavaScript). Only this site and the declared
``enquiries.embedding_origins`` may call it (CORS); it sets no cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version_for
from vern.enquiries import tokens
from vern.enquiries.forms import EnquiryForm
from vern.enquiries.intake import MAX_BODY, body_too_large, problem_message, take
from vern.enquiries.models import Enquiry
from vern.enquiries.schemas import (
    FORM,
    SUBMIT,
    EnquiryError,
    EnquiryRequest,
    FormConfig,
    FormQuery,
    Received,
    preflight,
)
from vern.enquiries.selectors import collection_notice
from vern.enquiries.views import render_form
from vern.lib.bodies import BodyRefused, request_json
from vern.lib.openapi import documented, refused_values
from vern.lib.origins import allow_origin, caller_origin
from vern.lib.outage import RETRY_AFTER

FIELDS = ("name", "email", "phone", "organisation", "message", "preferred_date", "preferred_time", "website", "token")


def _declaration(request: HttpRequest) -> Declaration | None:
    version = latest_version_for(request)
    return declaration_of(version) if version is not None else None


def _error(
    code: str, status: int, origin: str, message: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    body = EnquiryError(error=code, message=message, fields=fields or {})
    response = JsonResponse(body.model_dump(exclude_defaults=True), status=status)
    patch_cache_control(response, no_store=True)
    if code == "unavailable":  # the database failed: nothing was stored, and trying again later will do
        response["Retry-After"] = str(RETRY_AFTER)
    return allow_origin(response, origin)


def _request_message() -> str:
    return _("The request was not understood.")


@csrf_exempt
@require_http_methods(["GET", "HEAD", "OPTIONS"])
@documented(FORM, preflight("enquiryFormPreflight"))
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
    try:
        query = FormQuery.model_validate({key: request.GET[key] for key in request.GET})
    except ValidationError:
        return _error("request", 400, origin, _request_message())
    language, kind = query.lang, query.kind
    with translation.override(language):
        if declaration is None:
            return _error("unpublished", 503, origin, problem_message("unpublished", None))
        notice = collection_notice(declaration, kind, language)
        for key in ("policy_url", "purposes_url", "retention_url", "rights_url"):
            notice[key] = settings.VERN_PUBLIC_URL + notice[key]
    config = FormConfig(token=tokens.issue(kind), min_seconds=tokens.MIN_FILL_SECONDS, notice=notice)
    response = JsonResponse(config.model_dump())
    patch_cache_control(response, private=True, no_store=True)
    return allow_origin(response, origin)


def _fields(request: HttpRequest) -> dict[str, str] | None:
    """The submitted fields as strings, from JSON or a form post; None if they cannot be read.

    A JSON body too large, not UTF-8, not JSON or nested too deep raises BodyRefused.

    ``EnquiryRequest`` decides what can be read: an object whose values are strings (null is
    left out), with a kind and a language offered. A field left out that the form needs is
    for the form to name, in the visitor's words, as on this site's own pages.
    """
    if request.content_type == "application/json":
        body = request_json(request, MAX_BODY, empty={})
    else:
        try:
            body = {key: request.POST.get(key, "") for key in request.POST}
        except MultiPartParserError:  # a multipart body without its boundary, or cut short
            return None
    try:
        EnquiryRequest.model_validate(body)
    except ValidationError as exc:
        refused = refused_values(exc)
        if refused is None or refused & {"kind", "lang"}:
            return None
    return {str(key): value for key, value in body.items() if value is not None}


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
@documented(SUBMIT, preflight("submitEnquiryPreflight"))
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
    try:
        fields = _fields(request)
    except BodyRefused as refused:  # a JSON body larger than the limit, not UTF-8, or nested too deep
        if refused.status == 413:
            return _error("too_large", 413, origin, _("The enquiry is too long."))
        fields = None
    if fields is None:
        return _error("request", 400, origin, _request_message())
    language, kind = fields.get("lang", "nb"), fields["kind"]
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
            fields_wrong: dict[str, list[str]] = {}
            if outcome.problem == "invalid":
                fields_wrong = {name: [str(m) for m in errors] for name, errors in form.errors.items()}
            message = problem_message(outcome.problem, declaration)
            return _error(outcome.problem, outcome.status, origin, message, fields_wrong)
        created = outcome.received.created
        if kind == Enquiry.Kind.DEMO:
            message = _("Thank you. We have received your request and will contact you to agree on a time.")
        else:
            message = _("Thank you. We have received your enquiry and will answer you as soon as we can.")
        received = Received(kind=kind, message=message)
        response = JsonResponse(received.model_dump(), status=201 if created else 200)
    patch_cache_control(response, no_store=True)
    return allow_origin(response, origin)
