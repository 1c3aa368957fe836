# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""A webhook connector and a processor without an API, in a rights request.

The webhook is a small service on loopback that keeps the contract of docs/connectors.md. A
processor gets its task by mail (the real SMTP fixture) and answers through the link in it.
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
from django.db.models import F
from django.test import Client
from django.utils import timezone

from vern.audit.services import Actor
from vern.connectors.models import Health, ManualTask, WebhookErasure
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.connectors.webhook import sign, verify
from vern.jobs.models import Job
from vern.jobs.worker import Worker
from vern.mail.services import outbox_deliver_due
from vern.rights.models import Request
from vern.rights.packages.rendering import access_package
from vern.rights.services import intake, workflow
from vern.rights.services.erasure import erasure_carry_out, erasure_preview
from vern.rights.services.steps import RequestRefused

pytestmark = pytest.mark.django_db
KARI = "kari.nordmann@example.no"
SECRET = "a shared secret of the test webhook"

WEBHOOK_YAML = """
connectors:
  - id: support
    name: Support desk
    kind: http
    purpose: enquiries
    url_env: VERN_TEST_WEBHOOK_URL
    secret_env: VERN_TEST_WEBHOOK_SECRET
    timeout_seconds: 1
"""
TASK_YAML = """
connectors:
  - id: regnskap
    name: Regnskap AS
    kind: manual
    purpose: enquiries
    processor: hetzner
    contact: oppgaver@regnskap.example
    deadline_days: 7
    language: nb
"""


def registered(staff, rights: list[str]) -> Request:
    return intake.request_register(
        staff=staff,
        rights=rights,
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email=KARI,
        phone="",
        details="",
        identity_checked=True,
    )


@pytest.fixture
def webhook(monkeypatch, tmp_path):
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    monkeypatch.setenv("VERN_TEST_WEBHOOK_SECRET_FILE", str(secret_file))
    with systems.webhook_service(SECRET) as service:
        monkeypatch.setenv("VERN_TEST_WEBHOOK_URL", service.url)
        service.data[KARI] = [{"subject": "Faktura", "opened": "2026-11-02"}]
        service.data["ola@example.no"] = [{"subject": "Pris", "opened": "2026-11-03"}]
        yield service


def run_webhook_erasures(name: str = "connectors.webhook_erase") -> None:
    """Run the due webhook erasures as the worker would, and nothing else (the periodic jobs a
    whole worker starts with would only slow the test down)."""
    worker = Worker(burst=True, manage_connections=False)
    now = timezone.now()
    for job in Job.objects.filter(name=name, status="queued", run_after__lte=now):
        claimed = Job.objects.filter(pk=job.pk, status="queued").update(
            status="running",
            attempts=F("attempts") + 1,
            unique_key=None,
            claimed_by=worker.worker_id,
            started_at=now,
            lease_expires_at=now + dt.timedelta(minutes=5),
        )
        assert claimed
        worker.execute(Job.objects.get(pk=job.pk))


def test_a_signature_holds_only_for_its_body_and_secret_and_within_the_replay_window():
    now = 1_800_000_000
    signature = sign(SECRET, str(now), b"{}")
    assert verify(SECRET, str(now), b"{}", signature, now=now + 299)
    assert not verify(SECRET, str(now), b"{}", signature, now=now + 301)  # replayed too late
    assert not verify(SECRET, str(now), b'{"a":1}', signature, now=now)
    assert not verify("another secret", str(now), b"{}", signature, now=now)


