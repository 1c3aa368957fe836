"""Two-factor staff login in Chromium (P18): first-login enrolment from the secret shown, then a real code."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django_otp.oath import TOTP

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"
WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}


def test_p18_a_new_staff_member_enrols_an_authenticator_then_signs_in_with_password_and_code(browser_page):
    staff_create(
        email="nina@example.com",
        name="Nina Ny",
        roles=["privacy_officer"],
        language="en",
        password=PASSWORD,
        actor=Actor.cli(),
    )
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/en/staff/second-factor/setup/**")
    assert page.locator(".qr svg").is_visible()
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        screenshot(page, f"staff-enrol-{width}")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("The six-digit code your app shows").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        screenshot(page, f"staff-recovery-codes-{width}")
    page.get_by_role("link", name="I have saved them; continue").click()
    page.wait_for_url(page.base + "/en/staff/")
    page.get_by_role("button", name="Log out").click()

    # The next login: password, then the code the app shows now.
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/en/staff/second-factor/**")
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        screenshot(page, f"staff-verify-{width}")
    page.goto(page.base + "/en/staff/requests/")  # still refused before the code
    assert "/second-factor/" in page.url
    browser_second_factor(page, "nina@example.com")
    assert page.url == page.base + "/en/staff/requests/"
    page.goto(page.base + "/en/staff/security/")
    assert page.get_by_text("this session").is_visible()
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), width
        screenshot(page, f"staff-security-{width}")
    assert not page.watch.console_errors
