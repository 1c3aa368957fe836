"""The access and portability packages, and the single-use links they are fetched by (P15, R14, R18)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import secrets
import zipfile
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # tests only; its stubs are not worth a dependency
import pytest
import time_machine
from django.apps import apps
from django.db import connection, models
from django.test import RequestFactory
from django.utils import timezone

from vern.analytics.models import Hit
from vern.audit.models import Entry as AuditEntry
from vern.audit.services import Actor
from vern.enquiries import services as enquiries
from vern.enquiries.models import ContactLog, Enquiry
from vern.lib import partitions
from vern.lib.keys import email_index, phone_index
from vern.mail.models import OutboxMessage
from vern.registry.entries import entries
from vern.registry.selectors import records_of
from vern.rights.models import Download, Event, Request
from vern.rights.packages.contents import ACCESS_KEYS
from vern.rights.packages.rendering import access_package, portability_package
from vern.rights.portability_schema import PORTABILITY_SCHEMA
from vern.rights.services import downloads, steps, tokens
from vern.rights.services.downloads import DOWNLOAD_HOURS, download_offer, download_open
from vern.rights.views import portability_schema
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db

KARI = {"email": "kari.nordmann@example.no", "phone": "+4791234567", "name": "Kari Nordmann"}
PER = {"email": "per.hansen@example.com", "phone": "+4741234567", "name": "Per Hansen"}
MESSAGE = (
    "Ring meg på 912 34 567 eller skriv til Kari.Nordmann@Example.no. "
    "Kopi til kollegaen min per.hansen@example.com, tlf. 41 23 45 67. Org.nr. 922 140 251."
)


def enquire(person: dict[str, str], *, kind: str = "contact", message: str = "Hva koster det?") -> Enquiry:
    intake = enquiries.Intake(
        name=person["name"],
        email=person["email"],
        phone=person["phone"],
        organisation="Bergen kommune",
        message=message,
        preferred_date=timezone.localdate() + dt.timedelta(days=14) if kind == "demo" else None,
        preferred_time="morning" if kind == "demo" else "",
    )
    return enquiries.enquiry_submit(
        kind=kind,
        channel="form",
        intake=intake,
        language="nb",
        submission_key=secrets.token_hex(16),
        network="203.0.113.0",
    ).enquiry


def consented() -> str:
    """The consent id of a visitor who accepted every cookie."""
    return cookie_choice().event.consent_id


def page_view(consent_id: str, path: str = "/priser/") -> Hit:
    at = timezone.now()
    partitions.ensure_partitions(Hit, [at.astimezone(dt.UTC).date()])  # PostgreSQL keeps hits in day partitions
    return Hit.objects.create(
        at=at, kind=Hit.Kind.PAGEVIEW, visitor="a" * 32, consent_id=consent_id, path=path, ip="203.0.113.0"
    )


def access_request(
    person: dict[str, str], *, language: str = "nb", consent_id: str = "", phone: bool = False, **fields: Any
) -> Request:
    """A request confirmed through its link (made here without the mail it would need)."""
    now = timezone.now()
    return Request.objects.create(
        rights=fields.pop("rights", ["access", "portability"]),
        channel=Request.Channel.FORM,
        status=Request.Status.CONFIRMED,
        language=language,
        email=person["email"],
        email_index=email_index(person["email"]),
        phone=person["phone"] if phone else "",
        phone_index=phone_index(person["phone"]) if phone else "",
        consent_id=consent_id,
        received_at=now,
        verified_at=now,
        due_on=(now + dt.timedelta(days=30)).date(),
        **fields,
    )


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def block(data: dict[str, Any], label: str) -> dict[str, Any]:
    return next(b for b in data["records"] if b["model"] == label)


@pytest.fixture
def kari(published, personas):
    """Kari sent an enquiry (naming a colleague), staff logged a call and opened it, and she chose cookies."""
    enquiry = enquire(KARI, message=MESSAGE)
    enquiries.enquiry_log_contact(
        staff=personas.sales,
        enquiry=enquiry,
        kind=ContactLog.Kind.PHONE,
        happened_at=timezone.now(),
        note='=HYPERLINK("https://example.com/x","Ringte tilbake")',
    )
    enquiries.enquiry_viewed(staff=personas.sales, enquiry=enquiry)
    consent_id = consented()
    page_view(consent_id)
    request = access_request(KARI, consent_id=consent_id)
    # Someone else, with their own enquiry and visit, must not show up.
    enquire(PER, message="Per spør om noe helt annet.")
    page_view(consented(), path="/per-sin-side/")
    return request


def test_P15_access_package_holds_every_registered_record_and_the_1c_information(kari):
    files = unzip(access_package(kari))
    data = json.loads(files["data.json"])
    assert tuple(data) == ACCESS_KEYS
    # Every registered model the person's keys reach was searched, and every row found is in the copy.
    keys = {"email": KARI["email"], "consent_id": kari.consent_id}
    assert data["confirmation"]["searched"] == [
        e.label for e in entries() if {"email", "consent_id"} & set(e.identifiers)
    ]
    for found in records_of(**keys):
        count = found.records.count()
        rows = block(data, found.entry.label)["rows"] if count else []
        assert len(rows) == count, found.entry.label
    labels = [b["model"] for b in data["records"]]
    for label in ("enquiries.Enquiry", "enquiries.ContactLog", "consent.ConsentEvent", "analytics.Hit"):
        assert label in labels
    assert labels.index("enquiries.ContactLog") == labels.index("enquiries.Enquiry") + 1  # a part follows its parent
    enquiry = block(data, "enquiries.Enquiry")["rows"][0]
    assert enquiry["kind"] == "contact" and enquiry["kind_label"] == "Henvendelse"
    assert enquiry["received_at"].endswith("+00:00")
    assert dt.datetime.fromisoformat(enquiry["received_at"]).tzinfo is not None
    contact = block(data, "enquiries.ContactLog")["rows"][0]
    assert contact["of"] == enquiry["id"]
    consent = block(data, "consent.ConsentEvent")["rows"][0]
    assert consent["consent_id"] == kari.consent_id and consent["action"] == "accept_all"

    confirmation = data["confirmation"]
    assert confirmation["processed"] is True and confirmation["reference"] == f"R-{kari.pk}"
    assert confirmation["controller"]["name"] == "Kaukus AS"
    purposes = {p["id"]: p for p in data["purposes"]}
    assert {"enquiries", "analytics", "privacy_compliance", "operations"} <= set(purposes)
    assert purposes["enquiries"]["legal_bases"] == ["f", "b"] and purposes["enquiries"]["legitimate_interest"]
    assert {c["id"] for c in data["categories"]} >= {"contact_details", "enquiry_content", "consent_records"}
    assert data["recipients"][0]["name"] == "Hetzner Online GmbH"
    assert data["recipients"][0]["location"] == "Tyskland og Finland"
    assert any(rule["text"].startswith("Henvendelser via skjema eller e-post:") for rule in data["retention"])
    assert {s["purpose"] for s in data["source"]} == set(purposes)
    assert all(s["text"] for s in data["source"])
    assert [r["id"] for r in data["rights"]["rights"]] == [
        "access",
        "rectification",
        "erasure",
        "restriction",
        "portability",
        "objection",
        "withdraw_consent",
    ]
    assert data["complaint"]["authority"] == "Datatilsynet" and data["complaint"]["text"]
    assert data["automated_decisions"]["used"] is False and data["automated_decisions"]["text"]
    assert data["transfers"]["statement"] and data["transfers"]["safeguards"]
    # The audit rows about her: who (a kind, never a name) did what, when and why (R22).
    viewed = next(row for row in data["audit"] if row["action"] == "enquiry.viewed")
    assert viewed["actor"] == "staff" and viewed["purpose"] == "enquiries" and viewed["at"]
    assert "Sam Salg" not in files["data.json"] and "sam@example.com" not in files["data.json"]
    # One CSV per block, and the page.
    for b in data["records"]:
        assert f"records/{b['model'].lower()}.csv" in files
    assert "<html" in files["index.html"]


def test_other_peoples_email_and_phone_in_a_message_are_masked_but_the_persons_own_are_not(kari):
    data = json.loads(unzip(access_package(kari))["data.json"])
    message = block(data, "enquiries.Enquiry")["rows"][0]["message"]
    assert message == (
        "Ring meg på 912 34 567 eller skriv til Kari.Nordmann@Example.no. "
        "Kopi til kollegaen min [masked], tlf. [masked]. Org.nr. 922 140 251."
    )
    enquiry = block(data, "enquiries.Enquiry")["rows"][0]
    assert enquiry["email"] == KARI["email"] and enquiry["phone"] == KARI["phone"]
    # The mail to sales about her names a colleague's address: masked. The company's own is nobody's.
    mails = {row["kind"]: row for row in block(data, "mail.OutboxMessage")["rows"]}
    assert mails["enquiry_notification"]["to_address"] == "[masked]"
    assert mails["enquiry_received"]["to_address"] == KARI["email"]
    assert "support@kaukus.no" in mails["enquiry_received"]["body_text"]


def test_a_phone_is_the_persons_own_when_it_is_on_their_own_enquiry(published):
    """She asked without giving a phone; the one on her enquiry is hers all the same."""
    enquire(KARI, message="Ring meg på +47 912 34 567.")
    data = json.loads(unzip(access_package(access_request(KARI)))["data.json"])
    assert block(data, "enquiries.Enquiry")["rows"][0]["message"] == "Ring meg på +47 912 34 567."


def test_records_found_only_by_phone_are_in_the_package_once_staff_have_verified_the_phone(published, personas):
    enquiries.enquiry_register(
        staff=personas.sales,
        kind="contact",
        channel="phone",
        received_at=timezone.now(),
        intake=enquiries.Intake(
            name="Kari N.", email="", phone=KARI["phone"], organisation="Bergen kommune", message="Ring 912 34 567"
        ),
        language="nb",
        acknowledge=False,
    )
    request = access_request(KARI, phone=True)
    data = json.loads(unzip(access_package(request))["data.json"])
    assert "enquiries.Enquiry" not in [b["model"] for b in data["records"]]
    request.phone_verified = True
    request.save(update_fields=["phone_verified"])
    data = json.loads(unzip(access_package(request))["data.json"])
    assert block(data, "enquiries.Enquiry")["rows"][0]["message"] == "Ring 912 34 567"
    assert data["confirmation"]["found_by"] == ["email", "phone"]


def test_another_persons_records_are_not_in_the_package(kari):
    files = unzip(access_package(kari))
    everything = "\n".join(files.values())
    assert PER["email"] not in everything and "Per Hansen" not in everything
    assert "Per spør" not in everything and "/per-sin-side/" not in everything
    data = json.loads(files["data.json"])
    assert len(block(data, "enquiries.Enquiry")["rows"]) == 1
    assert len(block(data, "analytics.Hit")["rows"]) == 1


def test_csv_cells_that_look_like_formulas_are_quoted(kari):
    files = unzip(access_package(kari))
    rows = list(csv.DictReader(io.StringIO(files["records/enquiries.contactlog.csv"])))
    assert rows[0]["note"] == """'=HYPERLINK("https://example.com/x","Ringte tilbake")"""
    header = next(csv.reader(io.StringIO(files["records/enquiries.enquiry.csv"])))
    assert header[:4] == ["id", "kind", "kind_label", "channel"]


