from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from vern.lib.formfields import EmailAddressField, PhoneNumberField


class ContactForm(forms.Form):
    email = EmailAddressField()
    phone = PhoneNumberField(required=False)


def test_identifiers_come_out_in_their_normal_form():
    form = ContactForm({"email": " Ola.Nordmann@Example.NO ", "phone": "912 34 567"})
    assert form.is_valid()
    assert form.cleaned_data == {"email": "ola.nordmann@example.no", "phone": "+4791234567"}
    assert ContactForm({"email": "ola@example.no", "phone": ""}).is_valid()


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "ola(at)example.no"}, "email", "Enter a valid email address, like name@example.no."),
        ({"email": "ola@example.no", "phone": "99"}, "phone", "Enter a valid phone number"),
    ],
)
def test_a_wrong_identifier_is_explained_without_repeating_it(data, field, message):
    form = ContactForm(data)
    with translation.override("en"):
        assert not form.is_valid()
        shown = str(form.errors[field][0])
    assert message in shown
    assert not data[field] or data[field] not in shown
