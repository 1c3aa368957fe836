"""The privacy center's public pages: the request form, the confirmation link, and the download.

What the visitor sees after sending a request is the same whether or not we hold
data about the address (LAW.md §3): the form page never looks at anyone's data,
and the confirmation link goes only to the address given. The pages that carry a
token in their path (confirm, download) load no analytics, send no referrer and
are never cached; a GET there only shows a button, because mail scanners open
links, and only a POST acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from vern.declaration.schema import Declaration
from vern.declaration.selectors import bases_text, declaration_of, latest_version_for, localise, retention_body
from vern.lib.days import local_day
from vern.lib.ip import client_ip
from vern.lib.language import page_language
from vern.registry import surface
from vern.rights import selectors
from vern.rights.forms import CenterForm
from vern.rights.models import PURPOSE, RETENTION, Request, Right
from vern.rights.portability_schema import PORTABILITY_SCHEMA
from vern.rights.services.downloads import download_open
from vern.rights.services.intake import CONFIRM_HOURS, request_confirm, request_submit
from vern.rights.services.steps import RequestRefused
from vern.rights.stages import stages_of
from vern.rights.texts import authority_of, day_text, public_link, reference_of

GOAL_REQUESTED = "rights_request_made"  # the goal this app reports (vern.registry.surface.reach_goal)

# Where each refusal of the service is shown: beside a field, or above the form.
FIELD_OF = {
    "rights": "rights",
    "email_required": "email",
    "contact": "email",
    "email": "email",
    "phone": "phone",
    "details": "details",
}
STATUS_OF = {"rate": 429, "unpublished": 503}
# Rights whose answer is a download link sent by mail as soon as the request is confirmed.
PACKAGED = (Right.ACCESS, Right.PORTABILITY)
SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
# "6. desember 2026 kl. 20.02", "6 December 2026, 20:02": a moment as people write it, not "Dec. 6, 8:02 p.m.".
MOMENT_FORMAT = {"nb": r"j. F Y \k\l. H.i", "en": "j F Y, H:i"}


@dataclass(frozen=True)
class RightShown:
    """One checkbox of the form: the right's id, and its name and description from the policy."""

    value: str
    name: str
    description: str
    checked: bool


def _declaration(request: HttpRequest) -> Declaration | None:
    version = latest_version_for(request)
    return declaration_of(version) if version is not None else None


def _request_email(request: HttpRequest) -> str:
    declaration = _declaration(request)
    return str(declaration.rights.request_email) if declaration is not None else ""


def _refusal_text(code: str, declaration: Declaration | None) -> str:
    """A refusal of the service, in the visitor's language; never repeats what was typed."""
    request_email = str(declaration.rights.request_email) if declaration is not None else ""
    texts = {
        "rights": _("Choose at least one of the rights."),
        "email_required": _("Enter your email address."),
        "contact": _("Enter your email address."),
        "email": _("Enter a valid email address, like name@example.no."),
        "phone": _("Enter a valid phone number, like 912 34 567 or +46 70 123 45 67."),
        "details": _("The details have at most 5,000 characters."),
        "rate": _(
            "We have had several requests from you in a short time, so we cannot take another one now. "
            "Try again later, or write to us at %(email)s."
        )
        % {"email": request_email},
        "unpublished": _("We cannot take requests through this page just now. Please write to us by email instead."),
    }
    return texts.get(code, _("We could not take the request. Check what you wrote and try again."))


def _described(declaration: Declaration | None, language: str) -> dict[str, dict[str, str]]:
    """Each right's name and description as the published policy gives them, by id."""
    if declaration is None:
        return {}
    return {item["id"]: item for item in localise(declaration.rights.rights, language)}


def _name_of(right: str, described: dict[str, dict[str, str]]) -> str:
    return str(described.get(right, {}).get("name") or Right(right).label)


