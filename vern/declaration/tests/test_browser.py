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
