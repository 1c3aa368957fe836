"""The forms of the privacy officers' console: they parse what was typed; the services decide.

Each rule lives in ``vern.rights.services``; a refusal comes back as a
``RequestRefused`` code, and ``refusal_text`` turns every code into a sentence
in the staff member's language (the one place those sentences are written).
A form's ``FIELD_OF`` says which field each refusal of its step is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vern.accounts.models import User
from vern.accounts.steps import PlacesRefusals
from vern.lib.formfields import EmailAddressField, PhoneNumberField
from vern.rights import deadlines
from vern.rights.models import Request, Right
from vern.rights.services.steps import MAX_DETAILS, RequestRefused


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]

REFUSALS: dict[str, Callable[[], str]] = {
    # registering a request
    "rights": lambda: _("Choose at least one of the rights."),
    "channel": lambda: _("Choose how the request arrived."),
    "future": lambda: _("The time received cannot be in the future."),
    "past": lambda: _("The time received is more than a year ago. Check the date."),
    "unverifiable": lambda: _(
        "Without an email address no confirmation link can be sent: check who the person is yourself, "
        "then tick the box."
    ),
    "contact": lambda: _("Give an email address or a phone number, so that we can answer."),
    "email": lambda: _("Enter a valid email address, like name@example.no."),
    "phone": lambda: _("Enter a valid phone number, like 912 34 567 or +46 70 123 45 67."),
    "unpublished": lambda: _("No privacy policy is published yet. Publish one first."),
    "details": lambda: _("The text is too long: at most 5,000 characters."),
    # the workflow
    "status": lambda: _("This step is not possible in the request's present status."),
    "closed": lambda: _("The request is closed: this step is only possible while it is open."),
    "right": lambda: _("The request does not ask for this right."),
    "note": lambda: _("Write the note first."),
    "message": lambda: _("Write the message first."),
    "message_long": lambda: _("The message is too long: at most 2,000 characters. Put a longer text in the answer."),
    "no_phone": lambda: _("The request gives no phone number."),
    "no_address": lambda: _("The request has no email address, so the person cannot be told by email."),
    "reason": lambda: _("Give the reasons for the extension (at least 20 characters): the person is told them."),
    "extended": lambda: _("The request has already been extended once."),
    "too_late": lambda: _(
        "The due date has passed. An extension had to be announced before it: answer the request now."
    ),
    "until": lambda: _("Choose a new due date after the present one and at most two months after it."),
    "ground": lambda: _("Choose the ground for refusing."),
    "justification": lambda: _(
        "A refusal needs a written justification (at least 20 characters); the person is told it."
    ),
    "lift_date": lambda: _("The person must be told first: choose a day after today."),
    "lifted": lambda: _("The restriction has already ended."),
    "field": lambda: _("This field cannot be corrected here."),
    "not_found": lambda: _("There is no such record of this person."),
    "value": lambda: _("The new value is not valid for this field."),
    "decision": lambda: _("Choose whether the objection is upheld or overridden."),
    "grounds": lambda: _("Write down the compelling legitimate grounds (at least 20 characters)."),
    # erasure
    "done": lambda: _("The erasure has already been carried out."),
    "no_keys": lambda: _("The request gives no email address or verified phone number to find the person by."),
    "legal_hold": lambda: _(
        "A legal hold keeps this person's data (Art. 17(3)(e)). Release the hold under Retention, or refuse "
        "the erasure with that ground."
    ),
    "download_pending": lambda: _(
        "A copy of the person's data is still waiting to be downloaded; erasing now would empty it. Carry out "
        "the erasure once it has been downloaded or its link has expired."
    ),
    "busy": lambda: _("The erasure is being carried out just now. Look again in a few minutes."),
    "erasure_pending": lambda: _(
        "The background worker is still carrying out the erasure. Answer or refuse the request once its "
        "receipt is there."
    ),
}


def refusal_text(code: str) -> str:
    """What a ``RequestRefused`` code means, for the staff member."""
    text = REFUSALS.get(code)
    return text() if text is not None else _("This step cannot be taken now.")


def refusal_of(refused: RequestRefused) -> str:
    """The service's refusal in the staff member's words (for ``staff_step``)."""
    if refused.code == "connectors":  # the reasons come from the other systems, already in their words
        return _("The request cannot be closed as complete yet: %(reasons)s") % {"reasons": str(refused)}
    return refusal_text(refused.code)


def _clean_text(value: str) -> str:
    return value.replace("\r\n", "\n").strip()


class RegisterForm(PlacesRefusals):
    """A request that came by email, telephone, letter or in person (P16)."""

    # A random value per form shown: sending the same form twice registers one request.
    nonce = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    channel = forms.ChoiceField(
        label=gettext_lazy("How it came"),
        choices=[(value, label) for value, label in Request.Channel.choices if value != Request.Channel.FORM],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose how the request arrived.")},
    )
    received_at = forms.DateTimeField(
        label=gettext_lazy("Received"),
        help_text=gettext_lazy("Norwegian time. The deadline counts from when it came, not from now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
        error_messages={
            "required": gettext_lazy("Enter when the request came."),
            "invalid": gettext_lazy("Enter a date and time like 2027-03-15 14:30."),
        },
    )
    rights = forms.MultipleChoiceField(
        label=gettext_lazy("Rights asked for"),
        choices=Right.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one of the rights.")},
    )
    marketing_objection = forms.BooleanField(
        label=gettext_lazy("The objection is to direct marketing"),
        required=False,
        help_text=gettext_lazy(
            "Together with Objection. An objection to direct marketing is absolute: the address is blocked from "
            "marketing at once."
        ),
    )
    email = EmailAddressField(label=gettext_lazy("Email address"), required=False)
    phone = PhoneNumberField(label=gettext_lazy("Phone number"), required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the person"), choices=[("nb", "Norsk bokmål"), ("en", "English")], initial="nb"
    )
    details = forms.CharField(
        label=gettext_lazy("What the person asked"),
        max_length=MAX_DETAILS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("In their words where you can. Shown to privacy officers only."),
    )
    identity_checked = forms.BooleanField(
        label=gettext_lazy("I have checked who the person is"),
        required=False,
        help_text=gettext_lazy(
            "For example: the email came from the address we have on file, or you called back the number on file. "
            "The request is then confirmed at once. Otherwise a confirmation link goes to the email address."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("email", "phone"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_details(self) -> str:
        return _clean_text(self.cleaned_data["details"])

    # Where each refusal of ``request_register`` belongs on the form; any other, above its fields.
    OTHER_REFUSALS_ON_FORM = True
    FIELD_OF = {
        "rights": "rights",
        "channel": "channel",
        "future": "received_at",
        "past": "received_at",
        "unverifiable": "identity_checked",
        "email": "email",
        "phone": "phone",
        "details": "details",
    }


class NoteForm(PlacesRefusals):
    note = forms.CharField(
        label=gettext_lazy("Internal note"),
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For privacy officers only. The person sees it if they ask for access."),
        error_messages={"required": gettext_lazy("Write the note first.")},
    )

    def clean_note(self) -> str:
        return _clean_text(self.cleaned_data["note"])

    FIELD_OF = {"note": "note", "details": "note"}


class MessageForm(PlacesRefusals):
    """A short message to the person: mailed to them and shown on their status page."""

    message = forms.CharField(
        label=gettext_lazy("Message to the person"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Mailed to the person at once, in their language setting, and shown on their status page. "
            "Write it in the person's language."
        ),
        error_messages={
            "required": gettext_lazy("Write the message first."),
            "max_length": gettext_lazy(
                "The message is too long: at most 2,000 characters. Put a longer text in the answer."
            ),
        },
    )

    def clean_message(self) -> str:
        return _clean_text(self.cleaned_data["message"])

    FIELD_OF = {"message": "message", "message_long": "message"}


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=gettext_lazy("Assign to"), required=False)

    def __init__(self, *args: Any, officers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.officers = {str(officer.pk): officer for officer in officers}
        field: forms.ChoiceField = self.fields["assignee"]  # type: ignore[assignment]
        field.choices = [("", _("Nobody"))] + [(pk, officer.name) for pk, officer in self.officers.items()]

    def clean_assignee(self) -> User | None:
        value = self.cleaned_data.get("assignee") or ""
        return self.officers.get(value)


class ExtendForm(PlacesRefusals):
    until = forms.DateField(
        label=gettext_lazy("New due date"),
        error_messages={
            "required": gettext_lazy("Choose the new due date."),
            "invalid": gettext_lazy("Enter a date like 2027-03-15."),
        },
        widget=_date_widget(),
        input_formats=DATE_FORMATS,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reasons, for the person"),
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "For example the number or complexity of the requests (Art. 12(3)). Sent to the person as written."
        ),
        error_messages={"required": gettext_lazy("Give the reasons for the extension.")},
    )

    def __init__(self, *args: Any, request: Request, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        latest = deadlines.latest_extension(request.due_on)
        self.latest = latest
        widget = self.fields["until"].widget
        widget.attrs["min"] = (request.due_on + dt.timedelta(days=1)).isoformat()
        widget.attrs["max"] = latest.isoformat()
        if not self.is_bound:
            self.initial.setdefault("until", latest)

    def clean_reason(self) -> str:
        return _clean_text(self.cleaned_data["reason"])

    # Any other refusal (too late, extended once already) means the form is not offered any more:
    # it is said at the top of the page.
    FIELD_OF = {"until": "until", "reason": "reason"}


class AnswerForm(PlacesRefusals):
    message = forms.CharField(
        label=gettext_lazy("Message to the person"),
        max_length=MAX_DETAILS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Optional. The email already lists each right asked for and whether it is done, and tells the person "
            "of the right to complain to the Data Protection Authority."
        ),
    )

    def clean_message(self) -> str:
        return _clean_text(self.cleaned_data["message"])


class RefuseForm(PlacesRefusals):
    ground = forms.ChoiceField(
        label=gettext_lazy("Ground"),
        choices=Request.Ground.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the ground for refusing.")},
    )
    justification = forms.CharField(
        label=gettext_lazy("Justification, for the person"),
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "We must be able to show that the ground applies. The person gets this text, the ground, and their "
            "rights to complain to the Data Protection Authority and to go to court."
        ),
        error_messages={
            "required": gettext_lazy(
                "A refusal needs a written justification (at least 20 characters); the person is told it."
            )
        },
    )

    def clean_justification(self) -> str:
        return _clean_text(self.cleaned_data["justification"])

    FIELD_OF = {"ground": "ground", "justification": "justification"}


class ErasureForm(PlacesRefusals):
    confirm = forms.BooleanField(
        label=gettext_lazy("I have checked the preview: erase as shown"),
        error_messages={"required": gettext_lazy("Tick the box to confirm that you have checked the preview.")},
    )


class RectifyForm(PlacesRefusals):
    OTHER_REFUSALS_ON_FORM = True

    field = forms.ChoiceField(
        label=gettext_lazy("Field"), error_messages={"required": gettext_lazy("Choose the field to correct.")}
    )
    value = forms.CharField(
        label=gettext_lazy("Correct value"),
        max_length=MAX_DETAILS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The old and the new value are kept in the request's timeline."),
    )

    def __init__(self, *args: Any, fields: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: forms.ChoiceField = self.fields["field"]  # type: ignore[assignment]
        choice.choices = fields

    def clean_value(self) -> str:
        return _clean_text(self.cleaned_data["value"])


class ObjectionForm(PlacesRefusals):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("upheld", gettext_lazy("Upheld: the processing stops")),
            ("overridden", gettext_lazy("Overridden: compelling legitimate grounds outweigh the person's interests")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose whether the objection is upheld or overridden.")},
    )
    grounds = forms.CharField(
        label=gettext_lazy("Grounds"),
        max_length=MAX_DETAILS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy(
            "Needed when the objection is overridden (Art. 21(1)): why our grounds override the person's interests, "
            "rights and freedoms, or why the data is needed for a legal claim."
        ),
    )

    def clean_grounds(self) -> str:
        return _clean_text(self.cleaned_data["grounds"])

    FIELD_OF = {"decision": "decision", "grounds": "grounds"}


class RestrictionLiftForm(PlacesRefusals):
    OTHER_REFUSALS_ON_FORM = True
    FIELD_OF = {"lift_date": "lift_on"}

    lift_on = forms.DateField(
        label=gettext_lazy("The restriction ends on"),
        help_text=gettext_lazy("The person is told now by email; the restriction ends on this day, not before."),
        error_messages={
            "required": gettext_lazy("Choose the day."),
            "invalid": gettext_lazy("Enter a date like 2027-03-15."),
        },
        widget=_date_widget(),
        input_formats=DATE_FORMATS,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lift_on"].widget.attrs["min"] = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
