"""The console's forms for the register: they parse what was typed; the services decide."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.accounts.steps import PlacesRefusals
from vern.declaration.schema import Declaration
from vern.lib.formfields import EmailAddressField
from vern.lib.language import page_language
from vern.processors.models import Processor, SubProcessorChange
from vern.processors.services import Agreement, ProcessorInput

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class CountriesField(forms.CharField):
    """Two-letter country codes, separated by commas or spaces: "DE, FI"."""

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        codes = [code.upper() for code in re.split(r"[\s,;]+", text) if code]
        bad = [code for code in codes if not re.fullmatch(r"[A-Z]{2}", code)]
        if bad:
            raise forms.ValidationError(
                _("Write each country as its two-letter code, such as DE or US: %(bad)s is not one."),
                params={"bad": ", ".join(bad)},
            )
        if self.required and not codes:
            raise forms.ValidationError(self.error_messages["required"])
        return sorted(set(codes))


class ProcessorForm(PlacesRefusals):
    FIELD_OF = {
        "key": "key",
        "next_review": "next_review",
        "scc_module": "scc_module",
        "transfer_mechanism": "transfer_mechanism",
        "transfer_assessment": "transfer_assessment",
        "agreement_date": "agreement_date",
        "agreement_file": "agreement_file",
    }

    key = forms.SlugField(
        label=_("Short name"),
        max_length=40,
        help_text=_("Lower case, as the privacy declaration names the processor, such as hetzner."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    service_nb = forms.CharField(label=_("Service (Norwegian)"), max_length=300)
    service_en = forms.CharField(label=_("Service (English)"), max_length=300)
    purposes = forms.MultipleChoiceField(
        label=_("Purposes"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Data it processes"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    countries = CountriesField(
        label=_("Locations"),
        max_length=200,
        help_text=_("The countries where it stores or processes data, as two-letter codes: DE, FI."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=Processor.Status.choices)
    agreement_date = forms.DateField(
        label=_("Date of the data processing agreement"), required=False, widget=DATE_WIDGET, input_formats=DATE_FORMATS
    )
    agreement_note = forms.CharField(label=_("About the agreement"), max_length=500, required=False)
    agreement_file = forms.FileField(label=_("Agreement document"), required=False)
    transfer_mechanism = forms.ChoiceField(label=_("Transfer mechanism"), choices=Processor.Mechanism.choices)
    scc_module = forms.TypedChoiceField(
        label=_("Module of the Standard Contractual Clauses"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "–"),
            (1, _("Module 1: controller to controller")),
            (2, _("Module 2: controller to processor")),
            (3, _("Module 3: processor to processor")),
            (4, _("Module 4: processor to controller")),
        ],
    )
    transfer_assessment = forms.CharField(
        label=_("Transfer assessment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For locations outside the EEA: the laws there, and the measures that protect the data."),
    )
    next_review = forms.DateField(label=_("Next review"), widget=DATE_WIDGET, input_formats=DATE_FORMATS)

    def __init__(self, *args: Any, declaration: Declaration | None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = page_language()
        if declaration is not None:
            purposes: forms.MultipleChoiceField = self.fields["purposes"]  # type: ignore[assignment]
            purposes.choices = [(p.id, p.name.get(language)) for p in declaration.purposes]
            categories: forms.MultipleChoiceField = self.fields["data_categories"]  # type: ignore[assignment]
            categories.choices = [(c.id, c.name.get(language)) for c in declaration.data_categories]
        if editing:
            self.fields["key"].disabled = True

    def data_input(self) -> ProcessorInput:
        data = self.cleaned_data
        return ProcessorInput(
            key=data["key"],
            name=data["name"],
            service_nb=data["service_nb"],
            service_en=data["service_en"],
            countries=data["countries"],
            purposes=data["purposes"],
            data_categories=data["data_categories"],
            status=data["status"],
            agreement_date=data["agreement_date"],
            agreement_note=data["agreement_note"],
            transfer_mechanism=data["transfer_mechanism"],
            scc_module=data["scc_module"],
            transfer_assessment=data["transfer_assessment"],
            next_review=data["next_review"],
        )

    def agreement(self) -> Agreement | None:
        upload = self.cleaned_data.get("agreement_file")
        if not upload:
            return None
        return Agreement(
            content=upload.read(), filename=upload.name or "agreement", content_type=upload.content_type or ""
        )

    @staticmethod
    def initial_of(processor: Processor) -> dict[str, Any]:
        return {
            "key": processor.key,
            "name": processor.name,
            "service_nb": processor.service_nb,
            "service_en": processor.service_en,
            "purposes": processor.purposes,
            "data_categories": processor.data_categories,
            "countries": ", ".join(processor.countries),
            "status": processor.status,
            "agreement_date": processor.agreement_date,
            "agreement_note": processor.agreement_note,
            "transfer_mechanism": processor.transfer_mechanism,
            "scc_module": processor.scc_module,
            "transfer_assessment": processor.transfer_assessment,
            "next_review": processor.next_review,
        }


class ReviewForm(PlacesRefusals):
    FIELD_OF = {"next_review": "next_review"}

    next_review = forms.DateField(label=_("Next review"), widget=DATE_WIDGET, input_formats=DATE_FORMATS)


class ChangeForm(PlacesRefusals):
    FIELD_OF = {"objection_deadline": "objection_deadline", "countries": "countries", "name": "name"}

    kind = forms.ChoiceField(label=_("Change"), choices=SubProcessorChange.Kind.choices)
    name = forms.CharField(label=_("Sub-processor"), max_length=200)
    service = forms.CharField(label=_("What it does"), max_length=300, required=False)
    countries = CountriesField(label=_("Locations"), max_length=200, required=False)
    announced_on = forms.DateField(
        label=_("Announced on"), widget=DATE_WIDGET, input_formats=DATE_FORMATS, initial=timezone.localdate
    )
    objection_deadline = forms.DateField(label=_("Objections by"), widget=DATE_WIDGET, input_formats=DATE_FORMATS)


class SubscribeForm(forms.Form):
    email = EmailAddressField(label=_("Your email address"))
