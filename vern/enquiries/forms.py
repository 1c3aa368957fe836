"""The enquiry forms: the same fields and checks for this site, other sites (the API) and staff.

The public forms ask for exactly what the policy lists (§3.1): name, email,
phone, company or municipality and the message, and for a demo a preferred
time. Errors are written for the visitor, in their language, and never repeat
what was typed.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vern.accounts.steps import PlacesRefusals
from vern.enquiries.models import ContactLog, Enquiry
from vern.lib.formfields import EmailAddressField, PhoneNumberField

# Control characters other than tab and newlines, and the replacement character that
# stands for bytes that were not valid UTF-8.
UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
LINE_BREAKS = re.compile(r"[\r\n\t]")
MAX_NAME = 200
MAX_MESSAGE = 5000
DEMO_HORIZON_DAYS = 180


def _readable(value: str, *, multiline: bool = False) -> str:
    if UNREADABLE.search(value) or (not multiline and LINE_BREAKS.search(value)):
        raise forms.ValidationError(
            _("This contains characters we cannot read. Retype it without special symbols."), code="unreadable"
        )
    return value


def _readable_line(value: str) -> None:
    """A validator: runs before an email or phone number is normalised, so its message is the right one."""
    _readable(value)


class EnquiryFields(forms.Form):
    """Name, email, phone and organisation: the contact details every enquiry has."""

    name = forms.CharField(
        label=_("Name"),
        max_length=MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your name."), "max_length": _("A name has at most 200 characters.")},
    )
    email = EmailAddressField(label=_("Email address"), validators=[_readable_line])
    phone = PhoneNumberField(label=_("Phone number"), required=False, validators=[_readable_line])
    organisation = forms.CharField(
        label=_("Company or municipality"),
        max_length=MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={
            "required": _("Enter the company or municipality you represent."),
            "max_length": _("This has at most 200 characters."),
        },
    )

    def clean_name(self) -> str:
        return _readable(self.cleaned_data["name"])

    def clean_organisation(self) -> str:
        return _readable(self.cleaned_data["organisation"])


class EnquiryForm(EnquiryFields):
    """The public form, for ``kind`` contact or demo, with its spam defences."""

    message = forms.CharField(
        label=_("Message"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": _("Tell us what your enquiry is about."),
            "max_length": _("A message has at most 5,000 characters."),
        },
    )
    preferred_date = forms.DateField(
        label=_("Preferred day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        error_messages={"invalid": _("Enter a date like 2027-03-15.")},
    )
    preferred_time = forms.ChoiceField(
        label=_("Preferred time of day"),
        choices=Enquiry.TimeOfDay.choices,
        initial=Enquiry.TimeOfDay.ANY,
        required=False,  # left out (an embedded form may not ask), it means any time
        error_messages={"invalid_choice": _("Choose one of the times offered.")},
    )
    # The newsletter, offered apart from the enquiry: unticked, optional, and never a condition of it.
    # Its label is the exact text the newsletter app records as shown (``subscription_prompt``).
    newsletter = forms.BooleanField(required=False, initial=False)
    # The honeypot: hidden from people and screen readers, filled in by robots.
    website = forms.CharField(required=False, max_length=200, label=_("Leave this field empty"))
    token = forms.CharField(widget=forms.HiddenInput, max_length=400)

    def __init__(self, *args: Any, kind: str, newsletter_prompt: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        if newsletter_prompt:
            self.fields["newsletter"].label = newsletter_prompt
        else:
            del self.fields["newsletter"]
        if kind == Enquiry.Kind.DEMO:
            self.fields["phone"].required = True
            self.fields["phone"].help_text = _("So that we can agree on the time with you.")
            self.fields["message"].required = False
            self.fields["message"].label = _("What would you like to see?")
        else:
            del self.fields["preferred_date"]
            del self.fields["preferred_time"]

    def clean_message(self) -> str:
        return _readable(self.cleaned_data["message"], multiline=True).replace("\r\n", "\n")

    def clean_preferred_time(self) -> str:
        return str(self.cleaned_data.get("preferred_time") or Enquiry.TimeOfDay.ANY)

    def clean_preferred_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("preferred_date")
        if value is None:
            return None
        today = timezone.localdate()
        if value <= today:
            raise forms.ValidationError(_("Choose a day after today."), code="past")
        if value > today + dt.timedelta(days=DEMO_HORIZON_DAYS):
            raise forms.ValidationError(_("Choose a day within the next six months."), code="far")
        if value.weekday() >= 5:
            raise forms.ValidationError(_("Choose a weekday; we do not hold demos at weekends."), code="weekend")
        return value

    @property
    def honeypot_filled(self) -> bool:
        return bool(self.data.get("website", "").strip()) if hasattr(self.data, "get") else False


class RegisterForm(EnquiryFields, PlacesRefusals):
    # A refusal of ``enquiry_register`` (no policy allows the kind) is about the whole form.
    OTHER_REFUSALS_ON_FORM = True

    """An enquiry that came by email or telephone, entered by staff (P3)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Enquiry.Kind.choices, initial=Enquiry.Kind.CONTACT)
    channel = forms.ChoiceField(
        label=_("How it came"),
        choices=[(Enquiry.Channel.EMAIL, _("Email")), (Enquiry.Channel.PHONE, _("Telephone"))],
        widget=forms.RadioSelect,
        initial=Enquiry.Channel.EMAIL,
    )
    received_at = forms.DateTimeField(
        label=_("Received"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    message = forms.CharField(
        label=_("What the enquiry is about"),
        max_length=MAX_MESSAGE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    language = forms.ChoiceField(
        label=_("Language of the person"), choices=[("nb", "Norsk bokmål"), ("en", "English")], initial="nb"
    )
    acknowledge = forms.BooleanField(
        label=_("Send the person our acknowledgement with the privacy notice"),
        required=False,
        initial=True,
        help_text=_("It tells them what we keep, why and for how long, and how to object. Needs an email address."),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=400)  # one form, one enquiry

    def __init__(self, *args: Any, oldest: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.oldest = oldest  # an enquiry received before this would be due for deletion at once
        # By telephone a person may give only a number; one of the two is enough.
        self.fields["email"].required = False
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["name"].widget.attrs["autocomplete"] = "off"
        self.fields["organisation"].widget.attrs["autocomplete"] = "off"
        self.fields["phone"].widget.attrs["autocomplete"] = "off"
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_message(self) -> str:
        return _readable(self.cleaned_data["message"], multiline=True).replace("\r\n", "\n")

    def clean_received_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["received_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("The time received cannot be in the future."), code="future")
        if self.oldest is not None and value < self.oldest:
            raise forms.ValidationError(
                _("An enquiry this old is already past its retention period, so it cannot be registered."),
                code="too_old",
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(_("Give an email address or a phone number, so that we can answer."))
        if data.get("acknowledge") and not data.get("email") and "email" not in self.errors:
            self.add_error("acknowledge", _("The acknowledgement needs an email address."))
        return data


class ContactLogForm(forms.Form):
    # A reply from the console logs itself (with its mail); by hand, the other ways of contact.
    kind = forms.ChoiceField(
        label=_("Contact by"),
        choices=[(k, label) for k, label in ContactLog.Kind.choices if k != ContactLog.Kind.REPLY],
        widget=forms.RadioSelect,
    )
    happened_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, enquiry: Enquiry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enquiry = enquiry
        if not self.is_bound:
            self.initial.setdefault("happened_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_note(self) -> str:
        return _readable(self.cleaned_data["note"], multiline=True).replace("\r\n", "\n")

    def clean_happened_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["happened_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise forms.ValidationError(_("A contact cannot be in the future."), code="future")
        if value < self.enquiry.received_at - dt.timedelta(minutes=1):
            raise forms.ValidationError(_("A contact cannot be before the enquiry came."), code="before")
        return value


class CustomerForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the agreement or order. The enquiry is then kept under the customer rule."),
    )

    def clean_note(self) -> str:
        return _readable(self.cleaned_data["note"], multiline=True).replace("\r\n", "\n")


class RelationshipEndedForm(PlacesRefusals):
    ended_on = forms.DateField(
        label=_("The customer relationship ended on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )

    def __init__(self, *args: Any, enquiry: Enquiry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enquiry = enquiry

    def clean_ended_on(self) -> dt.date:
        value: dt.date = self.cleaned_data["ended_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The end cannot be in the future."), code="future")
        began = self.enquiry.became_customer_at
        # An end before the start would make the enquiry due for deletion early.
        if began is not None and value < timezone.localdate(began):
            raise forms.ValidationError(
                _("The end cannot be before the person became a customer (%(date)s).")
                % {"date": formats.date_format(timezone.localdate(began), "SHORT_DATE_FORMAT")},
                code="before",
            )
        return value


class DeleteForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why"),
        choices=[
            ("spam", _("It is spam or abuse, not a real enquiry")),
            ("request", _("The person asked us to delete it")),
            ("mistake", _("It was registered by mistake")),
        ],
        widget=forms.RadioSelect,
    )


MAX_SUBJECT = 200
MAX_REPLY = 20000


class ReplyForm(PlacesRefusals):
    """A reply by email, written in the console: a one-line subject and plain text."""

    OTHER_REFUSALS_ON_FORM = True

    token = forms.CharField(widget=forms.HiddenInput)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=MAX_SUBJECT,
        error_messages={
            "required": _("Write a subject."),
            "max_length": _("A subject has at most 200 characters."),
        },
    )
    body = forms.CharField(
        label=_("Reply"),
        max_length=MAX_REPLY,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Plain text, sent as you write it and signed with your name."),
        error_messages={
            "required": _("Write the reply."),
            "max_length": _("A reply has at most 20,000 characters."),
        },
    )

    def clean_subject(self) -> str:
        subject: str = self.cleaned_data["subject"]
        # A line break in a subject would start a new mail header: refused, not cleaned away.
        if LINE_BREAKS.search(subject) or UNREADABLE.search(subject):
            raise forms.ValidationError(
                _("A subject is one line, without line breaks or special characters."), code="header"
            )
        return subject

    def clean_body(self) -> str:
        return _readable(self.cleaned_data["body"], multiline=True).replace("\r\n", "\n")


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=Enquiry.State.choices)


class AssignForm(PlacesRefusals):
    FIELD_OF: ClassVar[dict[str, str]] = {"owner": "owner"}

    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {str(user.pk): user for user in staff}
        field = self.fields["owner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody")), *((key, user.name) for key, user in self.staff.items())]
        field.error_messages["invalid_choice"] = _("Choose a staff member who works enquiries, or nobody.")

    def chosen(self) -> Any:
        return self.staff.get(self.cleaned_data["owner"])


class RightsRequestForm(PlacesRefusals):
    """ "This is a rights request": which rights it asks for (pre-selected from a guess; staff confirm)."""

    FIELD_OF: ClassVar[dict[str, str]] = {"rights": "rights"}
    OTHER_REFUSALS_ON_FORM: ClassVar[bool] = True

    rights = forms.MultipleChoiceField(
        label=_("It asks for"),
        choices=[
            ("access", pgettext_lazy("right", "Access")),
            ("rectification", pgettext_lazy("right", "Rectification")),
            ("erasure", pgettext_lazy("right", "Erasure")),
            ("restriction", pgettext_lazy("right", "Restriction")),
            ("portability", pgettext_lazy("right", "Data portability")),
            ("objection", pgettext_lazy("right", "Objection")),
            ("withdraw_consent", pgettext_lazy("right", "Withdraw consent")),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one right the person asks for.")},
    )