@pytest.mark.parametrize(
    "language,expected,other",
    [
        ("nb", ['<html lang="nb">', "Dine rettigheter", "Besvare henvendelser", "Mottakere"], "Your rights"),
        ("en", ['<html lang="en">', "Your rights", "Responding to enquiries", "Recipients"], "Dine rettigheter"),
    ],
)
def test_the_readable_page_is_in_the_requests_language(kari, language, expected, other):
    kari.language = language
    kari.save(update_fields=["language"])
    page = unzip(access_package(kari))["index.html"]
    for text in expected:
        assert text in page
    assert other not in page
    assert "[masked]" in page and "Kari.Nordmann@Example.no" in page
    assert "per.hansen@example.com" not in page


@pytest.mark.parametrize(
    "language,titles",
    [
        (
            "nb",
            {
                "enquiries.Enquiry": "Henvendelser",
                "enquiries.ContactLog": "Kontaktlogg",
                "analytics.Hit": "Sidevisninger",
            },
        ),
        (
            "en",
            {"enquiries.Enquiry": "Enquiries", "enquiries.ContactLog": "Contact log", "analytics.Hit": "Page views"},
        ),
    ],
)
def test_each_block_is_titled_by_its_models_own_name_in_the_requests_language(kari, language, titles):
    kari.language = language
    kari.save(update_fields=["language"])
    files = unzip(access_package(kari))
    data = json.loads(files["data.json"])
    for label, title in titles.items():
        assert block(data, label)["title"] == title
        assert f">{title}<" in files["index.html"]


