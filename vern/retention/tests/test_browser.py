"""The retention page in headless Chromium, at desktop and phone widths."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import axe_playwright_python
import pytest
from django.utils import timezone

from conftest import VIEWPORTS, screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.retention.services import hold_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"


def test_the_retention_page_reads_well_and_passes_axe(browser_page, default_source):
    declaration_publish(source=default_source, actor=Actor.cli())
    officer = staff_create(
        email="pia@example.com",
        name="Pia Personvern",
        roles=["privacy_officer"],
        language="en",
        password=PASSWORD,
        actor=Actor.cli(),
    )
    hold_place(
        staff=officer,
        reason="Tvist om faktura 2026-114",
        ends_at=timezone.now() + dt.timedelta(days=60),
        email="kari@example.no",
    )
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("pia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "pia@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.get_by_role("link", name="Retention").first.click()
    page.get_by_role("button", name="Sweep now").click()
    page.get_by_text("A sweep is queued").wait_for()
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.reload()
        assert page.get_by_role("heading", name="Legal holds").is_visible()
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (width, violations)
        screenshot(page, f"retention-{width}")
    assert page.watch.console_errors == []
