"""What a DPIA screening weighs (docs/security-registers.md has the sources).

``DATATILSYNET``: Datatilsynet's list of processing that always needs an impact assessment
("Liste over behandlinger som alltid krever vurdering av personvernkonsekvenser", Art. 35(4)),
in vern's own short words; an item that applies makes an assessment required.
``EDPB``: the nine criteria of the EDPB's guidelines on DPIA (WP248 rev.01); two or more that
apply make an assessment likely required, and vern records it as required.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

DATATILSYNET: dict[str, Promise] = {
    "biometric": _("Biometric data to identify people, together with at least one EDPB criterion"),
    "genetic": _("Genetic data, together with at least one EDPB criterion"),
    "location": _("Location data, together with at least one EDPB criterion"),
    "innovative": _(
        "Innovative technology (such as artificial intelligence), together with at least one EDPB criterion"
    ),
    "employee_monitoring": _("Systematic monitoring of employees (camera, email, internet use)"),
    "profiling": _(
        "Predicting people's work, finances, health, preferences, behaviour or movements, "
        "together with at least one EDPB criterion"
    ),
    "children_school": _("Evaluating children's learning, coping or well-being in schools or kindergartens"),
    "large_scale_sensitive": _("Special categories of data or data of a highly personal nature on a large scale"),
    "third_party_contract": _(
        "Data from third parties used to decide whether to enter, continue or end a contract with the person"
    ),
    "invisible": _(
        "Processing the people cannot be told about or object to, together with at least one EDPB criterion"
    ),
    "iot_vehicle": _("Data from connected devices or vehicles on a large scale"),
    "public_monitoring": _("Systematic monitoring of a publicly accessible area on a large scale"),
}

EDPB: dict[str, Promise] = {
    "evaluation": _("Evaluation or scoring, including profiling and prediction"),
    "automated_decision": _("Automated decisions with legal or similarly significant effect"),
    "monitoring": _("Systematic monitoring"),
    "sensitive": _("Sensitive data or data of a highly personal nature"),
    "large_scale": _("Data processed on a large scale"),
    "combining": _("Matching or combining data sets"),
    "vulnerable": _("Data about vulnerable people (children, employees, patients)"),
    "new_technology": _("Innovative use or new technological or organisational solutions"),
    "prevents_rights": _("Processing that keeps people from a right, a service or a contract"),
}

EDPB_THRESHOLD = 2  # two criteria or more: an assessment is likely required


def outcome_of(list_items: list[str], criteria: list[str]) -> str:
    """``required`` when an item of Datatilsynet's list applies or two EDPB criteria do, else ``not_required``."""
    if list_items or len(criteria) >= EDPB_THRESHOLD:
        return "required"
    return "not_required"
