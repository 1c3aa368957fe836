# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""Rectification (Art. 16) reaches the company's other systems, as the declaration allows.

Kari's name is misspelt in møteadm (MariaDB, PostgreSQL). The declaration lets the officer correct
the name and phone of møteadm's users, nothing else. The officer corrects it from the request's
rectification page: her row changes, in one transaction checked by its count, and Ola's does not; a
column not declared is refused; a count that changed since the officer looked rolls everything back,
shows why on the request and keeps it from being closed as complete. A webhook corrects through
the job queue; a processor without an API gets a task by mail, answered through its link.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from vern.accounts.testing import staff_login
from vern.connectors import sql
from vern.connectors.config import ConnectorFailed
from vern.connectors.models import Correction, ManualTask
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.declaration.loading import DeclarationInvalid
from vern.declaration.selectors import published_declaration
from vern.mail.services import outbox_deliver_due
from vern.registry.surface import Person, request_notes
from vern.rights.models import Request
from vern.rights.services import workflow
from vern.rights.services.rectification import rectify_elsewhere
from vern.rights.services.steps import RequestRefused
from vern.tests.test_connectors_sql import OLA, registered
from vern.tests.test_connectors_webhook_and_tasks import KARI, TASK_YAML, WEBHOOK_YAML, run_webhook_erasures
from vern.tests.test_connectors_webhook_and_tasks import webhook as webhook

pytestmark = pytest.mark.django_db
RECTIFIABLE_YAML = systems.CONNECTOR_YAML.replace(
    "        portable: true\n", "        portable: true\n        rectify: [name, phone]\n"
)


@pytest.fixture(params=["mysql", "postgresql"])
def dialect(request, moeteadm_databases, monkeypatch) -> str:
    url = systems.mariadb_url() if request.param == "mysql" else systems.postgres_url()
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", url)
    systems.reset(
        request.param,
        people=[(KARI, "Kari Nordman", "+4741526374", "pro"), (OLA, "Ola Hansen", "+4793456781", "free")],
        logins=[],
    )
    return str(request.param)


def users(dialect: str) -> list[tuple[object, ...]]:
    return systems.rows(dialect, "SELECT email, name, phone, plan FROM users ORDER BY id")


def test_the_officer_corrects_karis_name_in_moeteadm_from_the_request_and_olas_row_stays(
    dialect, publish, personas, client
):
    publish(RECTIFIABLE_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["rectification"], email=KARI)
    staff_login(client, pia)
    url = reverse("rights_staff:rectify", kwargs={"pk": asked.pk})
    page = client.get(url).content.decode()
    assert "Brukere i møteadm" in page and "?source=moeteadm.users" in page
    form = client.get(url, {"source": "moeteadm.users"}).content.decode()
    assert 'name="field_name"' in form and 'name="field_phone"' in form and 'name="field_plan"' not in form
    assert 'value="Kari Nordman"' in form  # the value as it is now

    done = client.post(
        url, {"source": "moeteadm.users", "expected": "1", "field_name": "Kari Nordmann", "field_phone": ""}
    )
    assert done.status_code == 303
    assert users(dialect) == [
        (KARI, "Kari Nordmann", "+4741526374", "pro"),  # an empty field is left as it was
        (OLA, "Ola Hansen", "+4793456781", "free"),
    ]
    assert request_notes(asked.pk) == ["møteadm rettet 1 rad i moeteadm.users (name)."]
    assert "1 rad rettet i møteadm." in client.get(done["Location"]).content.decode()
    asked.refresh_from_db()
    assert "rectification" in asked.done
    assert workflow.request_answer(request=asked, staff=pia, message="Rettet.").status == Request.Status.ANSWERED


def test_a_column_not_declared_is_refused_and_a_changed_count_rolls_back_and_blocks_the_request(
    dialect, publish, personas
):
    publish(RECTIFIABLE_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["rectification"], email=KARI)
    before = users(dialect)
    with pytest.raises(RequestRefused) as refused:
        rectify_elsewhere(request=asked, staff=pia, source="moeteadm.users", changes={"plan": "free"}, expected=1)
    assert refused.value.code == "field" and users(dialect) == before

    # The officer saw one row; a second row of Kari's appeared since: nothing is changed.
    with systems.moeteadm(dialect) as connection:
        connection.cursor().execute(
            "INSERT INTO users (email, name, phone, plan, created_at) VALUES (%s, %s, %s, %s, %s)",
            (KARI.upper(), "K. Nordman", "", "free", "2026-01-05 10:00:00"),
        )
    step = rectify_elsewhere(
        request=asked, staff=pia, source="moeteadm.users", changes={"name": "Kari Nordmann"}, expected=1
    )
    assert step.action == "failed" and "2 rows of the person are there now, not the 1 shown" in step.note
    assert [row[1] for row in users(dialect)] == ["Kari Nordman", "Ola Hansen", "K. Nordman"]
    assert Correction.objects.get(request_id=asked.pk).status == "failed"
    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Rettet.")
    assert "Rettingen i møteadm feilet" in str(blocked.value)

    # Corrected again with the count the officer now sees: done, and the request can be closed.
    rectify_elsewhere(request=asked, staff=pia, source="moeteadm.users", changes={"name": "Kari Nordmann"}, expected=2)
    assert [row[1] for row in users(dialect)] == ["Kari Nordmann", "Ola Hansen", "Kari Nordmann"]
    assert workflow.request_answer(request=asked, staff=pia, message="Rettet.").status == Request.Status.ANSWERED


