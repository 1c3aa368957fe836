"""Passkeys in Chromium (P18), with Chromium's virtual authenticator (DevTools WebAuthn domain):
add one on the security page, sign in with password and passkey, confirm with it before a
protected action. Only vern's own passkeys.js runs, under the staff pages' strict CSP."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore

from conftest import screenshot
from vern.accounts.models import Passkey, SignIn, User
from vern.accounts.second_factor import SESSION_AUTH_AT
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor, staff_device
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.mail.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple 42"
WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}


def virtual_authenticator(page):
    """A platform authenticator that holds passkeys and checks its user (as a fingerprint reader would)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def fits(page, name: str) -> None:
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {width}"
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(WIDTHS["1280"])


def log_in_with_password(page) -> None:
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/en/staff/second-factor/**")


def test_p18_a_passkey_added_in_the_browser_signs_in_and_confirms_a_protected_action(browser_page, settings):
    page = browser_page
    settings.VERN_PUBLIC_URL = page.base  # http://localhost:port: the relying party is "localhost"
    nina = staff_create(
        email="nina@example.com",
        name="Nina Ny",
        roles=["privacy_officer"],
        password=PASSWORD,
        language="en",
        actor=Actor.cli(),
    )
    staff_device(nina)
    cdp, authenticator = virtual_authenticator(page)

    # Signed in with password and code, Nina adds a passkey on the security page.
    log_in_with_password(page)
    browser_second_factor(page, "nina@example.com")
    page.goto(page.base + "/en/staff/security/")
    assert page.get_by_text("You have no passkeys yet.").is_visible()
    page.get_by_role("button", name="Add a passkey").click()
    assert page.get_by_text("Give the passkey a name").is_visible()  # nothing is asked of the authenticator yet
    assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"] == []
    page.get_by_label("Name of the new passkey").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_text("The passkey “Work laptop” is added.").wait_for()
    assert page.locator(".passkey").filter(has_text="Work laptop").is_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"
    assert Passkey.objects.filter(user=nina, name="Work laptop").count() == 1
    assert OutboxMessage.objects.filter(kind="staff_passkey_added").count() == 1
    fits(page, "staff-security-passkeys")

    # Next login: the password, then the passkey instead of a code.
    page.get_by_role("button", name="Log out").click()
    page.goto(page.base + "/en/staff/requests/")
    page.get_by_label("Email address").fill("nina@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/en/staff/second-factor/**")
    assert page.get_by_label("Code").is_visible()  # the code stays the alternative
    fits(page, "staff-verify-passkey")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(page.base + "/en/staff/requests/")
    assert SignIn.objects.filter(user=nina).latest("pk").method == SignIn.Method.PASSKEY
    page.goto(page.base + "/en/staff/security/")
    assert page.locator("tr").filter(has_text="this session").filter(has_text="passkey").is_visible()

    # Ten minutes later, a protected action asks again; the passkey answers instead of the password.
    session = SessionStore(session_key=next(c for c in page.context.cookies() if c["name"] == "vern_session")["value"])
    session[SESSION_AUTH_AT] = time.time() - 11 * 60
    session.save()
    page.get_by_role("button", name="Make new recovery codes").click()
    page.wait_for_url("**/en/staff/confirm-password/**")
    fits(page, "staff-reauth-passkey")
    page.get_by_role("button", name="Confirm with a passkey").click()
    page.wait_for_url(page.base + "/en/staff/security/")
    page.get_by_role("button", name="Make new recovery codes").click()
    page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert Entry.objects.filter(action="staff.reauth", data__method="passkey").count() == 1
    assert Entry.objects.filter(action="staff.passkey_use").count() == 2
    assert not page.watch.console_errors and not page.watch.other_origins
    assert User.objects.get(pk=nina.pk).sign_ins.count() == 2
