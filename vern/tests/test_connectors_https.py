# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""A webhook carries personal data: its URL must be https://, or http:// to this machine's loopback.

The declaration check refuses to publish a connector configured with a plain http:// URL to another
host, naming the connector; one configured so after publishing is refused when vern would call it,
and nothing is sent.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from vern.connectors.models import Health
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.connectors.webhook import url_problem
from vern.declaration.loading import DeclarationInvalid
from vern.rights.services import intake
from vern.rights.services.erasure import erasure_preview
from vern.tests.test_connectors_webhook_and_tasks import SECRET, WEBHOOK_YAML

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://moeteadm.example.no/vern", True),
        ("http://127.0.0.1:8080/vern", True),
        ("http://[::1]:8080/vern", True),
        ("http://localhost/vern", True),
        ("http://moeteadm.example.no/vern", False),
        ("http://127.0.0.2/vern", False),
        ("http://localhost.example.no/vern", False),
        ("http://127.0.0.1@evil.example/vern", False),  # the host is after the @
        ("http://evil.example#@127.0.0.1/vern", False),  # and before the fragment
        ("ftp://127.0.0.1/vern", False),
        ("https:///vern", False),
    ],
)
def test_only_https_or_http_to_a_loopback_host_is_a_webhook_url(url, allowed):
    assert (url_problem("support", url) is None) is allowed


def test_a_plain_http_webhook_to_another_host_is_refused_at_publishing_and_when_called(
    publish, personas, monkeypatch, tmp_path
):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    monkeypatch.setenv("VERN_TEST_WEBHOOK_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("VERN_TEST_WEBHOOK_URL", "http://support.example.no/vern")
    with pytest.raises(DeclarationInvalid) as refused:
        publish(WEBHOOK_YAML)
    assert "support: the webhook URL must start with https://" in str(refused.value)

    with systems.webhook_service(SECRET) as service:  # published while on loopback, then moved
        monkeypatch.setenv("VERN_TEST_WEBHOOK_URL", service.url)
        publish(WEBHOOK_YAML)
        monkeypatch.setenv("VERN_TEST_WEBHOOK_URL", service.url.replace("127.0.0.1", "support.example.no"))
        pia = personas.privacy_officer
        asked = intake.request_register(
            staff=pia,
            rights=["erasure"],
            channel="email",
            received_at=timezone.now() - dt.timedelta(minutes=5),
            email="kari.nordmann@example.no",
            phone="",
            details="",
            identity_checked=True,
        )
        [line] = [line for line in erasure_preview(asked).lines if line.label == "support"]
        assert line.action == "failed" and "must start with https://" in line.note
        assert service.calls == []  # nothing was sent
    assert Health.objects.get(connector="support").failing

    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("connectors", "check", stdout=out)
    assert out.getvalue().startswith("support: FAILED: the webhook URL must start with https://")
