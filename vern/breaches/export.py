"""The breach export, field by field as Datatilsynet's breach notification form asks
(docs/security-registers.md lists the form's parts and where each field comes from), and
the registers as CSV and JSON."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from vern.breaches import dpia
from vern.breaches.models import Breach, RegisterReview, Risk, Screening
from vern.declaration.selectors import localise, published_declaration
from vern.lib import csvsafe

NATURE: dict[str, Promise] = {
    "confidentiality": _("Confidentiality: personal data disclosed or accessed without authority"),
    "integrity": _("Integrity: personal data altered without authority"),
    "availability": _("Availability: personal data lost or destroyed, or access to them lost"),
}

# Datatilsynet's notification form, part by part: (key, label). Every key is in ``breach_record``.
FORM_FIELDS: tuple[tuple[str, Promise], ...] = (
    ("notification_type", _("Type of notification (initial, follow-up, final)")),
    ("controller_name", _("Controller")),
    ("controller_org_number", _("Organisation number")),
    ("controller_contact", _("Contact point for more information")),
    ("dpo", _("Data protection officer")),
    ("dpo_contact", _("Data protection officer's contact details")),
    ("reference", _("Our reference")),
    ("summary", _("Summary of the breach")),
    ("occurred_at", _("When the breach happened")),
    ("aware_at", _("When we became aware of it")),
    ("discovered_how", _("How the breach was discovered")),
    ("nature", _("Nature of the breach")),
    ("cause", _("Main cause and how it happened")),
    ("description", _("What happened")),
    ("data_categories", _("Categories of personal data concerned")),
    ("special_categories", _("Special categories or criminal offence data involved")),
    ("data_subjects", _("Categories of people concerned and our relation to them")),
    ("people_approx", _("Approximate number of people concerned")),
    ("records_approx", _("Approximate number of records concerned")),
    ("data_location", _("Where the personal data are now")),
    ("consequences", _("Likely consequences for the people concerned")),
    ("measures_taken", _("Measures taken to deal with the breach and limit its effects")),
    ("measures_planned", _("Measures planned to prevent it happening again")),
    ("people_informed", _("Whether the people concerned are informed")),
    ("people_informed_when", _("When the people concerned were informed")),
    ("people_informed_how", _("How, and what they were told")),
    ("decision_reasons", _("Reasons for the decision on notifying")),
    ("delay_reason", _("Reasons for notifying after 72 hours")),
    ("submitted_at", _("Date of this notification")),
)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes") if value else ""


def _names(ids: list[str], items: Any, language: str) -> list[str]:
    names = {item.id: str(localise(item.name, language)) for item in items}
    return [names.get(i, i) for i in ids]


def breach_record(
    breach: Breach, language: str, *, stage: str = "", submitted_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The breach as the notification form asks for it, in ``language`` (labels and names of data)."""
    declaration = published_declaration()
    with translation.override(language):
        controller = declaration.controller if declaration else None
        # Informed means the notice went out; a decision to tell them is not yet having told them.
        if breach.notice_sent_at is not None:
            informed = str(_("Yes"))
        else:
            informed = {
                Breach.Decision.NOTIFY: str(_("Not yet; they will be")),
                Breach.Decision.NOT_NOTIFY: str(_("No")),
                Breach.Decision.UNDECIDED: str(_("Not decided yet")),
            }[Breach.Decision(breach.people_decision)]
        stages = {"initial": _("Initial report"), "follow_up": _("Follow-up report"), "final": _("Final report")}
        return {
            "notification_type": str(stages.get(stage, _("Not reported yet"))),
            "controller_name": controller.name if controller else "",
            "controller_org_number": controller.org_number if controller else "",
            "controller_contact": controller.email if controller else "",
            "dpo": str(localise(controller.dpo, language)) if controller and controller.dpo else "",
            "dpo_contact": (controller.dpo_email or "") if controller else "",
            "reference": breach.reference,
            "summary": breach.title,
            "occurred_at": _when(breach.occurred_at),
            "aware_at": _when(breach.aware_at),
            "discovered_how": breach.discovered_how,
            "nature": [str(NATURE[n]) for n in breach.nature if n in NATURE],
            "cause": breach.cause,
            "description": breach.description,
            "data_categories": _names(breach.categories, declaration.data_categories if declaration else [], language),
            "special_categories": breach.special_categories,
            "data_subjects": _names(breach.data_subjects, declaration.data_subjects if declaration else [], language),
            "people_approx": breach.people_approx,
            "records_approx": breach.records_approx,
            "data_location": breach.data_location,
            "consequences": breach.consequences,
            "measures_taken": breach.measures_taken,
            "measures_planned": breach.measures_planned,
            "people_informed": informed,
            "people_informed_when": _when(breach.notice_sent_at),
            "people_informed_how": (
                str(_("By email, to %(count)s people found in our records")) % {"count": breach.notice_count}
                if breach.notice_sent_at
                else ""
            ),
            "decision_reasons": breach.decision_reasons,
            "delay_reason": breach.delay_reason,
            "submitted_at": _when(submitted_at),
        }