def test_the_webhooks_rows_are_in_the_copy_and_its_erasure_goes_through_the_job_queue(webhook, publish, personas):
    publish(WEBHOOK_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])
    with zipfile.ZipFile(io.BytesIO(access_package(asked))) as archive:
        data = json.loads(archive.read("data.json"))
    rows = {block["model"]: block["rows"] for block in data["records"]}
    assert rows["support.tickets"] == [{"subject": "Faktura", "opened": "2026-11-02"}]
    assert "Pris" not in json.dumps(data)

    lines = {line.label: line for line in erasure_preview(asked).lines}
    assert (lines["support.tickets"].count, lines["support.tickets"].action) == (1, "delete")
    assert KARI in webhook.data  # a dry run erases nothing

    erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    assert KARI in webhook.data  # handed to the worker, not done on the way
    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert "Support desk har ikke bekreftet slettingen ennå." in str(blocked.value)

    run_webhook_erasures()
    assert KARI not in webhook.data and "ola@example.no" in webhook.data
    erasure = WebhookErasure.objects.get(request_id=asked.pk)
    assert erasure.status == "done" and erasure.counts == {"support.tickets": 1} and erasure.email is None
    assert workflow.request_answer(request=asked, staff=pia, message="Slettet.").status == Request.Status.ANSWERED


@pytest.mark.parametrize(
    ("mode", "error"),
    [("bad_signature", "bad or old signature"), ("slow", "did not answer within 1 s")],
)
def test_a_webhook_that_answers_badly_is_retried_then_shown_failing_and_erases_nothing_else(
    webhook, publish, personas, mode, error
):
    publish(WEBHOOK_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])
    webhook.mode = mode
    erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    run_webhook_erasures()
    job = Job.objects.get(name="connectors.webhook_erase")
    assert (job.status, job.attempts) == ("queued", 1) and job.run_after > timezone.now()  # retried, later
    Job.objects.filter(pk=job.pk).update(run_after=timezone.now())
    run_webhook_erasures()
    assert Job.objects.get(pk=job.pk).attempts == 2

    health = Health.objects.get(connector="support")
    assert health.failing and error in health.last_error
    erasure = WebhookErasure.objects.get(request_id=asked.pk)
    assert erasure.status == "pending" and error in erasure.last_error
    assert "ola@example.no" in webhook.data  # only Kari was ever asked about
    assert {call["identifiers"].get("email") for call in webhook.calls if call["action"] == "erase"} == {KARI}
    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert "Support desk feiler" in str(blocked.value)

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("connectors", "check", stdout=out)
    assert out.getvalue().startswith("support: FAILED: ") and error in out.getvalue()


def test_a_processor_gets_a_task_by_mail_answers_through_its_link_once_and_it_is_on_the_request(
    publish, personas, smtp_server, client: Client
):
    publish(TASK_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])
    line = next(line for line in erasure_preview(asked).lines if line.label == "regnskap")
    assert line.action == "task" and line.note == "oppgaver@regnskap.example"
    assert not ManualTask.objects.exists()  # a preview mails nothing

    erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    outbox_deliver_due()
    [mail] = [m for m in smtp_server.messages if m["To"] == "oppgaver@regnskap.example"]
    body = mail.get_body(("plain",)).get_content()
    assert f"R-{asked.pk}" in mail["Subject"] and KARI in body
    link = re.search(r"https?://\S+/processor-tasks/\S+/", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]

    with pytest.raises(RequestRefused) as blocked:
        workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert "Regnskap AS har ikke svart på oppgaven de fikk på e-post" in str(blocked.value)

    page = client.get(f"/{path}")
    assert page.status_code == 200 and f"R-{asked.pk}" in page.content.decode()
    missing = client.post(f"/{path}", {"note": "Søkte."})
    assert missing.status_code == 400 and "Velg hva dere fant og gjorde." in missing.content.decode()
    answered = client.post(f"/{path}", {"outcome": "erased", "note": "Slettet i regnskapssystemet."})
    assert answered.status_code == 200
    again = client.post(f"/{path}", {"outcome": "not_found", "note": ""})
    assert again.status_code == 404  # single use
    task = ManualTask.objects.get(request_id=asked.pk)
    assert task.outcome == "erased" and task.confirmed_at is not None and task.token_hash is None

    detail = workflow.request_answer(request=asked, staff=pia, message="Slettet.")
    assert detail.status == Request.Status.ANSWERED
    from vern.registry.surface import request_notes

    assert request_notes(asked.pk) == ["Regnskap AS svarte: Funnet og slettet. Slettet i regnskapssystemet."]
