"""Numbers on the dashboard as the reader's language writes them: 12 345 and 12,5 % in Bokmål, 12,345 and 12.5%."""

from __future__ import annotations

from django import template
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vern.analytics.selectors import Metric

register = template.Library()

MINUS = "\u2212"
DEVICE_LABELS = {
    "desktop": lambda: _("Desktop"),
    "mobile": lambda: _("Mobile"),
    "tablet": lambda: _("Tablet"),
    "other": lambda: _("Other"),
}
CHANNEL_LABELS = {
    "search": lambda: _("Search engines"),
    "social": lambda: _("Social networks"),
    "direct": lambda: _("Direct"),
    "other": lambda: _("Other sites"),
}


@register.filter
def number(value: float | int | None, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return formats.number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True)


def _decimals(value: float) -> int:
    """One decimal below ten (12 %, 4,5 %), none above: enough to tell, not more than is known."""
    return 1 if abs(value) < 10 and round(value, 1) != int(value) else 0


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return _("%(number)s%%") % {"number": number(value, _decimals(value))}


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    if total < 60:
        return _("%(seconds)s s") % {"seconds": total}
    if total < 3600:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": total // 60, "seconds": total % 60}
    return _("%(hours)s h %(minutes)s min") % {"hours": number(total // 3600), "minutes": total % 3600 // 60}


@register.filter
def metric_value(metric: Metric, which: str = "value") -> str:
    value = metric.value if which == "value" else metric.previous
    if metric.kind == "percent":
        return percent(value)
    if metric.kind == "duration":
        return duration(value)
    if metric.kind == "ratio":
        return number(value, 1)
    return number(value)


@register.filter
def change(metric: Metric) -> str:
    """``+12 %``, ``−3,5 %``; the bounce rate moves in percentage points, since a percent of a percent misleads."""
    if metric.change is None:
        return ""
    amount = abs(metric.change)
    decimals = _decimals(amount)
    if round(amount, decimals) == 0:
        sign = "±"
    else:
        sign = "+" if metric.change > 0 else MINUS
    text = number(amount, decimals)
    if metric.change_in_points:
        return sign + ngettext("%(number)s point", "%(number)s points", 1 if text == "1" else 2) % {"number": text}
    return sign + _("%(number)s%%") % {"number": text}


@register.filter
def value_label(value: str, dimension: str) -> str:
    """What staff read for a stored value: a device class in words, and something for an empty value."""
    if dimension == "device" and value in DEVICE_LABELS:
        return DEVICE_LABELS[value]()
    if dimension == "channel" and value in CHANNEL_LABELS:
        return CHANNEL_LABELS[value]()
    if not value and dimension.startswith("utm_"):
        return _("No campaign")
    if not value:
        return _("Direct or unknown") if dimension == "referrer" else _("Unknown")
    return value
