from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.accounts.steps import PlacesRefusals
from vern.lib.formfields import EmailAddressField, PhoneNumberField
from vern.registry.entries import entries
from vern.registry.templatetags.model_names import model_title


class HoldForm(PlacesRefusals):
    # A refusal of ``hold_place`` (no such record, a past end) is shown above the form's fields.
    OTHER_REFUSALS_ON_FORM = True

    email = EmailAddressField(label=_("The person's email address"), required=False)
    phone = PhoneNumberField(label=_("or their phone number"), required=False)
    record_model = forms.ChoiceField(label=_("or one record: the kind"), required=False)
    record_pk = forms.CharField(label=_("and its number"), max_length=64, required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the legal claim or the authority's order. Shown to privacy officers only."),
    )
    ends_on = forms.DateField(
        label=_("Hold until"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kinds: forms.ChoiceField = self.fields["record_model"]  # type: ignore[assignment]
        # Staff choose a kind of data by its name; the label in the code is only the option's value.
        kinds.choices = [("", "–")] + [(e.label, model_title(e.label)) for e in entries()]
        for name in ("email", "phone", "record_pk"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def clean_ends_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["ends_on"]
        if value <= timezone.localdate():
            raise forms.ValidationError(_("A hold must end after today."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        person = bool(data.get("email") or data.get("phone"))
        record = bool(data.get("record_model") or data.get("record_pk", "").strip())
        if not self.errors:
            if person and record:
                raise forms.ValidationError(_("Hold either a person or one record, not both."))
            if not person and not record:
                raise forms.ValidationError(_("Name the person (email or phone) or the record to hold."))
            if data.get("email") and data.get("phone"):
                raise forms.ValidationError(_("Give the email address or the phone number, not both: one hold each."))
            if record and not (data.get("record_model") and data.get("record_pk", "").strip()):
                raise forms.ValidationError(_("A record is named by its kind and its number."))
        return data

    @property
    def ends_at(self) -> dt.datetime:
        day: dt.date = self.cleaned_data["ends_on"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))
