"""Form fields for the identifiers through which a person is found: checked and normalised.

The cleaned value is the normal form that ``vern.lib.normalise`` gives (and the
blind index is computed from), or "" when the field is left empty. An error
never repeats what was typed; each refusal of the normaliser has its message.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone


class EmailAddressField(forms.CharField):
    default_error_messages = {
        "email_empty": _("Enter your email address."),
        "email_too_long": _("An email address has at most 254 characters."),
        "email_invalid": _("Enter a valid email address, like name@example.no."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("widget", forms.EmailInput(attrs={"autocomplete": "email"}))
        given = kwargs.get("error_messages") or {}
        super().__init__(**kwargs)
        # Django's own "This field is required." gives way to ours, unless the caller chose one.
        self.error_messages["required"] = given.get("required", self.error_messages["email_empty"])
        self.error_messages["max_length"] = given.get("max_length", self.error_messages["email_too_long"])

    def clean(self, value: Any) -> str:
        text = str(super().clean(value) or "")
        if not text:
            return ""
        try:
            return normalise_email(text)
        except InvalidIdentifier as exc:
            raise forms.ValidationError(self.error_messages[exc.code], code=exc.code) from None


class PhoneNumberField(forms.CharField):
    default_error_messages = {
        "phone_empty": _("Enter your phone number."),
        "phone_too_long": _("A phone number has at most 40 characters."),
        "phone_invalid": _("Enter a valid phone number, like 912 34 567 or +46 70 123 45 67."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}))
        given = kwargs.get("error_messages") or {}
        super().__init__(**kwargs)
        # Django's own "This field is required." gives way to ours, unless the caller chose one.
        self.error_messages["required"] = given.get("required", self.error_messages["phone_empty"])
        self.error_messages["max_length"] = given.get("max_length", self.error_messages["phone_too_long"])

    def clean(self, value: Any) -> str:
        text = str(super().clean(value) or "")
        if not text:
            return ""
        try:
            return normalise_phone(text)
        except InvalidIdentifier as exc:
            raise forms.ValidationError(self.error_messages[exc.code], code=exc.code) from None