def validate(instance: Any, schema: dict[str, Any]) -> list[str]:
    """Every way ``instance`` breaks the JSON Schema (draft 2020-12, with formats checked)."""
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return sorted(
        f"{'.'.join(map(str, error.absolute_path)) or '$'}: {error.message}"
        for error in validator.iter_errors(instance)
    )


def test_the_portability_schema_is_valid_and_refuses_what_it_forbids():
    jsonschema.Draft202012Validator.check_schema(PORTABILITY_SCHEMA)
    assert validate({"format": "vern.portability"}, PORTABILITY_SCHEMA)
    assert validate([{"rows": [True]}], PORTABILITY_SCHEMA["properties"]["records"])


def test_portability_validates_against_the_schema_and_leaves_out_enquiries_on_legitimate_interest(kari):
    enquire(KARI, kind="demo", message="Vi vil se møteplanleggingen.")
    files = unzip(portability_package(kari))
    data = json.loads(files["portability.json"])
    assert validate(data, PORTABILITY_SCHEMA) == []
    assert [b["model"] for b in data["records"]] == ["enquiries.Enquiry"]
    enquiries_block = data["records"][0]
    assert enquiries_block["bases"] == ["b"]
    assert [row["kind"] for row in enquiries_block["rows"]] == ["demo"]  # the contact enquiry rests on (f)
    assert enquiries_block["rows"][0]["message"] == "Vi vil se møteplanleggingen."
    assert "status" not in enquiries_block["fields"] and "legal_basis" not in enquiries_block["fields"]
    assert "ContactLog" not in files["portability.json"] and "HYPERLINK" not in files["portability.json"]
    rows = list(csv.DictReader(io.StringIO(files["records/enquiries.enquiry.csv"])))
    assert [row["kind"] for row in rows] == ["demo"] and rows[0]["email"] == KARI["email"]


