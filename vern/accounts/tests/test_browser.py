"""The staff accounts page with a role waiting for approval, in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest

from conftest import screenshot
from vern.accounts.services import staff_create, staff_set_roles
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_a_second_administrator_sees_the_waiting_role_and_approves_it(browser_page):
    alice = staff_create(
        email="alice@example.com", name="Alice Admin", roles=["admin"], password=PASSWORD, actor=Actor.cli()
    )
    staff_create(
        email="bea@example.com", name="Bea Berg", roles=["admin"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    dora = staff_create(
        email="dora@example.com", name="Dora Drift", roles=["sales"], password=PASSWORD, actor=Actor.cli()
    )
    staff_set_roles(user=dora, roles=["sales", "privacy_officer"], actor=Actor.staff(alice))

    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("bea@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "bea@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.get_by_role("link", name="Staff accounts").first.click()
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.reload()
        assert page.get_by_role("heading", name="Roles waiting for approval").is_visible()
        assert page.get_by_text("Dora Drift as Privacy officer").is_visible()
        assert page.get_by_role("button", name="Approve").is_visible()
        # The page itself never scrolls sideways (the staff table scrolls inside its own box).
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (width, violations)
        screenshot(page, f"people-waiting-role-{width}")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("The role is approved and takes effect now.").wait_for()
    assert not page.get_by_role("heading", name="Roles waiting for approval").is_visible()
    assert page.watch.console_errors == []
