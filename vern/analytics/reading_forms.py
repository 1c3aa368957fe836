"""The statistics settings page's forms: a goal, a token's name, the weekly report."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vern.analytics.reading_models import Goal
from vern.analytics.schemas import GOAL_PATTERN
from vern.registry import surface

PATTERN = re.compile(r"/[^\s]{0,199}")
# The name of a click goal: what the beacon may send as ``g`` (``schemas.BeaconRequest``), no more.
CLICK = re.compile(GOAL_PATTERN)


class GoalForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("What the dashboard calls it, e.g. “Demo booked”.")
    )
    kind = forms.ChoiceField(label=_("Counts when"), choices=Goal.Kind.choices, widget=forms.RadioSelect)
    event = forms.ChoiceField(label=_("What vern records"), required=False)
    pattern = forms.CharField(
        label=_("Page address"),
        required=False,
        max_length=200,
        help_text=_("A path on this site; * stands for any text, e.g. /en/pricing/*"),
    )
    click = forms.CharField(
        label=_("Name in data-vern-goal"),
        required=False,
        max_length=60,
        help_text=_(
            'Mark the element on your page, e.g. <a href="/demo/" data-vern-goal="demo-booked">, '
            "and write the same name here: 1 to 60 letters (a–z, A–Z), digits or _ . : -"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        events = surface.goal_events()
        event = self.fields["event"]
        assert isinstance(event, forms.ChoiceField)
        event.choices = [("", _("Choose one")), *((key, str(label)) for key, label in events.items())]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if Goal.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("There is already a goal with this name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Goal.Kind.SERVER:
            if not data.get("event"):
                self.add_error("event", _("Choose what vern records."))
            else:
                data["match"] = data["event"]
        elif kind == Goal.Kind.PAGE:
            pattern = (data.get("pattern") or "").strip()
            if not PATTERN.fullmatch(pattern):
                self.add_error("pattern", _("Write a path that begins with / and has no spaces, e.g. /en/pricing/*"))
            else:
                data["match"] = pattern
        elif kind == Goal.Kind.EVENT and not self.has_error("click"):  # too long: the field said so already
            click = (data.get("click") or "").strip()
            if not CLICK.fullmatch(click):
                self.add_error("click", _("Write 1 to 60 letters (a–z, A–Z), digits or _ . : - without spaces."))
            else:
                data["match"] = click
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the token"), max_length=80, help_text=_("Where it will be used, e.g. “Sales spreadsheet”.")
    )
