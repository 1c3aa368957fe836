"""The public newsletter pages: subscribe, confirm, unsubscribe (one click, RFC 8058), preferences."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version_for
from vern.lib.ip import client_ip_shortened
from vern.lib.language import page_language
from vern.newsletter import services
from vern.newsletter.forms import PreferencesForm, SubscribeForm
from vern.newsletter.models import Subscription
from vern.newsletter.selectors import consent_text
from vern.newsletter.services import SubscriptionRefused
from vern.registry import surface

GOAL_CONFIRMED = "newsletter_confirmed"  # the goal this app reports (vern.registry.surface.reach_goal)


def _declaration(request: HttpRequest) -> Declaration | None:
    version = latest_version_for(request)
    return declaration_of(version) if version is not None else None


def _problem(code: str, declaration: Declaration | None) -> str:
    contact = declaration.controller.email if declaration is not None else ""
    messages = {
        "throttled": _(
            "We have received many subscriptions from your network in the last hour. "
            "Try again later, or write to us at %(email)s."
        ),
        "unpublished": _("We cannot take subscriptions just now. Write to us at %(email)s."),
        "text": _("The page has changed since you opened it. Read the text again and send the form once more."),
        "topics": _("Choose at least one topic."),
        "name": _("This contains line breaks or characters we cannot read. Write it on one line."),
        "email": _("Enter a valid email address, like name@example.no."),
        "request": _("The form could not be checked. Send it again."),
    }
    return messages.get(code, messages["request"]) % {"email": contact}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    declaration = _declaration(request)
    language = page_language()
    if declaration is None:
        return render(request, "newsletter/subscribe.html", {"unavailable": True}, status=503)
    text = consent_text(declaration, language, "newsletter")
    form = SubscribeForm(request.POST or None, declaration=declaration, language=language, text=text)
    problem, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.subscribe(
                    email=data["email"],
                    name=data["name"],
                    language=language,
                    form="newsletter",
                    ip_shortened=client_ip_shortened(request),
                    topics=list(data["topics"]),
                    shown_text=text,
                )
            except SubscriptionRefused as exc:
                problem = _problem(exc.code, declaration)
                status = 429 if exc.code == "throttled" else 503 if exc.code == "unpublished" else 400
            else:
                return HttpResponseRedirect(reverse("newsletter:sent"), status=303)
        else:
            problem = _("Some of the details need another look; see the notes by the fields.")
            status = 400
    context = {"form": form, "problem": problem, "declaration": declaration, "text": text}
    return render(request, "newsletter/subscribe.html", context, status=status)


@require_safe
def sent(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/message.html", {"kind": "sent"})


def _link_problem(request: HttpRequest, code: str) -> HttpResponse:
    """A used, expired or unknown link: a clear page in the visitor's language, and nothing changed."""
    return render(request, "newsletter/message.html", {"kind": code}, status=410 if code != "unknown" else 404)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person's POST confirms); POST confirms."""
    if request.method != "POST":
        pending = services.pending_by_token(token)
        if pending is None:
            return _link_problem(request, "used")
        return render(request, "newsletter/confirm.html", {"action": request.path})
    try:
        services.confirm(token, ip_shortened=client_ip_shortened(request))
    except SubscriptionRefused as exc:
        return _link_problem(request, exc.code)
    surface.reach_goal(GOAL_CONFIRMED, request)  # a goal, counted by the app that counts them (ADR 0020)
    return render(request, "newsletter/message.html", {"kind": "confirmed"})


def _mailing_id(request: HttpRequest) -> int | None:
    value = request.GET.get("m", "")
    return int(value) if re.fullmatch(r"[0-9]{1,11}", value) else None


@csrf_exempt  # RFC 8058: the mailbox provider POSTs with no cookie; the token in the address authenticates it
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = services.by_manage_token(token)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if subscription is None:
        if one_click:
            return HttpResponse(
                _("This link is no longer valid."), status=404, content_type="text/plain; charset=utf-8"
            )
        return _link_problem(request, "unknown")
    if request.method != "POST":
        context = {"ended": subscription.status == Subscription.Status.ENDED, "action": request.get_full_path()}
        return render(request, "newsletter/unsubscribe.html", {**context, "token": token})
    services.unsubscribe(subscription, mailing_id=_mailing_id(request), ip_shortened=client_ip_shortened(request))
    if one_click:
        return HttpResponse(_("You are unsubscribed."), content_type="text/plain; charset=utf-8")
    return render(request, "newsletter/message.html", {"kind": "unsubscribed"})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    subscription = services.by_manage_token(token)
    declaration = _declaration(request)
    if subscription is None or declaration is None:
        return _link_problem(request, "unknown")
    if subscription.status != Subscription.Status.CONFIRMED:
        return render(request, "newsletter/message.html", {"kind": "unsubscribed"})
    language = page_language()
    initial = {"topics": subscription.topics, "language": subscription.language}
    form = PreferencesForm(request.POST or None, initial=initial, declaration=declaration, language=language)
    saved, status = False, 200
    if request.method == "POST":
        if form.is_valid():
            services.preferences_update(
                subscription, topics=list(form.cleaned_data["topics"]), language=form.cleaned_data["language"]
            )
            saved = True
        else:
            status = 400
    context = {"form": form, "saved": saved, "unsubscribe": reverse("newsletter:unsubscribe", kwargs={"token": token})}
    return render(request, "newsletter/preferences.html", context, status=status)
