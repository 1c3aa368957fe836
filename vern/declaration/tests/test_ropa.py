"""The Art. 30 record comes from the declaration and the registry (R3)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.conf import settings

from vern.accounts.testing import staff_login
from vern.registry.entries import entries
from vern.testing import run_vern, vern_env

ART30_KEYS = {"purpose", "legal_basis", "data_subjects", "data_categories", "recipients", "transfers", "retention"}


@pytest.mark.django_db(transaction=True)
def test_vern_ropa_gives_every_art_30_field_in_json_csv_and_markdown(default_source):
    assert run_vern("policy", "publish", "--file", str(settings.VERN_DECLARATION), env=vern_env()).returncode == 0
    as_json = run_vern("ropa", "--format", "json", "--language", "en", env=vern_env())
    assert as_json.returncode == 0, as_json.stderr
    record = json.loads(as_json.stdout)
    assert record["controller"] == {
        "name": "Kaukus AS",
        "org_number": "922 140 251",
        "contact": "support@kaukus.no",
        "dpo": "",
        "dpo_contact": "",
    }
    assert len(record["activities"]) == 5
    for activity in record["activities"]:
        assert ART30_KEYS <= set(activity)
        assert all(activity[key] for key in ART30_KEYS), activity["purpose"]
    assert "ISO/IEC 27001" in " ".join(record["security_measures"])
    enquiries = next(a for a in record["activities"] if a["id"] == "enquiries")
    assert enquiries["retention"][0].startswith("Enquiries via form or email: up to 24 months after the last contact")

    rows = list(csv.DictReader(io.StringIO(run_vern("ropa", "--format", "csv", env=vern_env()).stdout)))
    assert len(rows) == 5 and rows[0]["controller"].startswith("Kaukus AS (922 140 251")
    markdown = run_vern("ropa", "--format", "md", "--language", "nb", env=vern_env()).stdout
    assert markdown.startswith("# Protokoll over behandlingsaktiviteter (GDPR art. 30)")
    assert "**Frister for sletting:** Tekniske loggdata: inntil 1 måned" in markdown


@pytest.mark.django_db
def test_every_registered_model_appears_under_its_purpose_in_the_record(client, personas, published):
    staff_login(client, personas.privacy_officer)
    record = client.get("/en/staff/declaration/record/?format=json").json()
    stored = {label for activity in record["activities"] for label in activity["stored_in"]}
    assert stored == {entry.label for entry in entries()}


@pytest.mark.django_db
def test_p10_personal_data_goes_only_to_processors_in_the_register(published, default_source):
    """A purpose cannot name a recipient outside the processor register, and the record shows who receives what."""
    from vern.declaration.loading import parse
    from vern.declaration.ropa import build
    from vern.declaration.rules import check
    from vern.declaration.selectors import published_declaration

    sold = default_source.replace(
        "    recipients: [hetzner]\n\n  - id: newsletter",
        "    recipients: [hetzner, databroker]\n\n  - id: newsletter",
        1,
    )
    assert sold != default_source
    assert "purposes[2].recipients[1]" in "".join(str(p) for p in check(parse(sold)))
    declaration = published_declaration()
    assert declaration is not None
    record = build(declaration, "en")
    assert {r for a in record["activities"] for r in a["recipients"]} == {
        "Hetzner Online GmbH (Provider of web hosting and server infrastructure, Germany and Finland)"
    }
