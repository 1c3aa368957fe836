# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""An SQL connector in a rights request: møteadm's user database, on MariaDB and on PostgreSQL.

Kari has a møteadm account and two sign-ins; Ola has an account too and keeps it. Kari asks for a
copy of her data and then for erasure: the copy holds her møteadm rows, the erasure's preview
counts (dry run) what it will change, and the erasure blanks her account and deletes her sign-ins
as declared, leaving Ola alone.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.services import Actor
from vern.connectors.models import Health
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.declaration.loading import DeclarationInvalid
from vern.rights.models import Request
from vern.rights.packages.rendering import access_package, portability_package
from vern.rights.services import intake, workflow
from vern.rights.services.erasure import erasure_carry_out, erasure_preview
from vern.rights.services.steps import RequestRefused

pytestmark = pytest.mark.django_db
KARI = "Kari.Nordmann@Example.no"
OLA = "ola.hansen@example.no"
RECENT = "2026-12-01 08:00:00"


@pytest.fixture(params=["mysql", "postgresql"])
def dialect(request, moeteadm_databases, monkeypatch) -> str:
    url = systems.mariadb_url() if request.param == "mysql" else systems.postgres_url()
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", url)
    systems.reset(
        request.param,
        people=[
            ("kari.nordmann@example.no", "Kari Nordmann", "+4741526374", "pro"),
            (OLA, "Ola Hansen", "+4793456781", "free"),
        ],
        logins=[
            ("kari.nordmann@example.no", RECENT, "203.0.113.7"),
            ("kari.nordmann@example.no", "2026-12-02 09:30:00", "203.0.113.8"),
            (OLA, RECENT, "198.51.100.4"),
        ],
    )
    return str(request.param)


def registered(staff, rights: list[str], email: str = KARI) -> Request:
    return intake.request_register(
        staff=staff,
        rights=rights,
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email=email,
        phone="",
        details="",
        identity_checked=True,
    )


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_kari_gets_her_moeteadm_rows_and_her_erasure_blanks_and_deletes_them_as_declared(
    dialect, publish, personas, client
):
    publish(systems.CONNECTOR_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])  # open, so the copy is made on demand below

    files = unzip(access_package(asked))
    data = json.loads(files["data.json"])
    blocks = {block["model"]: block for block in data["records"]}
    assert blocks["moeteadm.users"]["rows"] == [
        {
            "name": "Kari Nordmann",
            "email": "kari.nordmann@example.no",
            "phone": "+4741526374",
            "plan": "pro",
            "created_at": "2026-01-05T10:00:00+00:00",
        }
    ]
    assert [row["ip"] for row in blocks["moeteadm.logins"]["rows"]] == ["203.0.113.7", "203.0.113.8"]
    assert blocks["moeteadm.users"]["purpose"] == "operations"
    assert "Ola" not in files["data.json"] and "198.51.100.4" not in files["data.json"]
    assert "records/moeteadm.users.csv" in files and "Brukere i møteadm" in files["index.html"]
    portable = json.loads(unzip(portability_package(asked))["portability.json"])
    assert "moeteadm.users" in [block["model"] for block in portable["records"]]
    assert "moeteadm.logins" not in [block["model"] for block in portable["records"]]

    preview = erasure_preview(asked)  # the dry run: counts, and nothing changed yet
    lines = {line.label: line for line in preview.lines}
    assert (lines["moeteadm.users"].count, lines["moeteadm.users"].action) == (1, "anonymise")
    assert lines["moeteadm.users"].fields == ("name", "email", "phone")
    assert (lines["moeteadm.logins"].count, lines["moeteadm.logins"].action) == (2, "delete")
    assert systems.rows(dialect, "SELECT COUNT(*) FROM logins")[0][0] == 3
    staff_login(client, pia)  # the officer sees the dry run's counts before confirming
    shown = client.get(reverse("rights_staff:erasure", kwargs={"pk": asked.pk})).content.decode()
    assert re.search(r"Innlogginger i møteadm</td>.*?<strong>2</strong>", shown, re.S)
    assert re.search(r"Brukere i møteadm</td>.*?<strong>1</strong>", shown, re.S)

    receipt = erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    assert receipt.deleted["moeteadm.logins"] == 2 and receipt.anonymised["moeteadm.users"] == 1
    assert systems.rows(dialect, "SELECT email, name, phone, plan FROM users ORDER BY id") == [
        (None, None, None, "pro"),
        (OLA, "Ola Hansen", "+4793456781", "free"),
    ]
    assert systems.rows(dialect, "SELECT email FROM logins") == [(OLA,)]
    # Run again (a resumed erasure): nothing more to change, and the request can be closed.
    assert erasure_preview(asked).count("moeteadm.users") == 0
    closed = workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert closed.status == Request.Status.ANSWERED
    assert Health.objects.get(connector="moeteadm").last_success_at is not None