def test_a_read_only_connector_corrects_nothing(dialect, publish):
    read_only = RECTIFIABLE_YAML.replace("    timeout_seconds: 5\n", "    timeout_seconds: 5\n    read_only: true\n")
    with pytest.raises(DeclarationInvalid) as refused:
        publish(read_only)
    assert "a read-only connector cannot correct rows" in str(refused.value)
    publish(RECTIFIABLE_YAML)
    [connector] = published_declaration().connectors
    kari = Person(request_id=1, reference="R-1", email=KARI)
    with pytest.raises(ConnectorFailed, match="read-only"):
        sql.rectify(connector.model_copy(update={"read_only": True}), "users", kari, {"name": "X"}, expected=1)
    assert users(dialect)[0][1] == "Kari Nordman"


def test_a_webhook_corrects_through_the_job_queue_and_the_request_waits_for_it(webhook, publish, personas, client):
    publish(WEBHOOK_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["rectification"], email=KARI)
    step = rectify_elsewhere(
        request=asked, staff=pia, source="support.tickets", changes={"subject": "Faktura 12"}, expected=1
    )
    assert step.action == "queued" and webhook.data[KARI][0]["subject"] == "Faktura"
    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Rettet.")
    assert "Support desk har ikke bekreftet rettingen ennå." in str(blocked.value)

    staff_login(client, pia)
    assert "1 retting venter" in client.get(reverse("connectors_staff:overview")).content.decode()
    run_webhook_erasures("connectors.webhook_rectify")
    assert webhook.data[KARI][0]["subject"] == "Faktura 12"
    assert webhook.data["ola@example.no"][0]["subject"] == "Pris"
    [call] = [call for call in webhook.calls if call["action"] == "rectify"]
    assert call["changes"] == {"subject": "Faktura 12"} and call["identifiers"] == {"email": KARI}
    correction = Correction.objects.get(request_id=asked.pk)
    assert (correction.status, correction.count, correction.changes, correction.email) == ("done", 1, None, None)
    assert workflow.request_answer(request=asked, staff=pia, message="Rettet.").status == Request.Status.ANSWERED


def test_a_processor_gets_a_correction_task_by_mail_and_answers_through_its_link(
    publish, personas, smtp_server, client
):
    publish(TASK_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["rectification"], email=KARI)
    with pytest.raises(RequestRefused):  # a task needs to say what to correct
        rectify_elsewhere(request=asked, staff=pia, source="regnskap", changes={}, note=" ")
    step = rectify_elsewhere(
        request=asked, staff=pia, source="regnskap", changes={}, note="Etternavnet er Nordmann, ikke Nordman."
    )
    assert step.action == "task"
    outbox_deliver_due()
    [mail] = [m for m in smtp_server.messages if m["To"] == "oppgaver@regnskap.example"]
    body = mail.get_body(("plain",)).get_content()
    assert f"R-{asked.pk}" in mail["Subject"] and "Etternavnet er Nordmann, ikke Nordman." in body and KARI in body
    link = re.search(r"https?://\S+/processor-tasks/\S+/", body).group(0)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    with pytest.raises(RequestRefused):
        workflow.request_answer(request=asked, staff=pia, message="Rettet.")
    shown = client.get(path).content.decode()
    assert "Funnet og rettet" in shown and "Funnet og slettet" not in shown  # a correction task, not an erasure
    assert client.post(path, {"outcome": "erased", "note": ""}).status_code == 400
    assert client.post(path, {"outcome": "rectified", "note": "Rettet."}).status_code == 200
    assert client.post(path, {"outcome": "rectified", "note": ""}).status_code == 404  # single use
    task = ManualTask.objects.get(request_id=asked.pk)
    assert (task.kind, task.outcome) == ("rectify", "rectified")
    assert workflow.request_answer(request=asked, staff=pia, message="Rettet.").status == Request.Status.ANSWERED
