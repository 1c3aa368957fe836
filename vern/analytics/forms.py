"""The dashboard's period: a preset (today, yesterday, last 7 or 30 days, this or last month) or two days
chosen by hand. A period of one day is shown hour by hour."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from vern.analytics.selectors import LONGEST_PERIOD, Period

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULT = "30d"
CUSTOM = "custom"
PRESETS = {
    "today": _("Today"),
    "yesterday": _("Yesterday"),
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "month": _("This month"),
    "last-month": _("Last month"),
}
EARLIEST = dt.date(2000, 1, 1)


def _day_field(label: StrOrPromise) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        error_messages={"invalid": _("Write the date as year-month-day, for example 2026-05-31.")},
    )


def preset_period(key: str, today: dt.date) -> Period:
    """A preset's days; each but yesterday and last month ends today, since today's visits are counted
    when the dashboard is opened."""
    if key == "today":
        return Period(today, today)
    if key == "yesterday":
        day = today - dt.timedelta(days=1)
        return Period(day, day)
    if key == "7d":
        return Period(today - dt.timedelta(days=6), today)
    if key == "month":
        return Period(today.replace(day=1), today)
    if key == "last-month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return Period(end.replace(day=1), end)
    return Period(today - dt.timedelta(days=29), today)


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[*PRESETS.items(), (CUSTOM, CUSTOM)],
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Choose one of the periods offered.")},
    )
    start = _day_field(_("From"))
    end = _day_field(_("To"))

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        preset = data.get("range") or (CUSTOM if data.get("start") or data.get("end") else DEFAULT)
        if preset != CUSTOM:
            data["range"], data["period"] = preset, preset_period(preset, self.today)
            return data
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise forms.ValidationError(_("Choose both the first and the last day."))
        if start > end:
            raise forms.ValidationError(_("The first day is after the last day. Swap them and try again."))
        if start < EARLIEST:
            raise forms.ValidationError(_("Choose a first day in the year 2000 or later."))
        if end > self.today:
            raise forms.ValidationError(_("The period cannot end after today."))
        period = Period(start, end)
        if period.days > LONGEST_PERIOD:
            raise forms.ValidationError(
                _("A period can be at most %(most)s days long; this one has %(days)s."),
                params={
                    "most": formats.number_format(LONGEST_PERIOD, force_grouping=True),
                    "days": formats.number_format(period.days, force_grouping=True),
                },
            )
        data["range"], data["period"] = CUSTOM, period
        return data


def chosen_period(params: Any, today: dt.date | None = None) -> tuple[RangeForm, Period, str, bool]:
    """The form as the staff member filled it in, the period to show, its preset, and whether it was refused.

    A refused range falls back to the default, so that the page always shows something.
    """
    today = today or timezone.localdate()
    asked = any(params.get(name) for name in ("range", "start", "end"))
    form = RangeForm(params if asked else None, today=today)
    if asked and form.is_valid():
        period: Period = form.cleaned_data["period"]
        preset: str = form.cleaned_data["range"]
        refused = False
    else:
        period, preset, refused = preset_period(DEFAULT, today), DEFAULT, asked
    if not refused:
        form = RangeForm(initial={"start": period.start, "end": period.end}, today=today)
    return form, period, preset, refused


FILTER_PARAMETER = "filter"  # repeated: ?filter=country:NO&filter=channel:search


def chosen_filters(params: Any) -> tuple[dict[str, str], list[str]]:
    """The breakdown filters a link names (``filter=<dimension>:<value>``), and what was wrong with them.

    Any error refuses every filter (the page then shows the unfiltered figures and says why),
    so that a bad link never shows figures that look filtered but are not.
    """
    from vern.analytics.selectors import FILTERS, Dimension, impossible_value

    filters: dict[str, str] = {}
    errors: list[str] = []
    values = params.getlist(FILTER_PARAMETER) if hasattr(params, "getlist") else []
    for raw in values[:20]:
        name, colon, value = str(raw).partition(":")
        if not colon or name not in FILTERS:
            errors.append(
                str(
                    _(
                        "“%(filter)s” is not a filter. Filter by entry page, source, referrer, campaign, "
                        "country, browser, system or device."
                    )
                )
                % {"filter": str(raw)[:40]}
            )
        elif impossible_value(name, value):
            label = Dimension(name).label
            errors.append(str(_("That value cannot be one of the %(dimension)s.")) % {"dimension": str(label).lower()})
        elif name in filters and filters[name] != value:
            label = Dimension(name).label
            errors.append(str(_("%(dimension)s are filtered twice; choose one value.")) % {"dimension": label})
        else:
            filters[name] = value
    if len(values) > 20:
        errors.append(str(_("At most 20 filters at once.")))
    return ({} if errors else filters), errors
