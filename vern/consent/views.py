"""Where a choice arrives: the banner's form (works without JavaScript) and the JSON API.

Neither uses Django's CSRF cookie: a visitor who has not chosen yet must get no
cookie at all, and a page with the banner must be cacheable. Forgery is stopped
by the origin instead: a decision is accepted only from this site, or from a
site the declaration names (``embedding_origins``), as the browser's ``Origin``
(or ``Referer``) header shows, and the form carries a signed token that only a
page rendered here in the last week has (docs/consent.md).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from pydantic import ValidationError

from vern.consent.choice import COOKIE_NAME, Choice, ConsentState, cookie_domain
from vern.consent.content import banner_content
from vern.consent.middleware import current_state
from vern.consent.models import ConsentEvent
from vern.consent.schemas import (
    CHOOSE,
    CONFIG,
    MESSAGES,
    BannerConfig,
    ChoiceRecorded,
    ChoiceRequest,
    ConfigQuery,
    ConsentError,
    HeldChoice,
    preflight,
)
from vern.consent.services import ConsentRefused, Decision, consent_decide
from vern.declaration.selectors import declaration_of, latest_version_for, latest_version_or_last_known
from vern.lib.bodies import BodyRefused, request_json
from vern.lib.ip import client_ip_shortened
from vern.lib.language import page_language
from vern.lib.openapi import documented, refused_values
from vern.lib.origins import allow_origin, caller_origin
from vern.lib.outage import MinuteWindow, is_outage
from vern.lib.ratelimit import Limit, hit

TOKEN_SALT = "vern.consent.form"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 7 * 24 * 3600
MAX_BODY = 4096
DIGITS = re.compile(r"[0-9]{1,9}")


def _per_network() -> Limit:
    return Limit("consent", limit=settings.VERN_CONSENT_RATE, window_seconds=60)


# While the database (and with it the shared counters) is down, each process counts on its own.
_while_down = MinuteWindow()


def _admitted(request: HttpRequest) -> bool:
    network = client_ip_shortened(request)
    try:
        return hit(_per_network(), network)
    except Exception as exc:
        if not is_outage(exc):
            raise
        return _while_down.allow(network, settings.VERN_CONSENT_RATE)


def form_token() -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign("consent")


def _token_valid(token: str) -> bool:
    try:
        return signing.TimestampSigner(salt=TOKEN_SALT).unsign(token, max_age=TOKEN_MAX_AGE) == "consent"
    except signing.BadSignature:
        return False


def set_choice_cookie(response: HttpResponse, decision: Decision, domain: str = "") -> None:
    response.set_cookie(
        COOKIE_NAME,
        decision.choice.encode(),
        max_age=int((decision.expires_at - decision.event.created_at).total_seconds()),
        path="/",
        domain=domain or None,
        secure=settings.HTTPS,
        httponly=False,  # consent.js reads it to activate scripts without a reload
        samesite="Lax",
    )


def _number(value: object) -> int | None:
    text = str(value) if isinstance(value, int | str) else ""
    return int(text) if DIGITS.fullmatch(text) else None


def _path(value: object) -> str:
    """The page a choice was made on, as a path of at most 300 characters; anything else is dropped."""
    text = str(value or "")
    return text if len(text) <= 300 and text.startswith("/") and not text.startswith("//") else ""


def _decide(
    request: HttpRequest,
    fields: dict[str, Any],
    *,
    layer: str,
    origin: str,
    language: str,
    previous: Choice | None,
    lapsed: bool,
) -> Decision:
    state: ConsentState = request.consent  # type: ignore[attr-defined]
    decision = consent_decide(
        choice=str(fields.get("choice", "")),
        categories=[str(c) for c in fields.get("categories", [])],
        revision=_number(fields.get("revision")),
        shown_version=_number(fields.get("version")),
        language=language,
        layer=layer,
        page_path=_path(fields.get("path")),
        origin=origin,
        ip_shortened=client_ip_shortened(request),
        gpc=state.gpc or fields.get("gpc") is True,
        previous=previous,
        lapsed=lapsed,
    )
    # From here on this request answers for the new choice: the middleware expires the cookies
    # of every category it refuses (HttpOnly ones too) in this very response.
    request.consent = state.with_choice(decision.choice)  # type: ignore[attr-defined]
    return decision


def _refusal_page(request: HttpRequest, code: str, status: int) -> HttpResponse:
    return render(request, "consent/refused.html", {"message": MESSAGES[code]()}, status=status)


@csrf_exempt
@require_POST
def choose(request: HttpRequest) -> HttpResponse:
    """The banner's and the settings form's POST; answers with a redirect back to the page."""
    if caller_origin(request, []) is None:  # the form lives on this site's pages only
        return _refusal_page(request, "origin", 403)
    if not _token_valid(request.POST.get("token", "")):
        return _refusal_page(request, "token", 403)
    if not _admitted(request):
        return _refusal_page(request, "throttled", 429)
    back = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts=None) or not back.startswith("/"):
        back = "/"
    if request.POST.get("choice") == "settings":
        # Without JavaScript, "Settings" opens the settings on the cookie page.
        return HttpResponseRedirect(f"{_settings_path()}#settings", status=303)
    fields = {
        "choice": "custom" if request.POST.get("choice") == "save" else request.POST.get("choice"),
        "categories": request.POST.getlist("categories"),
        "revision": request.POST.get("revision"),
        "version": request.POST.get("version"),
        "path": back,
    }
    layer = ConsentEvent.Layer.SETTINGS if request.POST.get("layer") == "settings" else ConsentEvent.Layer.BANNER
    state: ConsentState = request.consent  # type: ignore[attr-defined]
    try:
        decision = _decide(
            request,
            fields,
            layer=layer,
            origin="",
            language=page_language(),
            previous=state.choice or state.stale,
            lapsed=state.choice is None and state.stale is not None,
        )
    except ConsentRefused as exc:
        return _refusal_page(request, exc.code, 400)
    response = HttpResponseRedirect(back, status=303)
    set_choice_cookie(response, decision, _domain_for(request, request.get_host()))
    return response


def _domain_for(request: HttpRequest, host: str) -> str:
    """The declared parent domain of the choice cookie, when ``host`` (a port allowed) is under it."""
    version = latest_version_for(request)
    declaration = declaration_of(version) if version is not None else None
    return cookie_domain(declaration, host.rsplit(":", 1)[0] if not host.endswith("]") else host)


def _settings_path() -> str:
    return reverse("declaration:cookies")


def state_revision(request: HttpRequest) -> int:
    version = latest_version_or_last_known(request)
    return version.consent_revision if version is not None else 0


def _error(code: str, status: int, origin: str = "") -> HttpResponse:
    body = ConsentError(error=code, message=MESSAGES[code]())
    return allow_origin(JsonResponse(body.model_dump(), status=status), origin)


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
@documented(CHOOSE, preflight("chooseConsentPreflight"))
def api_choose(request: HttpRequest) -> HttpResponse:
    """``POST /api/consent/`` with JSON ``{choice, categories, revision, path, gpc}`` (``ChoiceRequest``).

    202 instead of 200 when the database is down: the choice is kept and stored when it is back.
    """
    version = latest_version_or_last_known(request)
    embedding = declaration_of(version).cookies.embedding_origins if version else []
    origin = caller_origin(request, embedding)
    if origin is None:
        return _error("origin", 403)
    if request.method == "OPTIONS":
        return allow_origin(HttpResponse(status=204), origin)
    if not _admitted(request):
        return _error("throttled", 429, origin)
    if request.content_type != "application/json":
        # JSON only: a browser must ask (CORS preflight) before sending it from another site.
        return _error("request", 415, origin)
    try:
        fields = request_json(request, MAX_BODY, empty={})
    except BodyRefused as refused:  # too large, not UTF-8, not JSON, or nested too deep
        return _error("request", refused.status, origin)
    try:
        body = ChoiceRequest.model_validate(fields)
    except ValidationError as exc:
        if refused_values(exc) is None:  # not an object, or a field of another JSON type
            return _error("request", 400, origin)
        # Well formed, but without a choice or revision, or with a value the banner never offers:
        # the service refuses it, after the checks a stale page must meet first (the published
        # policy, its consent revision), so the answer is the one it always was.
        given = {name: fields[name] for name in ChoiceRequest.model_fields if name in fields}
        body = ChoiceRequest.model_construct(**{"choice": "", "revision": None, **given})
    state: ConsentState = request.consent  # type: ignore[attr-defined]
    layer: str
    if origin:
        # Another site: its own cookie, sent in the body and checked here, is the earlier
        # choice; cookies the browser holds for this site are never read for it.
        layer = ConsentEvent.Layer.EMBED
        previous = Choice.decode(body.cookie)
        lapsed = previous is not None and previous.revision != state_revision(request)
    else:
        layer = body.layer
        if layer == ConsentEvent.Layer.EMBED:
            return _error("request", 400, origin)
        previous, lapsed = state.choice or state.stale, state.choice is None and state.stale is not None
    try:
        decision = _decide(
            request,
            dict(body),
            layer=layer,
            origin=origin,
            language=body.lang,
            previous=previous,
            lapsed=lapsed,
        )
    except ConsentRefused as exc:
        return _error(exc.code, 422 if exc.code in ("category", "choice", "revision") else 400, origin)
    recorded = ChoiceRecorded(
        consent_id=decision.choice.consent_id,
        granted=sorted(decision.choice.granted),
        refused=sorted(decision.refused),
        revision=decision.choice.revision,
        decided_at=decision.event.created_at.isoformat(),
        expires_at=decision.expires_at.isoformat(),
        cookie=decision.choice.encode(),
        max_age=int((decision.expires_at - decision.event.created_at).total_seconds()),
        domain=_domain_for(request, urlsplit(origin).netloc if origin else request.get_host()),
    )
    response = JsonResponse(recorded.model_dump(), status=202 if decision.pending else 200)
    if not origin:
        set_choice_cookie(response, decision, recorded.domain)
    return allow_origin(response, origin)


@csrf_exempt
@require_http_methods(["GET", "HEAD", "OPTIONS"])
@documented(CONFIG, preflight("consentConfigPreflight"))
def api_config(request: HttpRequest) -> HttpResponse:
    """``GET /api/consent/config?lang=nb``: what the banner shows, for a page that renders it itself."""
    version = latest_version_for(request)
    embedding = declaration_of(version).cookies.embedding_origins if version else []
    origin = caller_origin(request, embedding) if request.headers.get("Origin") else ""
    if origin is None:
        return _error("origin", 403)
    if request.method == "OPTIONS":
        return allow_origin(HttpResponse(status=204), origin)
    if version is None:
        return _error("unpublished", 503, origin)
    try:
        query = ConfigQuery.model_validate({key: request.GET[key] for key in request.GET})
    except ValidationError:
        return _error("request", 400, origin)
    language = query.lang
    digest, content = banner_content(version, language)
    # The choice this visitor holds, checked here (signature, revision, lifetime, GPC): from this
    # site's cookie, or for another site from the cookie it sends as ?cookie=.
    if origin:
        request.COOKIES = {COOKIE_NAME: query.cookie} if query.cookie else {}
        request.consent = current_state(request)  # type: ignore[attr-defined]
    state: ConsentState = request.consent  # type: ignore[attr-defined]
    choice = HeldChoice(consent_id=state.choice.consent_id, granted=state.granted) if state.choice else None
    with translation.override(language):
        policy_url = settings.VERN_PUBLIC_URL + reverse("declaration:policy")
    config = BannerConfig(hash=digest, content=content, choice=choice, policy_url=policy_url, version=version.number)
    response = JsonResponse(config.model_dump())
    patch_vary_headers(response, ["Cookie", "Sec-GPC"])
    patch_cache_control(response, private=True, no_store=True)
    return allow_origin(response, origin)
