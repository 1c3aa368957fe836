"""Markup that only appears with consent (C14).

``{% consent_block "statistics" %}…{% end_consent_block %}`` renders its content when
the visitor allows the category, and otherwise an inert ``<template>`` that
consent.js brings to life the moment the visitor allows it, without a reload.
Scripts inside keep their CSP nonce: write them as ``<script nonce="{{ request.csp_nonce }}">``.

``{% consent_embed "marketing" src="https://…" title="…" provider="YouTube" %}`` is an
iframe that makes no request before consent: a placeholder offers to load it once,
or to allow its category.
"""

from __future__ import annotations

from django import template
from django.template.base import Parser, Token
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from vern.consent.choice import ConsentState

register = template.Library()


def _state(context: template.Context, category: str) -> ConsentState:
    request = context.get("request")
    state: ConsentState | None = getattr(request, "consent", None)
    if state is None:
        raise template.TemplateSyntaxError("consent tags need the consent middleware and a request")
    if state.published and category not in (*state.optional, *state.necessary):
        raise template.TemplateSyntaxError(f"{category!r} is not a cookie category of the declaration")
    return state


class ConsentBlock(template.Node):
    def __init__(self, category: template.base.FilterExpression, nodelist: template.NodeList) -> None:
        self.category, self.nodelist = category, nodelist

    def render(self, context: template.Context) -> str:
        category = str(self.category.resolve(context))
        content = self.nodelist.render(context)
        if _state(context, category).allows(category):
            return content
        return format_html('<template data-consent="{}">{}</template>', category, mark_safe(content))  # noqa: S308


@register.tag
def consent_block(parser: Parser, token: Token) -> ConsentBlock:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError('use {% consent_block "category" %}…{% end_consent_block %}')
    nodelist = parser.parse(("end_consent_block",))
    parser.delete_first_token()
    return ConsentBlock(parser.compile_filter(bits[1]), nodelist)


@register.simple_tag(takes_context=True)
def consent_embed(context: template.Context, category: str, *, src: str, title: str, provider: str = "") -> SafeString:
    if not src.startswith("https://"):
        raise template.TemplateSyntaxError("an embed's src must be an https:// address")
    request = context.get("request")
    origin = "/".join(src.split("/")[:3])
    if request is not None:  # the page's Content-Security-Policy lets this frame in (frame-src)
        sources: set[str] = getattr(request, "_vern_frame_sources", set())
        sources.add(origin)
        request._vern_frame_sources = sources
    if _state(context, category).allows(category):
        return format_html('<iframe class="vc-frame" src="{}" title="{}" loading="lazy"></iframe>', src, title)
    who = provider or src.split("/")[2]
    return format_html(
        '<div class="vc-embed" data-consent-embed="{}" data-src="{}" data-title="{}">'
        "<p>{}</p><p>{}</p>"
        '<p class="vc-buttons"><button type="button" class="vc-button" data-consent-load>{}</button>'
        '<button type="button" class="vc-button" data-consent-allow>{}</button></p></div>',
        category,
        src,
        title,
        title,
        _("This content is from %(provider)s, which may set cookies. It loads only if you ask.") % {"provider": who},
        _("Load once"),
        _("Always allow"),
    )
