"""The public page «Data processing at Kaukus», written from the register, and its change feed."""

from __future__ import annotations

from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from vern.declaration.selectors import COUNTRIES, MECHANISMS, published_declaration
from vern.lib.ip import client_ip_shortened
from vern.lib.language import page_language
from vern.processors import selectors, subscribers
from vern.processors.forms import SubscribeForm
from vern.processors.models import EEA, SubProcessorChange
from vern.registry.surface import last_risk_review


def _countries(codes: Any, language: str) -> str:
    return ", ".join(COUNTRIES.get(code, {}).get(language, code) for code in codes)


def _mechanism(mechanism: str | None, module: int | None, language: str) -> str:
    if not mechanism:
        return ""
    text = MECHANISMS[mechanism][language]
    if mechanism == "scc" and module:
        text += f", {'module' if language == 'en' else 'modul'} {module}"
    return text


def trust_context(language: str) -> dict[str, Any]:
    declaration = published_declaration()
    register = selectors.register()
    rows = []
    if register is not None:
        for p in register:
            rows.append(
                {
                    "name": p.name,
                    "service": p.service.get(language, ""),
                    "countries": _countries(p.countries, language),
                    "outside": bool(set(p.countries) - EEA),
                    "mechanism": _mechanism(p.transfer_mechanism, p.scc_module, language),
                    "subs": [
                        {
                            "name": s.name,
                            "service": s.service,
                            "countries": _countries(s.countries, language),
                            "outside": bool(set(s.countries) - EEA),
                        }
                        for s in p.sub_processors
                    ],
                }
            )
    elif declaration is not None:
        for d in declaration.processors:
            if d.status == "active":
                rows.append(
                    {
                        "name": d.name,
                        "service": d.service.get(language),
                        "countries": _countries(d.countries, language),
                        "outside": bool(set(d.countries) - EEA),
                        "mechanism": _mechanism(d.transfer_mechanism, None, language),
                        "subs": [],
                    }
                )
    return {
        "company": declaration.controller.name if declaration else "",
        "processors": rows,
        "security": [m.get(language) for m in declaration.security.measures] if declaration else [],
        "standards": declaration.security.standards.get(language) if declaration else "",
        "last_review": last_risk_review(),
        "changes": selectors.changes(50),
    }


@require_http_methods(["GET", "HEAD", "POST"])
def trust(request: HttpRequest) -> HttpResponse:
    """The page; its form starts a subscription to changes of sub-processors (double opt-in)."""
    language = page_language()
    form = SubscribeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                subscribers.change_subscribe(
                    email=form.cleaned_data["email"], language=language, ip_shortened=client_ip_shortened(request)
                )
            except subscribers.SubscriberRefused:
                form.add_error(None, _("Too many requests from your network. Please try again in an hour."))
                status = 429
            else:
                return HttpResponseRedirect(reverse("processors:subscribed"), status=303)
        else:
            status = 400
    return render(request, "processors/trust.html", {**trust_context(language), "form": form}, status=status)


@require_safe
def subscribed(request: HttpRequest) -> HttpResponse:
    return render(request, "processors/message.html", {"kind": "sent"})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners open links; only a person's POST confirms); POST confirms."""
    if request.method != "POST":
        if subscribers.pending_by_token(token) is None:
            return render(request, "processors/message.html", {"kind": "used"}, status=410)
        return render(request, "processors/message.html", {"kind": "confirm", "action": request.path})
    try:
        subscribers.change_subscription_confirm(token)
    except subscribers.SubscriberRefused:
        return render(request, "processors/message.html", {"kind": "used"}, status=410)
    return render(request, "processors/message.html", {"kind": "confirmed"})


@never_cache
@csrf_exempt  # RFC 8058: the mail client's one-click POST carries no CSRF token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "processors/message.html", {"kind": "unsubscribe", "action": request.path})
    subscribers.change_unsubscribe(token)
    return render(request, "processors/message.html", {"kind": "unsubscribed"})


class ChangesFeed(Feed):  # type: ignore[type-arg]
    """An Atom feed of the announced changes of sub-processors, newest first."""

    feed_type = Atom1Feed

    def title(self) -> str:
        declaration = published_declaration()
        company = declaration.controller.name if declaration else ""
        return _("Changes of sub-processors at %(company)s") % {"company": company}

    def link(self) -> str:
        return reverse("processors:trust")

    def subtitle(self) -> str:
        return _("Each new or removed sub-processor, with the date by which customers may object.")

    def items(self) -> list[SubProcessorChange]:
        return list(selectors.changes(50))

    def item_title(self, item: SubProcessorChange) -> str:
        return f"{item.get_kind_display()}: {item.name} ({item.processor.name})"

    def item_description(self, item: SubProcessorChange) -> str:
        language = page_language()
        where = _countries(item.countries, language)
        parts = [item.service] if item.service else []
        if where:
            parts.append(_("Locations: %(countries)s") % {"countries": where})
        parts.append(
            _("Announced %(announced)s; objections by %(deadline)s.")
            % {"announced": item.announced_on.isoformat(), "deadline": item.objection_deadline.isoformat()}
        )
        return " ".join(parts)

    def item_link(self, item: SubProcessorChange) -> str:
        return reverse("processors:trust") + f"#change-{item.pk}"

    def item_pubdate(self, item: SubProcessorChange) -> Any:
        return item.recorded_at

    def item_updateddate(self, item: SubProcessorChange) -> Any:
        return item.recorded_at
