"""The record of processing activities (GDPR Art. 30(1), LAW.md §1b), built from the
declaration and the registry so that neither is written down twice."""

from __future__ import annotations

import io
import json
from typing import Any

from vern.declaration.schema import LEGAL_BASIS_ARTICLE, Declaration
from vern.declaration.selectors import BASIS_LABELS, processor_rows, retention_line
from vern.lib import csvsafe
from vern.registry.entries import entries
from vern.registry.surface import record_sections


def build(declaration: Declaration, language: str) -> dict[str, Any]:
    """The record; its recipients and transfers come from the processor register when an app
    keeps one (``vern.registry.surface.processor_register``), else from the declaration."""
    d = declaration
    rows = processor_rows(declaration, language)
    subjects = {s.id: s.name.get(language) for s in d.data_subjects}
    categories = {c.id: c.name.get(language) for c in d.data_categories}
    stores: dict[str, list[str]] = {}
    for entry in entries():
        stores.setdefault(entry.purpose, []).append(entry.label)
    activities = []
    for purpose in d.purposes:
        processors = [
            p
            for p in rows
            if (purpose.id in p["purposes"] if p["purposes"] is not None else p["id"] in purpose.recipients)
        ]
        transfers = [
            f"{p['name']}: {', '.join(p['outside'])} ({p['mechanism_text']})"
            for p in processors
            if p["outside"] and p["mechanism_text"]
        ]
        rules = [r for r in d.retention.rules if purpose.id in r.purposes]
        activities.append(
            {
                "id": purpose.id,
                "purpose": purpose.name.get(language),
                "legal_basis": [
                    f"GDPR art. {LEGAL_BASIS_ARTICLE[b]}: {BASIS_LABELS[b][language]}" for b in purpose.legal_bases
                ],
                "legitimate_interest": purpose.legitimate_interest.get(language) if purpose.legitimate_interest else "",
                "data_subjects": [subjects[s] for s in purpose.data_subjects],
                "data_categories": [categories[c] for c in purpose.data_categories],
                "recipients": [f"{p['name']} ({p['service']}, {p['countries_text']})" for p in processors],
                "transfers": transfers or ["none" if language == "en" else "ingen"],
                "retention": [retention_line(rule, language) for rule in rules],
                "stored_in": sorted(stores.get(purpose.id, [])),
            }
        )
    return {
        "controller": {
            "name": d.controller.name,
            "org_number": d.controller.org_number,
            "contact": d.controller.email,
            "dpo": d.controller.dpo.get(language) if d.controller.dpo else "",
            "dpo_contact": d.controller.dpo_email or "",
        },
        "activities": activities,
        "processors": [
            {
                "name": p["name"],
                "service": p["service"],
                "locations": p["countries_text"],
                "transfer_mechanism": p["mechanism_text"] or ("none" if language == "en" else "ingen"),
                "sub_processors": [f"{s['name']} ({s['countries_text']})" for s in p["subs"]],
            }
            for p in rows
        ],
        "security_measures": [m.get(language) for m in d.security.measures] + [d.security.standards.get(language)],
        # The registers the apps keep (breaches, risks...), reached through their surfaces.
        "registers": [
            {
                "key": section.key,
                "title": str(section.title),
                "columns": [str(label) for _key, label in section.columns],
                # Each row by column label, in the column order: readable as JSON, and one line in Markdown.
                "rows": [{str(label): row.get(key, "") for key, label in section.columns} for row in section.rows],
            }
            for section in record_sections(language)
        ],
    }


def as_json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def as_csv(record: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    columns = [
        "purpose",
        "legal_basis",
        "legitimate_interest",
        "data_subjects",
        "data_categories",
        "recipients",
        "transfers",
        "retention",
        "stored_in",
    ]
    writer.writerow(["controller", *columns, "security_measures"])
    security = "; ".join(record["security_measures"])
    controller = (
        f"{record['controller']['name']} ({record['controller']['org_number']}, {record['controller']['contact']})"
    )
    for activity in record["activities"]:
        row = [activity[c] if isinstance(activity[c], str) else "; ".join(activity[c]) for c in columns]
        writer.writerow([controller, *row, security])
    return out.getvalue()


def as_markdown(record: dict[str, Any], language: str) -> str:
    en = language == "en"
    controller = record["controller"]
    lines = [
        "# "
        + (
            "Record of processing activities (GDPR Art. 30)"
            if en
            else "Protokoll over behandlingsaktiviteter (GDPR art. 30)"
        ),
        "",
        f"**{'Controller' if en else 'Behandlingsansvarlig'}:** {controller['name']}, "
        f"{'org. no.' if en else 'org.nr.'} {controller['org_number']}, {controller['contact']}",
    ]
    if controller["dpo"]:
        dpo_label = "Data protection officer" if en else "Personvernombud"
        lines.append(f"**{dpo_label}:** {controller['dpo']} {controller['dpo_contact']}")
    labels = {
        "legal_basis": ("Legal basis", "Behandlingsgrunnlag"),
        "legitimate_interest": ("Legitimate interest", "Berettiget interesse"),
        "data_subjects": ("Data subjects", "Registrerte"),
        "data_categories": ("Categories of data", "Kategorier personopplysninger"),
        "recipients": ("Recipients", "Mottakere"),
        "transfers": ("Transfers to third countries", "Overføring til tredjeland"),
        "retention": ("Erasure time limits", "Frister for sletting"),
        "stored_in": ("Stored in (vern tables)", "Lagret i (tabeller i vern)"),
    }
    for activity in record["activities"]:
        lines += ["", f"## {activity['purpose']}", ""]
        for key, (label_en, label_nb) in labels.items():
            value = activity[key]
            if not value:
                continue
            text = value if isinstance(value, str) else "; ".join(value)
            lines.append(f"- **{label_en if en else label_nb}:** {text}")
    lines += ["", "## " + ("Processors (Art. 28)" if en else "Databehandlere (art. 28)"), ""]
    for p in record.get("processors", []):
        subs = "; ".join(p["sub_processors"])
        tail = f"; {'sub-processors' if en else 'underleverandører'}: {subs}" if subs else ""
        lines.append(f"- **{p['name']}** ({p['service']}): {p['locations']}; {p['transfer_mechanism']}{tail}")
    lines += ["", "## " + ("Security measures (Art. 32)" if en else "Sikkerhetstiltak (art. 32)"), ""]
    lines += [f"- {measure}" for measure in record["security_measures"]]
    for register in record.get("registers", []):
        lines += ["", f"## {register['title']}", ""]
        if not register["rows"]:
            lines.append("- " + ("none recorded" if en else "ingen registrert"))
        for row in register["rows"]:
            lines.append("- " + "; ".join(f"{label}: {value}" for label, value in row.items() if value))
    return "\n".join(lines) + "\n"
