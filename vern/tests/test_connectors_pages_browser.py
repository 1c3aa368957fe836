# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""The connectors page and a processor's task page, in headless Chromium: clear at a desktop's and
a phone's width, no sideways scrolling, no axe violations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import axe_playwright_python
import pytest
from django.utils import timezone

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.connectors import services
from vern.connectors.config import declared
from vern.connectors.models import ManualTask
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.registry.surface import Person
from vern.rights.services import intake

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
MORE = """
  - id: support
    name: Support desk
    kind: http
    purpose: enquiries
    url_env: VERN_TEST_WEBHOOK_URL
    secret_env: VERN_TEST_WEBHOOK_SECRET
    timeout_seconds: 1
  - id: regnskap
    name: Regnskap AS
    kind: manual
    purpose: enquiries
    contact: oppgaver@regnskap.example
  - id: crm
    name: CRM
    kind: sql
    purpose: enquiries
    url_env: VERN_TEST_CRM_URL
    tables:
      - name: contacts
        title: {nb: Kontakter, en: Contacts}
        identifiers: {email: [email]}
        export: [email]
"""


def looks_right(page, name: str) -> None:
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}"
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (name, width, violations)
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(WIDTHS["desktop"])


def test_an_officer_sees_each_connectors_state_and_a_processor_answers_its_task(
    browser_page, publish, moeteadm_databases, monkeypatch
):
    systems.reset("mysql", people=[("kari@example.no", "Kari", "", "pro")], logins=[])
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", systems.mariadb_url())
    monkeypatch.setenv("VERN_TEST_WEBHOOK_URL", "http://127.0.0.1:9/vern")  # nothing listens: it fails
    monkeypatch.setenv("VERN_TEST_WEBHOOK_SECRET", "s")
    rectifiable = systems.CONNECTOR_YAML.replace(
        "        portable: true\n", "        portable: true\n        rectify: [name]\n"
    )
    publish(rectifiable + MORE)
    regnskap = next(c for c in declared() if c.id == "regnskap")
    services.task_send(connector=regnskap, person=Person(request_id=7, reference="R-7", email="kari@example.no"))
    token = "known-token-for-the-browser"
    ManualTask.objects.update(token_hash=services.task_hash(token))

    page = browser_page
    pia = staff_create(
        email="pia@example.com", name="Pia", roles=["privacy_officer"], password=PASSWORD, actor=Actor.cli()
    )
    page.goto(page.base + "/staff/login/")
    page.get_by_label("E-postadresse").fill("pia@example.com")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    browser_second_factor(page, "pia@example.com")
    page.goto(page.base + "/staff/connectors/")
    page.get_by_role("button", name="Sjekk nå").click()
    page.get_by_text("Sjekket: 1 feiler.").wait_for()
    rows = page.locator("tbody tr")
    assert "virker" in rows.nth(0).inner_text()
    # The error's kind in the staff member's language; the driver's words only as the technical detail.
    failing = rows.nth(1).inner_text()
    assert "feiler" in failing and "vern får ikke kontakt med det andre systemet." in failing
    assert "Teknisk detalj: the webhook cannot be reached" in failing
    assert "1 oppgave ubesvart" in rows.nth(2).inner_text()
    assert "ikke satt opp" in rows.nth(3).inner_text() and "VERN_TEST_CRM_URL" in rows.nth(3).inner_text()
    looks_right(page, "connectors-staff-nb")
    page.goto(page.base + "/en/staff/connectors/")
    failing = page.locator("tbody tr").nth(1).inner_text()
    assert "vern cannot connect to the other system." in failing
    assert "Technical detail: the webhook cannot be reached" in failing
    looks_right(page, "connectors-staff-en")

    # A request the failing webhook holds back: the reason on the request, in both languages.
    asked = intake.request_register(
        staff=pia,
        rights=["access"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email="kari@example.no",
        phone="",
        details="",
        identity_checked=True,
    )
    page.goto(page.base + f"/staff/requests/{asked.pk}/")
    blockers = page.locator("#blockers").inner_text()
    assert "Support desk feiler: vern får ikke kontakt med det andre systemet." in blockers
    assert "Teknisk detalj: the webhook cannot be reached" in blockers
    looks_right(page, "connectors-request-nb")
    page.goto(page.base + f"/en/staff/requests/{asked.pk}/")
    blockers = page.locator("#blockers").inner_text()
    assert "Support desk is failing: vern cannot connect to the other system." in blockers
    looks_right(page, "connectors-request-en")

    # Correcting Kari's name in møteadm: the rectification page offers the other systems' rows.
    corrected = intake.request_register(
        staff=pia,
        rights=["rectification"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email="kari@example.no",
        phone="",
        details="",
        identity_checked=True,
    )
    page.goto(page.base + f"/staff/requests/{corrected.pk}/rectify/")
    page.get_by_role("link", name="Brukere i møteadm").click()
    page.get_by_label("name").wait_for()
    looks_right(page, "connectors-rectify-nb")
    page.get_by_label("name").fill("Kari Nordmann")
    page.get_by_role("button", name="Rett", exact=True).click()
    page.get_by_text("1 rad rettet i møteadm.").wait_for()
    assert systems.rows("mysql", "SELECT name FROM users") == [("Kari Nordmann",)]
    page.goto(page.base + f"/en/staff/requests/{corrected.pk}/rectify/")
    assert page.get_by_text("In the company's other systems").is_visible()
    looks_right(page, "connectors-rectify-en")

    page.goto(page.base + f"/en/processor-tasks/{token}/")
    page.get_by_role("button", name="Reject all").click()  # the processor answers the site's banner too
    assert page.get_by_text("Request R-7").is_visible()
    looks_right(page, "connectors-task")
    page.get_by_label("Found and erased").check()
    page.get_by_label("Note").fill("Deleted from the ledger system.")
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_text("Thank you. Your answer is recorded on the request.").wait_for()
    assert ManualTask.objects.get().outcome == "erased"
    confirmed_at = ManualTask.objects.get().confirmed_at
    assert confirmed_at is not None and confirmed_at <= timezone.now() + dt.timedelta(seconds=1)
    assert page.watch.console_errors == []
