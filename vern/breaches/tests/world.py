"""The registers as a company a few weeks in has them: for the browser tests (this app's, and every staff page's)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def security_registers(pia: Any, now: Any) -> tuple[Any, Any]:
    """A breach decided and reported, one still on its clock, a risk, a register review and a screening."""
    from vern.breaches import services

    data = {
        "title": "Kundeliste sendt til feil mottaker",
        "nature": ["confidentiality"],
        "categories": ["contact_details", "enquiry_content"],
        "data_subjects": ["enquirers"],
        "people_approx": 40,
        "records_approx": 55,
        "description": "En liste med henvendelser ble sendt til feil kunde.",
        "consequences": "Andre kan vite at du har kontaktet oss.",
        "measures_taken": "Mottakeren har slettet listen og bekreftet det skriftlig.",
        "advice": "Vær på vakt mot e-post som later som den kommer fra oss.",
    }
    services.breach_open(staff=pia, data={**data, "aware_at": now - dt.timedelta(hours=30), "title": "Stjålet PC"})
    breach = services.breach_open(staff=pia, data={**data, "aware_at": now - dt.timedelta(hours=20)})
    breach = services.breach_decide(
        staff=pia, breach=breach, authority="notify", people="notify", reasons="Risiko for svindelforsøk."
    )
    services.breach_report(staff=pia, breach=breach, stage="initial", submitted_at=now, reference="26/01234")
    risk = services.risk_add(
        staff=pia,
        data={
            "asset": "",
            "purpose": "enquiries",
            "threat": "Phishing gir en utenforstående tilgang til innboksen",
            "likelihood": 3,
            "impact": 4,
            "measures": "Passnøkler for alle ansatte",
            "owner": pia,
            "residual_likelihood": 1,
            "residual_impact": 4,
            "next_review": now.date() + dt.timedelta(days=90),
        },
    )
    services.register_review(staff=pia, note="Alle risikoer sjekket.")
    services.screening_record(
        staff=pia,
        purpose="enquiries",
        purposes={"enquiries"},
        list_items=[],
        criteria=["large_scale"],
        reasons="Få henvendelser, ingen sensitive opplysninger.",
    )
    return breach, risk