def test_the_portability_schema_is_published_as_json_schema():
    response = portability_schema(RequestFactory().get("/privacy/requests/schema/portability.json"))
    assert response.status_code == 200 and response["Content-Type"] == "application/schema+json"
    schema = json.loads(response.content)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "http://testserver/privacy/requests/schema/portability.json"
    assert schema["properties"] == PORTABILITY_SCHEMA["properties"]


# ------------------------------------------------------------------ download links


def offer(request: Request, kind: str = "access") -> tuple[Download, str]:
    """Offer the package and read the link from the mail, as the person would."""
    download = download_offer(request, kind=kind, actor=Actor.visitor(), staff=None)
    mail = OutboxMessage.objects.filter(kind="rights_download_ready").latest("pk")
    marker = "/privacy/requests/download/"
    token = mail.body_text.split(marker, 1)[1].split("/", 1)[0]
    return download, token


def test_an_offer_mails_a_link_records_the_step_and_marks_the_right_done(kari):
    download, token = offer(kari)
    assert download.expires_at - download.created_at == dt.timedelta(hours=DOWNLOAD_HOURS) == dt.timedelta(days=7)
    assert download.token_hash == tokens.token_hash(token)
    mail = OutboxMessage.objects.get(kind="rights_download_ready")
    assert mail.to_address == KARI["email"]
    assert "Kari" not in mail.body_text and "Bergen" not in mail.body_text  # the mail only says it is ready
    kari.refresh_from_db()
    assert kari.done == ["access"]
    # Carrying out a right puts the confirmed request in progress, by itself.
    assert list(Event.objects.filter(request=kari).values_list("kind", flat=True)) == [
        "download_offered",
        "done_access",
        "started",
    ]
    assert AuditEntry.objects.filter(action="rights.fulfilled", subject_key=kari.email_index).exists()


