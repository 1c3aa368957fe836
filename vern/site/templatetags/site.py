from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def page_in(context: template.Context, language: str) -> str:
    """This page's path in another language (``/en/contact/`` ↔ ``/contact/``)."""
    request = context.get("request")
    path = request.path if request is not None else "/"
    return translate_url(path, language)


@register.simple_tag(takes_context=True)
def page_url_in(context: template.Context, language: str) -> str:
    """The absolute public URL of this page in a language, for ``hreflang`` alternates."""
    return settings.VERN_PUBLIC_URL + page_in(context, language)


@register.simple_tag
def other_languages(current: str) -> list[tuple[str, str]]:
    return [(code, name) for code, name in settings.LANGUAGES if code != current]


@register.simple_tag(takes_context=True)
def localpath(context: template.Context, path: str) -> str:
    """``"contact/"`` → ``/contact/`` in Bokmål, ``/en/contact/`` in English.

    For links to pages of apps that a site may not have installed yet; pages that
    exist are linked with ``{% url %}``, which prefixes the language itself.
    """
    language = context.get("LANGUAGE_CODE") or settings.LANGUAGE_CODE
    prefix = "" if language == settings.LANGUAGE_CODE else f"/{language}"
    return f"{prefix}/{path.lstrip('/')}"


@register.filter
def bare_url(url: str) -> str:
    """``https://www.datatilsynet.no/`` → ``www.datatilsynet.no``: an address as people write it."""
    text = str(url)
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme) :]
    return text.rstrip("/")
