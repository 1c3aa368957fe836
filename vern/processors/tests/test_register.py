"""The processor register: its rules, its place in the policy, the Art. 30 record, the exports and reminders."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.declaration.loading import DeclarationInvalid
from vern.declaration.models import PolicyVersion
from vern.declaration.services import declaration_publish
from vern.mail.models import OutboxMessage
from vern.processors.models import Processor, SubProcessor
from vern.processors.selectors import console_tiles
from vern.processors.services import (
    ProcessorInput,
    ProcessorRefused,
    processor_create,
    register_seed,
    review_reminders_send,
    subprocessor_change_record,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 12, 7)

# A US mail service as a declaration names it: active, under SCCs, with its assessment.
MAILER_YAML = """  - id: mailer
    name: Mailer Inc.
    service:
      nb: Utsending av e-post
      en: Sending email
    countries: [US]
    status: active
    agreement_date: 2026-11-01
    transfer_mechanism: scc
    transfer_evidence:
      nb: Overføringsvurdering 2026
      en: Transfer assessment 2026

sharing:"""


@pytest.fixture
def seeded(published):
    register_seed(declaration=_declaration(), policy_version=published.number, actor=Actor.cli(), today=TODAY)
    return Processor.objects.get(key="hetzner")


def _declaration():
    from vern.declaration.selectors import published_declaration

    found = published_declaration()
    assert found is not None
    return found


def mailer(**changes: Any) -> ProcessorInput:
    values: dict[str, Any] = {
        "key": "mailer",
        "name": "Mailer Inc.",
        "service_nb": "Utsending av e-post",
        "service_en": "Sending email",
        "countries": ["US"],
        "purposes": ["enquiries"],
        "data_categories": ["contact_details"],
        "status": Processor.Status.ACTIVE,
        "agreement_date": dt.date(2026, 11, 1),
        "transfer_mechanism": Processor.Mechanism.SCC,
        "scc_module": 2,
        "transfer_assessment": "US law reviewed; data encrypted at rest.",
        "next_review": TODAY + dt.timedelta(days=180),
    }
    values.update(changes)
    return ProcessorInput(**values)


def test_the_register_starts_once_from_the_published_policy_with_hetzner_active(seeded, published):
    assert seeded.status == "active" and seeded.countries == ["DE", "FI"]
    assert seeded.agreement_date == dt.date(2026, 11, 29)
    assert set(seeded.purposes) == {"enquiries", "operations", "analytics", "newsletter", "privacy_compliance"}
    assert seeded.next_review == TODAY + dt.timedelta(days=365)
    assert register_seed(declaration=_declaration(), policy_version=1, actor=Actor.cli()) == 0
    assert Processor.objects.count() == 1
    assert Entry.objects.filter(action="processor.seed").count() == 1


@translation.override("en")
def test_a_processor_outside_the_eea_is_not_activated_without_a_mechanism_nor_any_without_an_agreement(seeded):
    with pytest.raises(ProcessorRefused) as caught:
        processor_create(actor=Actor.cli(), data=mailer(transfer_mechanism="none", scc_module=None), today=TODAY)
    assert caught.value.code == "transfer_mechanism" and "US is outside the EEA" in str(caught.value)
    with pytest.raises(ProcessorRefused) as caught:
        processor_create(actor=Actor.cli(), data=mailer(countries=["SE"], agreement_date=None), today=TODAY)
    assert caught.value.code == "agreement_date"
    with pytest.raises(ProcessorRefused) as caught:
        processor_create(actor=Actor.cli(), data=mailer(scc_module=None), today=TODAY)
    assert caught.value.code == "scc_module"
    with pytest.raises(ProcessorRefused) as caught:
        processor_create(actor=Actor.cli(), data=mailer(transfer_mechanism="adequacy"), today=TODAY)
    assert caught.value.code == "transfer_mechanism" and "no adequacy decision" in str(caught.value)
    assert not Processor.objects.filter(key="mailer").exists()
    # Not active, it may be kept while the agreement and the mechanism are worked out.
    draft = processor_create(
        actor=Actor.cli(), data=mailer(status="draft", transfer_mechanism="none", agreement_date=None), today=TODAY
    )
    assert draft.status == "draft"


def test_the_console_refuses_bad_input_on_the_field_in_the_staff_members_language(client, personas, seeded):
    staff_login(client, personas.privacy_officer)  # Pia reads the console in Norwegian
    form = {
        "key": "mailer",
        "name": "Mailer Inc.",
        "service_nb": "E-post",
        "service_en": "Email",
        "countries": "US",
        "status": "active",
        "agreement_date": "2026-11-01",
        "transfer_mechanism": "none",
        "next_review": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    response = client.post("/staff/processors/new/", form)
    assert response.status_code == 400
    assert "US er utenfor EØS" in response.content.decode()
    assert 'id="id_transfer_mechanism_error"' in response.content.decode()
    past = {**form, "transfer_mechanism": "scc", "scc_module": "2", "transfer_assessment": "Vurdert."}
    past["next_review"] = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = client.post("/en/staff/processors/new/", past)
    assert response.status_code == 400
    assert "The next review cannot be in the past." in response.content.decode()
    assert not Processor.objects.filter(key="mailer").exists()
    response = client.post("/staff/processors/new/", {**past, "next_review": form["next_review"]})
    assert response.status_code == 303
    created = Processor.objects.get(key="mailer")
    assert (created.status, created.scc_module) == ("active", 2)
    assert Entry.objects.filter(action="processor.create", object_id=str(created.pk)).exists()


def test_a_non_eea_processor_without_sccs_in_the_register_blocks_publishing(seeded, default_source):
    # The register keeps Mailer, in the US, without a transfer mechanism: it cannot be active there.
    processor_create(
        actor=Actor.cli(),
        data=mailer(status="draft", transfer_mechanism="none", scc_module=None, transfer_assessment=""),
        today=TODAY,
    )
    claims_sccs = default_source.replace("\nsharing:", "\n" + MAILER_YAML, 1)
    with pytest.raises(DeclarationInvalid) as caught:
        declaration_publish(source=claims_sccs, actor=Actor.cli())
    message = str(caught.value)
    assert "Mailer Inc. is not active in the processor register; it has no transfer mechanism for US" in message
    assert "the processor register records none as its transfer mechanism, the declaration scc" in message
    assert PolicyVersion.objects.count() == 1
    # A processor the register does not know at all is refused too.
    unknown = claims_sccs.replace("id: mailer", "id: sender")
    with pytest.raises(DeclarationInvalid, match=r"Mailer Inc. \(sender\) is not in the processor register"):
        declaration_publish(source=unknown, actor=Actor.cli())
    # Once the register has the SCCs and the processor is active, the same declaration is published.
    Processor.objects.filter(key="mailer").update(status="active", transfer_mechanism="scc", scc_module=2)
    assert declaration_publish(source=claims_sccs, actor=Actor.cli()).number == 2


def test_the_policy_sections_6_and_8_and_the_art_30_record_follow_the_register(client, seeded):
    def ropa() -> Any:
        out = io.StringIO()
        call_command("ropa", "--format", "json", "--language", "en", stdout=out)
        return json.loads(out.getvalue())

    before = client.get("/en/privacy/").content.decode()
    assert "Mailer Inc." not in before and "Hetzner Online GmbH, Germany and Finland" in before
    assert "Mailer Inc." not in json.dumps(ropa())

    processor_create(actor=Actor.cli(), data=mailer(), today=TODAY)

    page = client.get("/en/privacy/").content.decode()
    sharing = page.split('id="sharing"', 1)[1].split("</section>", 1)[0]
    transfers = page.split('id="transfers"', 1)[1].split("</section>", 1)[0]
    assert "Sending email (Mailer Inc., the United States); transfer basis:" in sharing
    assert "Mailer Inc. (the United States): the European Commission&#x27;s Standard Contractual Clauses" in transfers
    assert "module 2" in transfers
    assert 'href="/en/privacy/processing/"' in page
    record = ropa()
    enquiries = next(a for a in record["activities"] if a["id"] == "enquiries")
    analytics = next(a for a in record["activities"] if a["id"] == "analytics")
    assert "Mailer Inc. (Sending email, the United States)" in enquiries["recipients"]
    assert any(t.startswith("Mailer Inc.: US (") for t in enquiries["transfers"])
    assert not any("Mailer" in r for r in analytics["recipients"])  # it serves only the enquiries
    assert [p["name"] for p in record["processors"]] == ["Hetzner Online GmbH", "Mailer Inc."]


def test_the_register_exports_as_csv_and_json_for_admins_and_privacy_officers(client, personas, seeded):
    processor_create(actor=Actor.cli(), data=mailer(name="=HYPERLINK(1)"), today=TODAY)
    staff_login(client, personas.admin)
    response = client.get("/staff/processors/export.json")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('processors.json"')
    rows = json.loads(response.content)["processors"]
    assert [(r["key"], r["transfer_mechanism"], r["scc_module"]) for r in rows] == [
        ("mailer", "scc", 2),
        ("hetzner", "none", None),
    ]
    response = client.get("/staff/processors/export.csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["key"] for row in table] == ["mailer", "hetzner"]
    assert table[0]["name"] == "'=HYPERLINK(1)"  # a spreadsheet does not run it
    assert table[1]["countries"] == "DE, FI" and table[1]["agreement_date"] == "2026-11-29"
    assert Entry.objects.filter(action="processor.export").count() == 2
    # Administrators read; they cannot add.
    assert client.post("/staff/processors/new/", {}).status_code == 403


def test_an_announced_sub_processor_is_recorded_with_its_deadline_and_shown_publicly(client, seeded):
    with pytest.raises(ProcessorRefused) as caught:
        subprocessor_change_record(
            actor=Actor.cli(),
            processor=seeded,
            kind="added",
            name="Cloudy",
            service="Backups",
            countries=["US"],
            announced_on=TODAY,
            objection_deadline=TODAY + dt.timedelta(days=30),
        )
    assert caught.value.code == "countries"  # Hetzner has no transfer mechanism for a US sub-processor
    change = subprocessor_change_record(
        actor=Actor.cli(),
        processor=seeded,
        kind="added",
        name="Storage Oy",
        service="Backups",
        countries=["FI"],
        announced_on=TODAY,
        objection_deadline=TODAY + dt.timedelta(days=30),
    )
    assert SubProcessor.objects.get(processor=seeded).name == "Storage Oy"
    page = client.get("/en/privacy/processing/").content.decode()
    assert "Data processing at Kaukus AS" in page
    assert "Storage Oy: Backups (Finland)" in page
    assert "objections by 6 January 2027" in page
    assert "Last risk review: not yet reviewed." in page
    assert "encryption of data in transit" in page  # the declaration's security measures
    feed = client.get("/en/privacy/processing/changes.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "New sub-processor: Storage Oy (Hetzner Online GmbH)" in body
    assert f"#change-{change.pk}" in body
    policy = client.get("/en/privacy/").content.decode()
    assert "its sub-processors: Storage Oy (Finland)" in policy


def test_overdue_reviews_light_the_tile_and_mail_privacy_officers_once_a_day(personas, seeded):
    assert console_tiles(personas.sales) == []
    assert not console_tiles(personas.admin)[0].alert
    Processor.objects.filter(pk=seeded.pk).update(next_review=TODAY - dt.timedelta(days=1))
    with translation.override("en"):  # as an English-speaking officer's console shows it
        tile = console_tiles(personas.privacy_officer)[0]
        assert tile.alert and "1 processor review is overdue" in tile.text
    assert review_reminders_send(today=TODAY) == 1
    assert review_reminders_send(today=TODAY) == 0  # the job running again the same day sends nothing
    mails = OutboxMessage.objects.filter(kind="staff_processor_reviews")
    assert [m.to_address for m in mails] == ["pia@example.com"]
    assert "Hetzner Online GmbH" in mails[0].body_text
    assert review_reminders_send(today=TODAY + dt.timedelta(days=1)) == 1  # still overdue the next day


def test_a_refused_publication_reads_in_the_staff_members_language(
    client, personas, seeded, default_source, settings, tmp_path
):
    # The register keeps Mailer without a transfer mechanism; the draft also gives vern's session
    # cookie another lifetime (the consent app's check) and names a DPO without an address (Art. 13).
    processor_create(
        actor=Actor.cli(),
        data=mailer(status="draft", transfer_mechanism="none", scc_module=None, transfer_assessment=""),
        today=TODAY,
    )
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        default_source.replace("\nsharing:", "\n" + MAILER_YAML, 1)
        .replace("      duration: 8 hours\n", "      duration: 2 hours\n", 1)
        .replace("  email: support@kaukus.no\n", "  email: support@kaukus.no\n  dpo: {nb: Ola Vern, en: Ola Vern}\n", 1)
    )
    settings.VERN_DECLARATION, settings.VERN_DECLARATION_IN_FILE = draft, True
    staff_login(client, personas.privacy_officer)
    assert client.post("/staff/declaration/publish/", {"note": "try"}).status_code == 302
    assert PolicyVersion.objects.count() == 1

    norwegian = client.get("/staff/declaration/").content.decode()
    for text in (
        "Mailer Inc. er ikke aktiv i databehandlerregisteret; den har ikke noe overføringsgrunnlag for US",
        "databehandlerregisteret oppgir none som overføringsgrunnlag, erklæringen scc",
        "'vern_session' lever i 28800 sekunder, men erklæringen sier 2 hours (P13).",
        "Art. 13(1)(b) mangler: personvernombud, hvis det finnes (et personvernombud er oppgitt uten "
        "kontaktopplysninger)",
        "(linje ",
    ):
        assert text.replace("'", "&#x27;") in norwegian, text
    assert "processor register" not in norwegian and "is missing" not in norwegian
    english = client.get("/en/staff/declaration/").content.decode()
    assert "Mailer Inc. is not active in the processor register" in english
    assert "Art. 13(1)(b) is missing: data protection officer, if any (a DPO is named without contact" in english

    # The command line keeps English, whatever the language of the shell.
    with translation.override("nb"), pytest.raises(DeclarationInvalid) as caught:
        declaration_publish(source=draft.read_text(), actor=Actor.cli())
    assert "lives 28800 seconds, but the declaration says 2 hours (P13)" in str(caught.value)

    draft.unlink()  # a file that cannot be read says so in Norwegian too
    unreadable = client.get("/staff/declaration/").content.decode()
    assert "Filen kan ikke leses" in unreadable and f"kan ikke lese {draft}: No such file or directory" in unreadable
