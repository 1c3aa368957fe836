"""``{% analytics_beacon %}``: the beacon script, and an image for browsers without JavaScript."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from vern.analytics.capture import current_settings
from vern.analytics.schemas import MAX_URL

register = template.Library()


def _enabled(context: dict[str, Any]) -> bool:
    return context.get("request") is not None and current_settings().enabled


@register.simple_tag(takes_context=True)
def analytics_beacon(context: dict[str, Any]) -> str:
    """The script, for the page's head."""
    if not _enabled(context):
        return ""
    return format_html(
        '<script src="{}" defer data-endpoint="{}"></script>', static("vern/beacon.js"), reverse("analytics_api:event")
    )


@register.simple_tag(takes_context=True)
def analytics_pixel(context: dict[str, Any]) -> str:
    """The image for browsers without JavaScript, for the page's body."""
    if not _enabled(context):
        return ""
    request = context["request"]
    query = urlencode({"u": request.path[:MAX_URL], "r": request.headers.get("Referer", "")[:MAX_URL]})
    return format_html(
        '<noscript><img class="analytics-pixel" src="{}?{}" alt="" width="1" height="1"></noscript>',
        reverse("analytics_api:pixel"),
        query,
    )
