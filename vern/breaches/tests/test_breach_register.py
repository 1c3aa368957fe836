"""The breach register in the console: bad input refused on its field, decisions, staged reports,
the export that follows Datatilsynet's form, and the notice to the people found in vern's data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.breaches import export, services
from vern.breaches.models import Breach, Report
from vern.mail import emails
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[3] / "docs" / "security-registers.md"


def _breach(personas, hours_ago: float = 2) -> Breach:
    return services.breach_open(
        staff=personas.privacy_officer,
        data={
            "title": "Enquiries sent to the wrong customer",
            "aware_at": timezone.now() - dt.timedelta(hours=hours_ago),
            "nature": ["confidentiality"],
            "categories": ["contact_details", "enquiry_content"],
            "data_subjects": ["enquirers"],
            "people_approx": 40,
            "records_approx": 55,
            "description": "A list of enquiries was mailed to the wrong customer.",
            "consequences": "Others may know that you contacted us.",
            "measures_taken": "The customer deleted the list and confirmed it in writing.",
            "advice": "Be wary of mail that claims to come from us.",
        },
    )


def test_a_breach_aware_of_in_the_future_is_refused_on_its_field_in_norwegian(client, personas, published):
    staff_login(client, personas.privacy_officer)
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/staff/breaches/new/", {"title": "Stjålet PC", "aware_at": later, "nature": ["confidentiality"]}
    )
    assert response.status_code == 400
    field = response.context["form"]["aware_at"]
    assert field.errors == ["Tidspunktet vi ble kjent med et brudd kan ikke ligge i fremtiden."]
    assert Breach.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_an_edit_of_a_closed_breach_is_refused_and_changes_nothing(client, personas, published):
    pia = personas.privacy_officer
    breach = services.breach_decide(
        staff=pia, breach=_breach(personas), authority="not_notify", people="not_notify", reasons="Kryptert."
    )
    services.breach_close(staff=pia, breach=breach)
    staff_login(client, pia)
    aware = timezone.localtime(breach.aware_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/staff/breaches/{breach.pk}/edit/", {"title": "Noe annet", "aware_at": aware, "nature": ["integrity"]}
    )
    assert response.status_code == 400
    assert "Dette bruddet er lukket og kan ikke lenger endres." in response.content.decode()
    breach.refresh_from_db()
    assert breach.title == "Enquiries sent to the wrong customer" and breach.nature == ["confidentiality"]
    assert not Entry.objects.filter(action="breach.change").exists()


def test_an_administrator_reads_the_register_but_cannot_change_it(client, personas, published):
    breach = _breach(personas)
    staff_login(client, personas.admin)
    page = client.get(f"/staff/breaches/{breach.pk}/").content.decode()
    assert breach.title in page and "Registrer beslutningen" not in page
    assert client.post(f"/staff/breaches/{breach.pk}/edit/", {"title": "x"}).status_code == 403


def test_a_decision_after_72_hours_to_notify_needs_the_reason_for_the_delay(personas, published):
    pia = personas.privacy_officer
    breach = _breach(personas, hours_ago=80)
    with pytest.raises(services.Refused) as refused:
        services.breach_decide(staff=pia, breach=breach, authority="notify", people="notify", reasons="Risiko.")
    assert refused.value.field == "delay_reason"
    decided = services.breach_decide(
        staff=pia,
        breach=breach,
        authority="notify",
        people="notify",
        reasons="Risiko for svindel.",
        delay_reason="Omfanget var uklart til leverandøren svarte.",
    )
    assert decided.decided_by == pia and decided.delay_reason.startswith("Omfanget")


def test_reports_come_in_stages_initial_first_and_nothing_after_the_final(personas, published):
    pia = personas.privacy_officer
    breach = services.breach_decide(
        staff=pia, breach=_breach(personas), authority="notify", people="not_notify", reasons="Risiko."
    )
    now = timezone.now()
    with pytest.raises(services.Refused, match="initial_first"):
        services.breach_report(staff=pia, breach=breach, stage="follow_up", submitted_at=now)
    services.breach_report(staff=pia, breach=breach, stage="initial", submitted_at=now, reference="23/01234")
    services.breach_report(staff=pia, breach=breach, stage="follow_up", submitted_at=now)
    final = services.breach_report(staff=pia, breach=breach, stage="final", submitted_at=now)
    with pytest.raises(services.Refused, match="after_final"):
        services.breach_report(staff=pia, breach=breach, stage="follow_up", submitted_at=now)
    assert [r.stage for r in Report.objects.filter(breach=breach)] == ["initial", "follow_up", "final"]
    assert final.snapshot["notification_type"] == "Endelig melding"
    assert final.snapshot["people_approx"] == 40


def test_the_export_has_every_field_of_datatilsynets_form_as_the_docs_list_them(client, personas, published):
    documented = re.findall(r"^\| `(\w+)` \|", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    keys = [key for key, _label in export.FORM_FIELDS]
    assert documented == keys and len(keys) >= 25
    breach = _breach(personas)
    staff_login(client, personas.admin)
    record = client.get(f"/staff/breaches/{breach.pk}/form.json").json()
    assert list(record) == keys
    assert record["data_categories"] == ["Kontaktinformasjon", "Innholdet i henvendelsen"]
    assert record["controller_name"] == "Kaukus AS" and record["aware_at"]
    rows = list(csv.reader(io.StringIO(client.get(f"/staff/breaches/{breach.pk}/form.csv").content.decode())))
    assert len(rows) == len(keys) + 1
    assert ["Omtrentlig antall berørte personer", "40"] in rows
    assert Entry.objects.filter(action="register.export").count() == 2


def test_the_notice_goes_through_the_outbox_to_the_people_found_in_the_registry_once(client, personas, published):
    pia = personas.privacy_officer
    # Kari is in vern's data: a mail sent to her, in English, is kept in the outbox (the registry finds it).
    emails.policy_changed(to="kari@example.no", language="en", date="1 December 2026", note="", link="https://x.test/")
    breach = services.breach_decide(
        staff=pia, breach=_breach(personas), authority="notify", people="notify", reasons="Høy risiko."
    )
    assert export.breach_record(breach, "nb")["people_informed"] == "Ikke ennå; de skal varsles"
    staff_login(client, pia)
    response = client.post(f"/staff/breaches/{breach.pk}/notice/", {"addresses": "Kari@example.no\nukjent@example.no"})
    assert response.status_code == 303
    [notice] = OutboxMessage.objects.filter(kind="breach_notice")  # Kari only: the other address is no one vern knows
    assert notice.to_address == "kari@example.no" and notice.language == "en"
    assert "wrong customer" in notice.body_text and "Be wary" in notice.body_text
    again = client.post(f"/staff/breaches/{breach.pk}/notice/", {"addresses": "kari@example.no"})
    assert again.status_code == 400 and OutboxMessage.objects.filter(kind="breach_notice").count() == 1
    breach.refresh_from_db()
    assert breach.notice_count == 1 and breach.notice_sent_at is not None
    assert export.breach_record(breach, "nb")["people_informed"] == "Ja"


def test_the_breach_register_is_in_the_record_of_processing(personas, published):
    from vern.declaration import ropa
    from vern.declaration.selectors import published_declaration

    breach = _breach(personas)
    declaration = published_declaration()
    assert declaration is not None
    record = ropa.build(declaration, "en")
    [breaches] = [r for r in record["registers"] if r["key"] == "breaches"]
    assert list(breaches["rows"][0].values())[:2] == [breach.reference, breach.title]
    assert breach.reference in ropa.as_markdown(record, "en")
