"""In Chromium: a demo booked counts as a goal without any cookie, and the dashboard shows it (issue 20).

One test on purpose (browser time is dear): the visitor books a demo, staff read the goal on the
dashboard and the settings page, at 1280 and 390 px, without sideways scrolling or axe violations.
"""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest
from django.core.cache import cache

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.analytics.models import Goal, GoalCount
from vern.audit.services import Actor
from vern.enquiries import tokens
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.helpers import next_weekday

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
# A person's browser: headless Chromium says so in its agent, and the beacon rightly ignores bots.
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def book_a_demo(page) -> None:
    page.goto(page.base + "/")
    page.wait_for_timeout(400)
    page.goto(page.base + "/demo/")
    page.get_by_label("Navn", exact=True).fill("Ola Hansen")
    page.get_by_label("Virksomhet eller kommune").fill("Fjord kommune")
    page.get_by_label("E-postadresse").fill("ola@fjord.example")
    page.get_by_label("Telefonnummer").fill("41 23 45 67")
    page.get_by_label("Ønsket dag").fill(next_weekday().isoformat())
    page.get_by_label("Ønsket tid på dagen").select_option("afternoon")
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Bestill demo").last.click()
    page.wait_for_url(page.base + "/demo/thanks/")


def readable(page, name: str) -> None:
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], (name, width)
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (name, width, violations)
        screenshot(page, f"{name}-{width}")


def test_a_demo_booking_counts_as_a_goal_without_any_cookie_and_shows_on_the_dashboard(
    chromium, live_server, browser_page, published, monkeypatch
):
    cache.clear()
    monkeypatch.setattr(tokens, "MIN_FILL_SECONDS", 0.5)  # people take longer than three seconds; a test need not
    Goal.objects.create(name="Demo booked", kind=Goal.Kind.SERVER, match="demo_booked")
    Goal.objects.create(name="Saw the privacy policy", kind=Goal.Kind.PAGE, match="/privacy/*")
    context = chromium.new_context(viewport=WIDTHS["desktop"], locale="nb-NO", user_agent=CHROME)
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'webdriver', {get: () => false})")
    visitor = context.new_page()
    visitor.base = live_server.url
    book_a_demo(visitor)
    assert context.cookies() == []  # counted, and not one cookie for it
    context.close()
    assert Enquiry.objects.filter(kind="demo").count() == 1
    assert list(GoalCount.objects.values_list("event", "source", "entry", "count")) == [("demo_booked", "", "/", 1)]

    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "sam@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.goto(page.base + "/en/staff/analytics/?range=7d")
    row = page.locator("#goals-table tr", has_text="Demo booked")
    assert row.locator("td").nth(1).inner_text() == "1"  # one conversion
    assert row.locator("td").nth(2).inner_text() == "100%"  # of one visit
    readable(page, "analytics-goals")
    page.get_by_role("link", name="Goals, reports and API").click()
    page.get_by_role("heading", name="Statistics settings").wait_for()
    readable(page, "analytics-settings")
    assert page.watch.console_errors == []
