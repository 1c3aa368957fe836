"""The policy pages in headless Chromium at desktop and phone widths."""

from __future__ import annotations

import pytest

from conftest import VIEWPORTS, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published_live(default_source):
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    return declaration_publish(source=default_source, actor=Actor.cli())


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
@pytest.mark.parametrize("path", ["/privacy/", "/en/privacy/", "/privacy/cookies/", "/en/privacy/versions/"])
def test_policy_pages_load_cleanly_and_fit_the_screen(browser_page, published_live, path, width):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[width])
    assert page.goto(page.base + path).status == 200
    assert page.watch.console_errors == [] and page.watch.other_origins == [] and page.watch.failed == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width} width"
    assert page.context.cookies() == []
    screenshot(page, f"policy{path.replace('/', '-').rstrip('-')}-{width}")


def test_the_table_of_contents_takes_the_reader_to_each_section(browser_page, published_live):
    page = browser_page
    page.goto(page.base + "/en/privacy/")
    page.get_by_role("navigation", name="Contents").get_by_role("link", name="Your rights").click()
    page.wait_for_url("**/en/privacy/#rights")
    heading = page.locator("#rights-h")
    assert heading.is_visible()
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < 200  # scrolled to the top of the screen


def test_the_policy_prints_without_navigation(browser_page, published_live):
    page = browser_page
    page.goto(page.base + "/privacy/")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".policy__toc").is_visible()
    assert page.locator("#contact-h").is_visible()


def test_p20_a_significant_change_shows_a_notice_and_asks_for_consent_again_only_when_cookies_changed(
    browser_page, published_live, default_source
):
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    page = browser_page
    page.goto(page.base + "/")
    page.get_by_role("button", name="Avvis alle").click()
    page.wait_for_selector("#vc-banner", state="detached")
    assert page.locator(".policy-notice").count() == 0

    # Only the text changed: the notice shows on every page, the banner stays away.
    text_only = default_source.replace("Vi svarer normalt innen 30 dager.", "Vi svarer innen 30 dager.")
    declaration_publish(source=text_only, actor=Actor.cli(), significant=True)
    for width in sorted(VIEWPORTS):
        page.set_viewport_size(VIEWPORTS[width])
        page.goto(page.base + "/")
        notice = page.locator(".policy-notice")
        assert notice.is_visible() and "Vi har endret personvernerklæringen" in notice.inner_text()
        assert page.locator("#vc-banner").count() == 0
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the notice makes the page scroll sideways by {overflow}px at {width}"
        screenshot(page, f"policy-notice-{width}")
    page.get_by_role("link", name="Se hva som er endret").click()
    page.wait_for_url("**/privacy/versions/2/changes/")
    changed = page.locator("main").inner_text()
    assert "Fjernet:\nnormalt innen 30 dager." in changed  # the word that went, marked as removed

    # Closing it keeps the visitor where they were, and it stays closed.
    page.goto(page.base + "/privacy/cookies/")
    page.get_by_role("button", name="Lukk varselet").click()
    page.wait_for_url("**/privacy/cookies/")
    assert page.locator(".policy-notice").count() == 0
    page.goto(page.base + "/")
    assert page.locator(".policy-notice").count() == 0

    # The cookies changed (a new statistics cookie): the notice is back, and so is the banner.
    new_cookie = (
        "    - name: vern_visits\n      provider: Kaukus AS\n      category: statistics\n      duration: 1 hour\n"
        "      purpose: {nb: Teller besøk, en: Counts visits}\n      party: first\n"
    )
    declaration_publish(
        source=text_only.replace("    - name: vern_session\n", new_cookie + "    - name: vern_session\n"),
        actor=Actor.cli(),
        significant=True,
    )
    page.goto(page.base + "/")
    assert page.locator(".policy-notice").is_visible()
    assert page.locator("#vc-banner").is_visible()
