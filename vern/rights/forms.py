"""The privacy center's form: which rights, the address to send the link to, and what else helps us.

The form checks what a visitor can correct (a missing right, a mistyped address)
with messages in their language; the service checks it all again, and decides
the rest (the policy is published, the rate limits).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vern.lib.formfields import EmailAddressField, PhoneNumberField
from vern.rights.models import Right
from vern.rights.services.steps import MAX_DETAILS

# Control characters other than tab and newlines, and the replacement character that
# stands for bytes that were not valid UTF-8.
UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class CenterForm(forms.Form):
    rights = forms.MultipleChoiceField(
        label=_("What do you want to ask us for?"),
        choices=Right.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # checked in clean(): the objection to direct marketing is a choice too
        error_messages={"invalid_choice": _("Choose among the rights listed.")},
    )
    # Under Objection: an objection to direct marketing needs no reasons and no decision (Art. 21(3)).
    marketing_objection = forms.BooleanField(label=_("I object to direct marketing"), required=False)
    email = EmailAddressField(
        label=_("Email address"),
        help_text=_("We send a link to this address to confirm that the request is yours."),
    )
    phone = PhoneNumberField(
        label=_("Phone number"),
        required=False,
        help_text=_("Only if you have given it to us: it helps us find records that have no email address."),
    )
    details = forms.CharField(
        label=_("More about your request"),
        required=False,
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For example what is wrong and what it should be, or which data or processing you mean."),
        error_messages={"max_length": _("The details have at most 5,000 characters.")},
    )

    def clean_details(self) -> str:
        value = str(self.cleaned_data.get("details") or "")
        if UNREADABLE.search(value):
            raise forms.ValidationError(
                _("This contains characters we cannot read. Retype it without special symbols."), code="unreadable"
            )
        return value.replace("\r\n", "\n").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "rights" in self.errors:
            return data
        rights = list(data.get("rights") or [])
        # Ticking the objection to direct marketing is an objection, even if the box above it was left empty.
        if data.get("marketing_objection") and Right.OBJECTION not in rights:
            rights.append(Right.OBJECTION.value)
        if not rights:
            self.add_error("rights", forms.ValidationError(_("Choose at least one of the rights."), code="required"))
        data["rights"] = rights
        return data
