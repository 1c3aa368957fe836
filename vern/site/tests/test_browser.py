"""The site shell in a real browser (headless Chromium) at desktop and phone widths."""

from __future__ import annotations

import pytest

from conftest import VIEWPORTS, screenshot
from vern.accounts.testing import browser_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
@pytest.mark.parametrize("path,lang", [("/", "nb"), ("/en/", "en")])
def test_the_home_page_loads_cleanly_and_fits_the_screen(browser_page, path, lang, width):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[width])
    response = page.goto(page.base + path)
    assert response.status == 200
    assert page.get_attribute("html", "lang") == lang
    assert page.watch.console_errors == []  # a CSP violation would show here
    assert page.watch.other_origins == []
    assert page.watch.failed == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width} width"
    assert page.locator("h1").is_visible()
    assert page.locator("header .button--primary").is_visible()  # "Book demo" on every screen size
    assert page.context.cookies() == []
    screenshot(page, f"home-{lang}-{width}")


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(browser_page):
    page = browser_page
    page.goto(page.base + "/")
    skip = page.locator(".skip-link")
    assert skip.bounding_box()["y"] < 0  # hidden until focused
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.bounding_box()["y"] >= 0  # visible while focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_language_switch_keeps_the_visitor_on_the_same_page(browser_page):
    page = browser_page
    page.goto(page.base + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(page.base + "/en/")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_role("link", name="Norsk").click()
    page.wait_for_url(page.base + "/")
    assert page.get_attribute("html", "lang") == "nb"
    assert page.context.cookies() == []  # the choice lives in the URL, not in a cookie


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_staff_log_in_and_see_their_console_in_the_browser(browser_page, width):
    from vern.accounts.services import staff_create
    from vern.audit.services import Actor

    staff_create(
        email="ada@example.com",
        name="Ada",
        roles=["admin", "privacy_officer"],
        password="correct horse battery staple 42",
        actor=Actor.cli(),
    )
    page = browser_page
    page.set_viewport_size(VIEWPORTS[width])
    page.goto(page.base + "/staff/")
    page.get_by_label("E-postadresse").fill("ada@example.com")
    page.get_by_label("Passord").fill("correct horse battery staple 42")
    screenshot(page, f"staff-login-{width}")
    page.get_by_role("button", name="Logg inn").click()
    browser_second_factor(page, "ada@example.com")
    page.wait_for_url(page.base + "/staff/")
    assert page.get_by_role("heading", name="Hei, Ada").is_visible()
    for tile in ("Personalkontoer", "Bakgrunnsjobber", "Utgående e-post", "Revisjonslogg"):
        assert page.get_by_role("link", name=tile).first.is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert set(cookies) == {"vern_session", "vern_csrf"}
    assert cookies["vern_session"]["httpOnly"] and cookies["vern_csrf"]["httpOnly"]
    assert cookies["vern_csrf"]["expires"] == -1  # a session cookie
    screenshot(page, f"staff-home-{width}")
    for path, name in (
        ("/staff/people/", "people"),
        ("/staff/jobs/", "jobs"),
        ("/staff/outbox/", "outbox"),
        ("/staff/audit/", "audit"),
    ):
        page.goto(page.base + path)
        assert page.watch.console_errors == []
        overflow = page.evaluate("document.body.scrollWidth - document.documentElement.clientWidth")
        screenshot(page, f"staff-{name}-{width}")
    assert page.watch.other_origins == []