def _rights_shown(form: CenterForm, declaration: Declaration | None, language: str) -> list[RightShown]:
    """The seven rights in the policy's order, named and described as the published policy does."""
    described = _described(declaration, language)
    chosen = set(form["rights"].value() or []) if form.is_bound else set()
    shown = []
    for value in Right.values:
        shown.append(
            RightShown(
                value=value,
                name=_name_of(value, described),
                description=str(described.get(value, {}).get("description") or ""),
                checked=value in chosen,
            )
        )
    return shown


def _center_page(
    request: HttpRequest, *, form: CenterForm, declaration: Declaration | None, problem: str = "", status: int = 200
) -> HttpResponse:
    language = page_language()
    rights = localise(declaration.rights, language) if declaration is not None else None
    authority = authority_of(declaration, language) if declaration is not None else None
    context = {
        "form": form,
        "rights": _rights_shown(form, declaration, language),
        "unavailable": declaration is None,
        "problem": problem,
        "hours": CONFIRM_HOURS,
        "response_days": rights["response_days"] if rights else None,
        "request_email": rights["request_email"] if rights else "",
        "authority": authority,
        "contact_us_first": str(localise(declaration.authority.contact_us_first, language)) if declaration else "",
        "has_consent_id": bool(surface.consent_id_from(request.COOKIES)),
        "notice": _collection_notice(declaration, language) if declaration is not None else None,
    }
    return render(request, "rights/center.html", context, status=status)