def test_a_declared_column_that_does_not_exist_is_refused_before_anything_is_erased(
    moeteadm_databases, publish, personas, monkeypatch, client
):
    systems.reset("mysql", people=[("kari.nordmann@example.no", "Kari Nordmann", "", "pro")], logins=[])
    wrong = systems.CONNECTOR_YAML.replace("export: [name, email, phone, plan, created_at]", "export: [name, nickname]")
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.mariadb_url())
    with pytest.raises(DeclarationInvalid) as refused:  # the declaration check reaches the database
        publish(wrong)
    assert "moeteadm: column users.nickname does not exist" in str(refused.value)

    monkeypatch.delenv("VERN_TEST_MOETEADM_URL")  # published while not configured, then configured
    publish(wrong)
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.mariadb_url())
    out = StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("connectors", "check", stdout=out)
    assert exit_status.value.code == 1
    assert out.getvalue() == "moeteadm: FAILED: column users.nickname does not exist\n"

    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])
    failed = [line for line in erasure_preview(asked).lines if line.label == "moeteadm"]
    assert failed[0].action == "failed" and "users.nickname does not exist" in failed[0].note
    erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    assert systems.rows("mysql", "SELECT name FROM users") == [("Kari Nordmann",)]  # nothing touched
    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert "møteadm feiler: " in str(blocked.value) and "users.nickname does not exist" in str(blocked.value)
    staff_login(client, pia)  # the reason is on the request's page
    shown = client.get(reverse("rights_staff:detail", kwargs={"pk": asked.pk})).content.decode()
    assert "Denne forespørselen kan ikke avsluttes som fullført ennå:" in shown
    assert "møteadm feiler: " in shown and "users.nickname does not exist" in shown
    copy = registered(pia, ["access"])  # a copy would miss møteadm's rows: staff close it once it works
    assert copy.status == Request.Status.IN_PROGRESS and "access" in copy.done


def test_the_retention_sweep_deletes_old_sign_ins_but_spares_a_person_with_an_open_request(
    moeteadm_databases, publish, personas, monkeypatch
):
    from vern.registry.surface import external_sweep

    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.postgres_url())
    systems.reset(
        "postgresql",
        people=[],
        logins=[
            ("kari.nordmann@example.no", "2026-09-01 08:00:00+00", "203.0.113.7"),
            (OLA, "2026-09-01 08:00:00+00", "198.51.100.4"),
            (OLA, "2026-12-01 08:00:00+00", "198.51.100.5"),
        ],
    )
    publish(systems.CONNECTOR_YAML)
    registered(personas.privacy_officer, ["erasure"])  # Kari's open request holds her data
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    assert external_sweep(now, dry_run=True) == {"moeteadm.logins": 1}
    assert systems.rows("postgresql", "SELECT COUNT(*) FROM logins")[0][0] == 3
    assert external_sweep(now, dry_run=False) == {"moeteadm.logins": 1}
    assert systems.rows("postgresql", "SELECT email, ip FROM logins ORDER BY ip") == [
        (OLA, "198.51.100.5"),
        ("kari.nordmann@example.no", "203.0.113.7"),
    ]


def test_the_default_declarations_moeteadm_is_not_configured_until_its_url_is_set(
    moeteadm_databases, published, monkeypatch, tmp_path
):
    monkeypatch.delenv("MOETEADM_DATABASE_URL", raising=False)
    out = StringIO()
    call_command("connectors", "check", stdout=out)
    assert out.getvalue() == "moeteadm: not configured (MOETEADM_DATABASE_URL is not set)\n"

    with systems.moeteadm("mysql") as connection:  # møteadm's users, as the default declaration assumes
        cursor = connection.cursor()
        cursor.execute("DROP TABLE IF EXISTS users")
        cursor.execute(
            "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(200) NULL, email VARCHAR(254) NULL, "
            "created_at DATETIME NOT NULL, last_login_at DATETIME NULL)"
        )
    url_file = tmp_path / "moeteadm-url"  # the URL from a file, as a Docker secret gives it
    url_file.write_text(systems.mariadb_url() + "\n", encoding="utf-8")
    monkeypatch.setenv("MOETEADM_DATABASE_URL_FILE", str(url_file))
    out = StringIO()
    call_command("connectors", "check", stdout=out)
    assert out.getvalue() == "moeteadm: ok (sql)\n"