def test_a_download_link_works_once(kari):
    download, token = offer(kari)
    opened, content, filename = download_open(token)
    assert opened.pk == download.pk and opened.downloaded_at is not None
    assert filename == f"kaukus-access-R-{kari.pk}.zip"
    assert "data.json" in unzip(content)
    with pytest.raises(steps.RequestRefused) as refused:
        download_open(token)
    assert refused.value.code == "used"
    audit = AuditEntry.objects.get(action="rights.downloaded")
    assert audit.subject_key == kari.email_index and audit.data == {"package": "access", "download": download.pk}
    assert Event.objects.filter(request=kari, kind="downloaded").count() == 1


def test_a_portability_link_gives_the_portability_package(kari):
    _, token = offer(kari, "portability")
    _, content, filename = download_open(token)
    assert filename == f"kaukus-portability-R-{kari.pk}.zip"
    assert "portability.json" in unzip(content)


def test_a_download_link_expires_after_seven_days(kari):
    _, token = offer(kari)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=DOWNLOAD_HOURS, seconds=1)):
        with pytest.raises(steps.RequestRefused) as refused:
            download_open(token)
    assert refused.value.code == "expired"
    assert Download.objects.get().downloaded_at is None


@pytest.mark.parametrize("token", ["", "x" * 101, "forged-token-that-was-never-issued"])
def test_a_forged_download_link_is_refused(kari, token):
    offer(kari)
    with pytest.raises(steps.RequestRefused) as refused:
        download_open(token)
    assert refused.value.code == "invalid"


def test_a_package_that_cannot_be_built_leaves_the_link_unused(kari, monkeypatch):
    _, token = offer(kari)
    monkeypatch.setitem(downloads.BUILDERS, "access", lambda request: 1 / 0)  # a bug in the builder
    with pytest.raises(ZeroDivisionError):
        download_open(token)
    assert Download.objects.get().downloaded_at is None
    assert not AuditEntry.objects.filter(action="rights.downloaded").exists()


def test_the_download_token_is_stored_only_hashed(kari):
    _, token = offer(kari)
    download_open(token)
    for model in apps.get_models():
        text_columns = [
            f.column for f in model._meta.concrete_fields if isinstance(f, models.CharField | models.TextField)
        ]
        if not text_columns:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        where = " OR ".join(f"{connection.ops.quote_name(column)} LIKE %s" for column in text_columns)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", [f"%{token}%"] * len(text_columns))  # noqa: S608
            assert cursor.fetchone()[0] == 0, model._meta.label


def test_after_erasure_the_package_simply_holds_less(kari):
    _, token = offer(kari)
    Enquiry.objects.filter(email_index=kari.email_index).delete()
    _, content, _ = download_open(token)
    data = json.loads(unzip(content)["data.json"])
    assert "enquiries.Enquiry" not in [b["model"] for b in data["records"]]
    assert "rights.Request" in [b["model"] for b in data["records"]]
