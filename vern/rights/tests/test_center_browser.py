"""The privacy center in headless Chromium: a visitor asks for a copy, confirms by mail, and downloads it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import axe_playwright_python
import pytest
from django.core.cache import cache

from conftest import VIEWPORTS, screenshot
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.mail.services import outbox_deliver_due
from vern.rights.models import Request
from vern.testing import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


@pytest.fixture
def live_policy(default_source):
    cache.clear()
    return declaration_publish(source=default_source, actor=Actor.cli())


def axe(page, selector: str = "main") -> list[str]:
    page.evaluate(AXE)
    found: list[str] = page.evaluate(f"axe.run({{include: [['{selector}']]}}).then(r => r.violations.map(v => v.id))")
    return found


def fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def decline_cookies(page) -> None:
    """Answer the cookie banner first, so that it does not cover the form in the screenshots."""
    page.locator("#vc-banner button[value=reject_all]").click()
    page.locator("#vc-banner").wait_for(state="hidden")
    page.reload()


def unexpected(errors: list[str]) -> list[str]:
    """Console errors other than Chromium's note on the answers the test asked for (400, 410)."""
    expected = re.compile(r"^Failed to load resource: the server responded with a status of (400|410)")
    return [error for error in errors if not expected.match(error)]


def mailed_link(smtp_server, count: int, name: str) -> str:
    outbox_deliver_due()
    wait_for(lambda: len(smtp_server.messages) >= count, what=f"the {name} mail")
    body = smtp_server.messages[count - 1].get_body(("plain",)).get_content()
    found = re.search(r"https?://\S+/" + name + r"/[A-Za-z0-9_-]+/", body)
    assert found, body
    return urlsplit(found.group(0)).path


def test_a_visitor_asks_for_a_copy_confirms_it_by_mail_and_downloads_it(browser_page, live_policy, smtp_server):
    page = browser_page
    form = page.base + "/en/privacy/requests/"
    assert page.goto(form).status == 200
    decline_cookies(page)
    # The choice just made has an id; the request will carry it, and the form says so.
    assert page.get_by_text("the id of the cookie choice you made in this browser").is_visible()
    fits(page)
    assert axe(page) == []
    screenshot(page, "rights-center-en-desktop")

    # Sent with nothing chosen: each mistake is shown beside its field, and the page stays usable.
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()
    assert page.get_by_text("Choose at least one of the rights.").is_visible()
    assert page.get_by_text("Enter your email address.").is_visible()
    assert axe(page) == []
    screenshot(page, "rights-center-errors-en-desktop")

    page.get_by_label("Access").check()
    page.get_by_label("I object to direct marketing").check()
    page.get_by_label("Email address").fill("kari@example.no")
    page.get_by_label("More about your request").fill("Also the demo booking from May.")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(form + "sent/")
    assert page.get_by_text("If the address is yours, you will get an email").is_visible()
    assert axe(page) == []
    screenshot(page, "rights-sent-en-desktop")
    request = Request.objects.get()
    assert request.rights == ["access", "objection"] and request.marketing_objection
    assert len(request.consent_id) == 32

    # The link from the mail: a GET shows a button, and only the button confirms.
    confirm = mailed_link(smtp_server, 1, "confirm")
    page.goto(page.base + confirm)
    assert Request.objects.get().status == "awaiting_confirmation"
    assert axe(page) == []
    screenshot(page, "rights-confirm-en-desktop")
    page.get_by_role("button", name="Confirm my request").click()  # posted with "Origin: null" (no referrer)
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Your request is confirmed").is_visible()
    assert page.get_by_text("We have sent you an email with a link to download your data.").is_visible()
    screenshot(page, "rights-confirmed-en-desktop")
    # The copy went out by itself, so work has started; the objection waits for a privacy officer.
    assert Request.objects.get().status == "in_progress"

    download = mailed_link(smtp_server, 2, "download")
    page.goto(page.base + download)
    assert axe(page) == []
    screenshot(page, "rights-download-en-desktop")
    with page.expect_download() as started:
        page.get_by_role("button", name="Download my data (zip)").click()
    assert started.value.suggested_filename.endswith(".zip")
    with open(started.value.path(), "rb") as package:
        assert package.read(2) == b"PK"
    page.goto(page.base + download)
    page.get_by_role("button", name="Download my data (zip)").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="This link has already been used").is_visible()
    screenshot(page, "rights-download-used-en-desktop")
    assert unexpected(page.watch.console_errors) == [] and page.watch.other_origins == []


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_the_norwegian_pages_are_accessible_and_fit_the_screen(browser_page, live_policy, width):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[width])
    page.goto(page.base + "/privacy/requests/")
    decline_cookies(page)
    for path, name in [
        ("/privacy/requests/", "rights-center"),
        ("/privacy/requests/sent/", "rights-sent"),
        ("/privacy/requests/confirm/" + "x" * 43 + "/", "rights-confirm"),
        ("/privacy/requests/download/" + "x" * 43 + "/", "rights-download"),
    ]:
        assert page.goto(page.base + path).status == 200
        fits(page)
        assert axe(page) == []
        screenshot(page, f"{name}-{width}")
    assert page.watch.console_errors == [] and page.watch.other_origins == []