def text_of(value: Any) -> str:
    """A field's answer as one line of text (a list joined, yes or no), in the active language."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return str(value)


def breach_csv(breach: Breach, language: str) -> str:
    """One breach as a two-column sheet (field, answer), in the form's order: print it, or copy from it."""
    record = breach_record(breach, language)
    out = io.StringIO()
    writer = csvsafe.writer(out)
    with translation.override(language):
        writer.writerow([str(_("Field")), str(_("Answer"))])
        for key, label in FORM_FIELDS:
            writer.writerow([str(label), text_of(record[key])])
    return out.getvalue()


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n"


def breaches_record(language: str) -> list[dict[str, Any]]:
    rows = []
    for breach in Breach.objects.prefetch_related("reports"):
        record = breach_record(breach, language)
        record["status"] = breach.status
        record["authority_decision"] = breach.authority_decision
        record["reports"] = [
            {"stage": r.stage, "submitted_at": _when(r.submitted_at), "reference": r.reference}
            for r in breach.reports.all()
        ]
        rows.append(record)
    return rows


def breaches_csv(language: str) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    with translation.override(language):
        writer.writerow([str(label) for _key, label in FORM_FIELDS])
        for record in breaches_record(language):
            writer.writerow([text_of(record[key]) for key, _label in FORM_FIELDS])
    return out.getvalue()


RISK_COLUMNS: tuple[tuple[str, Promise], ...] = (
    ("reference", _("Reference")),
    ("asset", _("Asset or processing")),
    ("threat", _("Threat")),
    ("likelihood", _("Likelihood")),
    ("impact", _("Impact")),
    ("measures", _("Measures")),
    ("owner", _("Owner")),
    ("residual", _("Residual risk")),
    ("next_review", _("Next review")),
    ("last_reviewed", _("Last reviewed")),
)


def purpose_names(language: str) -> dict[str, str]:
    declaration = published_declaration()
    if declaration is None:
        return {}
    return {p.id: str(localise(p.name, language)) for p in declaration.purposes}


def risks_record(language: str) -> dict[str, Any]:
    names = purpose_names(language)
    with translation.override(language):
        risks = [
            {
                "reference": f"R-{risk.pk:04d}",
                "asset": risk.asset or names.get(risk.purpose, risk.purpose),
                "purpose": risk.purpose,
                "threat": risk.threat,
                "likelihood": risk.likelihood,
                "impact": risk.impact,
                "measures": risk.measures,
                "owner": risk.owner.name,
                "residual": f"{risk.residual_likelihood} × {risk.residual_impact} = {risk.residual_score}",
                "next_review": risk.next_review.isoformat(),
                "last_reviewed": _when(risk.last_reviewed_at),
            }
            for risk in Risk.objects.select_related("owner")
        ]
        reviews = [
            {"reviewed_at": _when(r.reviewed_at), "by": r.reviewed_by.name if r.reviewed_by else "", "note": r.note}
            for r in RegisterReview.objects.select_related("reviewed_by")
        ]
        screenings = [
            {
                "purpose": names.get(s.purpose, s.purpose),
                "outcome": str(s.get_outcome_display()),
                "datatilsynet_list": [str(dpia.DATATILSYNET[i]) for i in s.list_items if i in dpia.DATATILSYNET],
                "edpb_criteria": [str(dpia.EDPB[c]) for c in s.criteria if c in dpia.EDPB],
                "reasons": s.reasons,
                "screened_at": _when(s.screened_at),
                "by": s.screened_by.name if s.screened_by else "",
            }
            for s in Screening.objects.select_related("screened_by")
        ]
    return {"risks": risks, "register_reviews": reviews, "dpia_screenings": screenings}


def risks_csv(language: str) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    with translation.override(language):
        writer.writerow([str(label) for _key, label in RISK_COLUMNS])
        for risk in risks_record(language)["risks"]:
            writer.writerow([text_of(risk[key]) for key, _label in RISK_COLUMNS])
    return out.getvalue()


def notice_context(breach: Breach, language: str) -> dict[str, str]:
    """What the notice to the people affected says (Art. 34(2), with Art. 33(3)(b)-(d)): what happened,
    whom to ask, the likely consequences, what was done, and what they can do themselves."""
    declaration = published_declaration()
    controller = declaration.controller if declaration else None
    contact = ""
    if controller:
        dpo = str(localise(controller.dpo, language)) if controller.dpo else ""
        contact = f"{dpo}, {controller.dpo_email}" if dpo and controller.dpo_email else controller.email
    return {
        "reference": breach.reference,
        "controller": controller.name if controller else "",
        "contact": contact,
        "what": breach.description or breach.title,
        "consequences": breach.consequences,
        "measures": breach.measures_taken,
        "advice": breach.advice,
        # The privacy policy, where the person's rights and how to complain are set out.
        "link": _public_link("declaration:policy", language),
    }


def _public_link(name: str, language: str) -> str:
    from django.conf import settings
    from django.urls import reverse

    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name)
