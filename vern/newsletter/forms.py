"""The subscription form, the preference form, and the mailing form staff write in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vern.declaration.schema import Declaration
from vern.lib.formfields import EmailAddressField
from vern.newsletter.services import MAX_NAME, UNREADABLE

LANGUAGE_CHOICES = (("nb", "Norsk bokmål"), ("en", "English"))
MAX_SUBJECT = 200
MAX_BODY = 20_000


def _one_line(value: str) -> str:
    """No line breaks or control characters: what would let a value pose as a mail header."""
    if UNREADABLE.search(value):
        raise forms.ValidationError(
            _("This contains line breaks or characters we cannot read. Write it on one line."), code="unreadable"
        )
    return value


def _topic_choices(declaration: Declaration, language: str) -> list[tuple[str, str]]:
    return [(topic.id, topic.name.get(language)) for topic in declaration.newsletter.topics]


class SubscribeForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"max_length": _("A name has at most 200 characters.")},
    )
    email = EmailAddressField(label=_("Email address"), validators=[_one_line])
    topics = forms.MultipleChoiceField(
        label=_("What would you like to hear about?"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one topic."), "invalid_choice": _("Choose the topics offered.")},
    )
    agree = forms.BooleanField(
        required=True, error_messages={"required": _("Tick the box to say that you want the newsletter.")}
    )

    def __init__(self, *args: Any, declaration: Declaration, language: str, text: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _topic_choices(declaration, language)
        topics = self.fields["topics"]
        assert isinstance(topics, forms.MultipleChoiceField)
        topics.choices = choices
        topics.initial = [value for value, _label in choices]
        self.fields["agree"].label = text

    def clean_name(self) -> str:
        return _one_line(self.cleaned_data["name"].strip())


class PreferencesForm(forms.Form):
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one topic."), "invalid_choice": _("Choose the topics offered.")},
    )
    language = forms.ChoiceField(label=_("Language of the newsletter"), choices=LANGUAGE_CHOICES)

    def __init__(self, *args: Any, declaration: Declaration, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topics = self.fields["topics"]
        assert isinstance(topics, forms.MultipleChoiceField)
        topics.choices = _topic_choices(declaration, language)


class MailingForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"))
    subject_nb = forms.CharField(label=_("Subject in Bokmål"), max_length=MAX_SUBJECT)
    body_nb = forms.CharField(
        label=_("Text in Bokmål"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Plain text. Links are written out in full; nothing is read as HTML."),
    )
    subject_en = forms.CharField(label=_("Subject in English"), max_length=MAX_SUBJECT)
    body_en = forms.CharField(
        label=_("Text in English"), max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 10})
    )

    def __init__(self, *args: Any, declaration: Declaration, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ChoiceField)
        topic.choices = _topic_choices(declaration, language)

    def clean_subject_nb(self) -> str:
        return _one_line(self.cleaned_data["subject_nb"].strip())

    def clean_subject_en(self) -> str:
        return _one_line(self.cleaned_data["subject_en"].strip())
