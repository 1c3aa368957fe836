"""The console's forms for the security registers; each refusal of a service lands on its field."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.accounts.models import User
from vern.accounts.steps import PlacesRefusals
from vern.breaches import dpia
from vern.breaches.export import NATURE
from vern.breaches.models import Breach, Report
from vern.declaration.selectors import localise, published_declaration

WHEN = {"widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}
WHEN_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"]
DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LEVEL_CHOICES = [(n, str(n)) for n in range(1, 6)]


def _text(label: Any, rows: int = 3, required: bool = False, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class RefusalsOnFields(PlacesRefusals):
    """A service's ``Refused(code, field)`` is shown on the field it is about."""

    FIELD_OF: ClassVar[dict[str, str]] = {}
    OTHER_REFUSALS_ON_FORM = True

    def refused(self, code: str, text: str) -> None:
        field = self.FIELD_OF.get(code)
        self.add_error(field if field in self.fields else None, text)


class BreachForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {"future": "aware_at", "future_occurred": "occurred_at"}

    title = forms.CharField(label=_("Summary of the breach"), max_length=200)
    aware_at = forms.DateTimeField(label=_("When we became aware of it"), input_formats=WHEN_FORMATS, **WHEN)  # type: ignore[arg-type]
    occurred_at = forms.DateTimeField(
        label=_("When the breach happened"),
        required=False,
        input_formats=WHEN_FORMATS,
        **WHEN,  # type: ignore[arg-type]
    )
    discovered_how = _text(_("How the breach was discovered"), rows=2)
    nature = forms.MultipleChoiceField(
        label=_("Nature of the breach"),
        choices=list(NATURE.items()),
        widget=forms.CheckboxSelectMultiple,
    )
    cause = _text(_("Main cause and how it happened"), rows=2)
    description = _text(_("What happened"))
    categories = forms.MultipleChoiceField(
        label=_("Categories of personal data concerned"), required=False, widget=forms.CheckboxSelectMultiple
    )
    special_categories = forms.BooleanField(
        label=_("Special categories or criminal offence data involved"), required=False
    )
    data_subjects = forms.MultipleChoiceField(
        label=_("Categories of people concerned"), required=False, widget=forms.CheckboxSelectMultiple
    )
    people_approx = forms.IntegerField(label=_("Approximate number of people concerned"), min_value=0, required=False)
    records_approx = forms.IntegerField(label=_("Approximate number of records concerned"), min_value=0, required=False)
    data_location = _text(_("Where the personal data are now"), rows=2)
    consequences = _text(_("Likely consequences for the people concerned"))
    measures_taken = _text(_("Measures taken to deal with the breach and limit its effects"))
    measures_planned = _text(_("Measures planned to prevent it happening again"))
    advice = _text(
        _("What the people concerned can do themselves"),
        help_text=_("Goes into the notice to the people affected."),
    )

    def __init__(self, *args: Any, language: str = "nb", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        declaration = published_declaration()
        if declaration is not None:
            categories: forms.MultipleChoiceField = self.fields["categories"]  # type: ignore[assignment]
            categories.choices = [
                (c.id, str(localise(c.name, language))) for c in declaration.data_categories if c.personal
            ]
            subjects: forms.MultipleChoiceField = self.fields["data_subjects"]  # type: ignore[assignment]
            subjects.choices = [(s.id, str(localise(s.name, language))) for s in declaration.data_subjects]

    def clean_aware_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["aware_at"]
        if value > timezone.now():
            raise forms.ValidationError(_("The time we became aware of a breach cannot lie in the future."))
        return value

    def clean_occurred_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("occurred_at")
        if value is not None and value > timezone.now():
            raise forms.ValidationError(_("The time a breach happened cannot lie in the future."))
        return value

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("discovered_how", "cause", "description", "data_location"):
            data[name] = data.get(name, "").strip()
        return data

    @classmethod
    def initial_of(cls, breach: Breach) -> dict[str, Any]:
        from vern.breaches.services import BREACH_FIELDS

        return {
            name: timezone.localtime(getattr(breach, name))
            if isinstance(getattr(breach, name), dt.datetime)
            else getattr(breach, name)
            for name in BREACH_FIELDS
        }


class DecisionForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {"no_reasons": "reasons", "no_delay_reason": "delay_reason"}
    CHOICES = [(Breach.Decision.NOTIFY.value, _("Notify")), (Breach.Decision.NOT_NOTIFY.value, _("Do not notify"))]

    authority = forms.ChoiceField(label=_("Notify Datatilsynet?"), choices=CHOICES, widget=forms.RadioSelect)
    people = forms.ChoiceField(label=_("Notify the people affected?"), choices=CHOICES, widget=forms.RadioSelect)
    reasons = _text(
        _("Reasons"),
        required=True,
        help_text=_("Why the breach is, or is not, likely to result in a risk (or a high risk) to people."),
    )
    delay_reason = _text(
        _("Reason for notifying after 72 hours"),
        rows=2,
        help_text=_("Required when Datatilsynet is notified more than 72 hours after we became aware."),
    )


class ReportForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {
        "future": "submitted_at",
        "no_delay_reason": "submitted_at",
        "not_notifying": "stage",
        "initial_twice": "stage",
        "initial_first": "stage",
        "after_final": "stage",
    }

    stage = forms.ChoiceField(label=_("Report"), choices=Report.Stage.choices)
    submitted_at = forms.DateTimeField(label=_("Sent to Datatilsynet"), input_formats=WHEN_FORMATS, **WHEN)  # type: ignore[arg-type]
    reference = forms.CharField(label=_("Datatilsynet's reference"), max_length=100, required=False)
    note = _text(_("Note"), rows=2)


class NoticeForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {
        "people_not_notified": "addresses",
        "notice_sent": "addresses",
        "nobody_found": "addresses",
    }

    addresses = forms.CharField(
        label=_("Email addresses of the people affected"),
        help_text=_("One a line. Each is looked up in vern's data; only those found get the notice."),
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
    )

    def clean_addresses(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["addresses"].splitlines() if line.strip()]
        for line in lines:
            try:
                validate_email(line)
            except forms.ValidationError:
                raise forms.ValidationError(_("Each line must be one email address.")) from None
        return lines


class RiskForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {
        "review_past": "next_review",
        "review_not_ahead": "next_review",
        "no_asset": "asset",
        "owner_inactive": "owner",
    }

    asset = forms.CharField(label=_("Asset"), max_length=200, required=False)
    purpose = forms.ChoiceField(label=_("or processing (a purpose of the policy)"), required=False)
    threat = _text(_("Threat"), required=True, rows=2)
    likelihood = forms.TypedChoiceField(label=_("Likelihood (1-5)"), choices=LEVEL_CHOICES, coerce=int)
    impact = forms.TypedChoiceField(label=_("Impact (1-5)"), choices=LEVEL_CHOICES, coerce=int)
    measures = _text(_("Measures"))
    residual_likelihood = forms.TypedChoiceField(
        label=_("Likelihood after the measures"), choices=LEVEL_CHOICES, coerce=int
    )
    residual_impact = forms.TypedChoiceField(label=_("Impact after the measures"), choices=LEVEL_CHOICES, coerce=int)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.filter(is_active=True).order_by("name"))
    next_review = forms.DateField(label=_("Next review"), widget=DAY, input_formats=["%Y-%m-%d", "%d.%m.%Y"])

    def __init__(self, *args: Any, language: str = "nb", new: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.new = new
        declaration = published_declaration()
        purposes: forms.ChoiceField = self.fields["purpose"]  # type: ignore[assignment]
        purposes.choices = [("", "–")] + (
            [(p.id, str(localise(p.name, language))) for p in declaration.purposes] if declaration else []
        )
        if not new:
            self.fields["reviewed"] = forms.BooleanField(label=_("Reviewed now"), required=False)

    def clean_next_review(self) -> dt.date:
        value: dt.date = self.cleaned_data["next_review"]
        if self.new and value < timezone.localdate():
            raise forms.ValidationError(_("A new risk's first review cannot lie in the past."))
        return value


class RegisterReviewForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {"no_note": "note"}

    note = _text(
        _("What the review found"),
        required=True,
        help_text=_("For example: every risk checked; two measures added; one risk closed."),
    )


class ScreeningForm(RefusalsOnFields):
    FIELD_OF: ClassVar[dict[str, str]] = {"no_reasons": "reasons", "unknown_purpose": "purpose"}

    purpose = forms.CharField(widget=forms.HiddenInput, max_length=64)
    list_items = forms.MultipleChoiceField(
        label=_("On Datatilsynet's list of processing that always needs an impact assessment"),
        choices=list(dpia.DATATILSYNET.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    criteria = forms.MultipleChoiceField(
        label=_("The EDPB's criteria (two or more: an assessment is required)"),
        choices=list(dpia.EDPB.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    reasons = _text(_("Reasons"), required=True, rows=2)