def _collection_notice(declaration: Declaration, language: str) -> dict[str, str]:
    """What the form says beside its button about the details it takes (Art. 13), from the policy."""
    purpose = declaration.purpose(PURPOSE)
    rule = declaration.rule(RETENTION)
    return {
        "controller": declaration.controller.name,
        "collected": _("your email address, your phone number if you give it, and what you write"),
        "why": _("to handle your request and to be able to show how we answered it"),
        "basis": bases_text(purpose, language) if purpose is not None else "",
        "retention": retention_body(rule, language) if rule is not None else "",
        "policy_url": reverse("declaration:policy"),
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def center(request: HttpRequest) -> HttpResponse:
    declaration = _declaration(request)
    if request.method != "POST":
        return _center_page(request, form=CenterForm(), declaration=declaration)
    form = CenterForm(request.POST)
    if not form.is_valid():
        return _center_page(request, form=form, declaration=declaration, status=400)
    data = form.cleaned_data
    try:
        request_submit(
            rights=data["rights"],
            email=data["email"],
            phone=data["phone"],
            details=data["details"],
            language=page_language(),
            consent_id=surface.consent_id_from(request.COOKIES),
            ip=client_ip(request),
            marketing_objection=bool(data["marketing_objection"]),
        )
    except RequestRefused as refused:
        text = _refusal_text(refused.code, declaration)
        status = STATUS_OF.get(refused.code, 400)
        field = FIELD_OF.get(refused.code)
        if field is not None:
            form.add_error(field, text)
            return _center_page(request, form=form, declaration=declaration, status=status)
        return _center_page(request, form=form, declaration=declaration, problem=text, status=status)
    surface.reach_goal(GOAL_REQUESTED, request)  # a goal, counted by the app that counts them (ADR 0020)
    return HttpResponseRedirect(reverse("rights:sent"), status=303)


@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    """The same page for every address: it says nothing about whether we hold data about it."""
    declaration = _declaration(request)
    context = {
        "request_email": str(declaration.rights.request_email) if declaration is not None else "",
        "hours": CONFIRM_HOURS,
    }
    return render(request, "rights/sent.html", context)


def _private(response: HttpResponse) -> HttpResponse:
    """A page whose address carries a token: nothing of it goes to another site, or to a cache."""
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    response["X-Robots-Tag"] = "noindex"
    return response


# The token in the address is what proves the right to act, and it is secret: a forged POST
# from another site would need it. The CSRF cookie check is left out because these pages
# send no referrer, so browsers post them with "Origin: null", which that check refuses.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button, the same for every token; POST: the request is confirmed."""
    if request.method != "POST":
        return _private(render(request, "rights/confirm.html", {"state": "ask"}))
    try:
        confirmed = request_confirm(token=token)
    except RequestRefused as refused:
        state = refused.code if refused.code in ("used", "expired", "rate") else "invalid"
        status = {"invalid": 404, "rate": 429}.get(state, 410)
        refusal = {"state": state, "request_email": _request_email(request)}
        return _private(render(request, "rights/confirm.html", refusal, status=status))
    context = _confirmed_context(confirmed, _described(_declaration(request), page_language()))
    return _private(render(request, "rights/confirm.html", context))


def _confirmed_context(confirmed: Request, described: dict[str, dict[str, str]]) -> dict[str, object]:
    """What happens next: a download link by mail, what is done already, and the date we answer by."""
    rights = set(confirmed.rights)
    packaged = [right for right in PACKAGED if right in rights]
    already = [
        _name_of(right, described) for right in confirmed.rights if right in confirmed.done and right not in PACKAGED
    ]
    waiting = [right for right in confirmed.rights if right not in PACKAGED and right not in confirmed.done]
    return {
        "state": "confirmed",
        "reference": reference_of(confirmed),
        "download_sent": bool(packaged) and bool(confirmed.email),
        "already_done": already,
        "waiting": bool(waiting),
        "marketing_stopped": confirmed.marketing_objection,
        "due": day_text(confirmed.deadline, page_language()),
        "status_url": reverse("rights:status", kwargs={"token": confirmed.status_token})
        if confirmed.status_token
        else "",
    }


@csrf_exempt  # as confirm: the token is the proof, and the page sends no referrer
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def download(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button, the same for every token; POST: the package, once."""
    if request.method != "POST":
        return _private(render(request, "rights/download.html", {"state": "ask"}))
    try:
        _download, content, filename = download_open(token)
    except RequestRefused as refused:
        state = refused.code if refused.code in ("used", "expired") else "invalid"
        status = 404 if state == "invalid" else 410
        declaration = _declaration(request)
        context = {"state": state, "request_email": declaration.rights.request_email if declaration else ""}
        return _private(render(request, "rights/download.html", context, status=status))
    response = HttpResponse(content, content_type="application/zip")
    safe_name = SAFE_FILENAME.sub("-", filename) or "data.zip"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    return _private(response)


@never_cache
@require_safe
def status(request: HttpRequest, token: str) -> HttpResponse:
    """The person's view of their request, by the link in every mail about it: where it stands, the
    date we answer by, and what staff wrote to them. It shows nothing the mails do not already say,
    and never the address; an unknown link gets the same page whatever the reason."""
    found = selectors.request_by_status_token(token)
    if found is None:
        declaration = _declaration(request)
        invalid = {"state": "invalid", "request_email": declaration.rights.request_email if declaration else ""}
        return _private(render(request, "rights/status.html", invalid, status=404))
    language = page_language()
    described = _described(_declaration(request), language)
    context: dict[str, object] = {
        "state": "found",
        "reference": reference_of(found),
        "subject": found,
        "stages": stages_of(found),
        "rights": [
            {"name": _name_of(right, described), "done": right in found.done}
            for right in found.rights
            if right in Right.values
        ],
        "due": day_text(found.deadline, language),
        "received": day_text(local_day(found.received_at), language),
        "closed": day_text(local_day(found.closed_at), language) if found.closed_at else "",
        "messages": [
            {
                "kind": message.kind,
                "text": message.text,
                "at": message.at,
                "when": date_format(timezone.localtime(message.at), MOMENT_FORMAT[language]),
            }
            for message in selectors.status_messages(found)
        ],
        "ground": str(Request.Ground(found.refusal_ground).label) if found.refusal_ground else "",
    }
    return _private(render(request, "rights/status.html", context))


@require_safe
def portability_schema(request: HttpRequest) -> HttpResponse:
    """The published JSON Schema that the portability package follows (R18)."""
    schema = {"$id": public_link("rights:portability_schema", "nb"), **PORTABILITY_SCHEMA}
    response = JsonResponse(schema, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Type"] = "application/schema+json"
    return response
