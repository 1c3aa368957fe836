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

    def __init__(self, *args: object, kind: str = ManualTask.Kind.ERASE, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # An erasure task is answered erased or not; a correction task corrected or not.
        left_out = ManualTask.Outcome.RECTIFIED if kind == ManualTask.Kind.ERASE else ManualTask.Outcome.ERASED
        outcome: forms.ChoiceField = self.fields["outcome"]  # type: ignore[assignment]
        outcome.choices = [(value, label) for value, label in ManualTask.Outcome.choices if value != left_out]
