from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vern.connectors.models import ManualTask


class TaskAnswerForm(forms.Form):
    """A processor's answer to a task: what they found and did, and a note without the person's details."""

    outcome = forms.ChoiceField(
        label=_("What did you find and do?"),
        choices=ManualTask.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what you found and did.")},
    )
    note = forms.CharField(
        label=_("Note"),
        help_text=_("For example which systems you searched, or why data was kept. Do not write the person's details."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
