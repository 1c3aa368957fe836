"""Every page of the security registers in headless Chromium, at 1280 and 390 px: no sideways
scrolling, axe finds nothing, and a breach aware of in the future is refused on its field."""

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
from vern.breaches.tests.world import security_registers
from vern.declaration.services import declaration_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_the_register_pages_fit_a_phone_and_axe_finds_nothing(browser_page, default_source):
    declaration_publish(source=default_source, actor=Actor.cli())
    pia = staff_create(
        email="pia@example.com", name="Pia Personvern", roles=["privacy_officer"], password=PASSWORD, actor=Actor.cli()
    )
    breach, risk = security_registers(pia, timezone.now())
    page = browser_page
    page.goto(page.base + "/staff/login/")
    page.fill("input[name=email]", "pia@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    browser_second_factor(page, "pia@example.com")

    # A breach aware of tomorrow: refused on the field, in Norwegian.
    page.goto(page.base + "/staff/breaches/")
    page.fill("input[name=title]", "Stjålet telefon")
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    page.fill("input[name=aware_at]", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=nature][value=availability]")
    page.click("form[action$='/breaches/new/'] button[type=submit]")
    page.locator("#id_aware_at_error").get_by_text("kan ikke ligge i fremtiden").wait_for()
    assert page.watch.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
    page.watch.console_errors.clear()  # the refusal's status, as meant

    pages = {
        "breaches": "/staff/breaches/",
        "breach": f"/staff/breaches/{breach.pk}/",
        "risks": "/staff/risks/",
        "risk": f"/staff/risks/{risk.pk}/",
        "dpia": "/staff/risks/dpia/",
    }
    problems = []
    for name, path in pages.items():
        page.goto(page.base + path)
        if name == "breaches":  # the clock of the undecided breach, on the list
            assert page.get_by_text("timer igjen").first.is_visible()
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                problems.append(f"{name} {width}: {overflow} px too wide")
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.evaluate(AXE)
            violations = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
            problems += [f"{name} {width}: axe {v}" for v in violations]
            screenshot(page, f"registers-{name}-{width}")
    assert not problems, problems
    assert page.watch.console_errors == []
