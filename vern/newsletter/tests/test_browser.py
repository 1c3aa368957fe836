"""The newsletter in headless Chromium: a visitor subscribes and confirms; marketing writes a mailing (P22)."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest
from django.core.cache import cache

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.mail.services import outbox_deliver_due
from vern.newsletter.models import Mailing, Subscription
from vern.newsletter.tests.helpers import confirm_link, path_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def live_policy(default_source):
    cache.clear()
    return declaration_publish(source=default_source, actor=Actor.cli())


def check(page, name: str) -> None:
    """At each width: no sideways scrolling, no accessibility violations, a picture to look at."""
    for width, size in SIZES.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width} width"
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], f"{name}: {violations}"
        screenshot(page, f"newsletter-{name}-{width}")


def test_P22_a_visitor_subscribes_on_a_phone_and_is_subscribed_only_after_confirming(
    browser_page, live_policy, smtp_server
):
    page = browser_page
    page.set_viewport_size(SIZES["phone"])
    assert page.goto(page.base + "/newsletter/").status == 200
    page.get_by_role("button", name="Avvis alle").click()  # the cookie banner, answered first
    agree = page.get_by_label("Ja, send meg nyhetsbrev", exact=False)
    assert not agree.is_checked()
    check(page, "subscribe")
    page.get_by_role("textbox", name="E-postadresse").fill("kari@example.no")
    page.get_by_role("button", name="Meld meg på").click()
    page.wait_for_load_state()
    assert "Kryss av i boksen" in page.content()  # the box is not ticked for her
    assert not Subscription.objects.exists()
    check(page, "subscribe-error")
    page.get_by_label("Ja, send meg nyhetsbrev", exact=False).check()
    page.get_by_role("button", name="Meld meg på").click()
    page.wait_for_url(page.base + "/newsletter/sent/")
    check(page, "sent")
    assert Subscription.objects.get().status == Subscription.Status.PENDING

    outbox_deliver_due()
    link = confirm_link("kari@example.no", smtp_server.messages)
    page.goto(page.base + path_of(link))
    check(page, "confirm")
    page.get_by_role("button", name="Bekreft påmeldingen min").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Du er påmeldt").is_visible()
    check(page, "confirmed")
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED

    page.goto(page.base + path_of(link))  # the link again: it has done its work
    assert page.get_by_role("heading", name="Lenken kan ikke brukes").is_visible()
    check(page, "used-link")


def test_marketing_writes_and_previews_a_mailing_in_both_languages(browser_page, live_policy):
    staff_create(
        email="mia@example.com",
        name="Mia Marked",
        roles=["marketing"],
        language="en",
        password=PASSWORD,
        actor=Actor.cli(),
    )
    page = browser_page
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("mia@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "mia@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.goto(page.base + "/en/staff/newsletter/")
    check(page, "staff-mailings")
    page.set_viewport_size(SIZES["desktop"])
    page.get_by_label("Subject in Bokmål").fill("Nytt i møteadministrasjonen")
    page.get_by_label("Text in Bokmål").fill("Hei!\n\nVi har laget noe nytt. <script>alert(1)</script>")
    page.get_by_label("Subject in English").fill("What is new in meeting administration")
    page.get_by_label("Text in English").fill("Hello!\n\nWe made something new.")
    page.get_by_role("button", name="Save and preview").click()
    page.wait_for_load_state()
    mailing = Mailing.objects.get()
    assert page.url.endswith(f"/en/staff/newsletter/{mailing.pk}/")
    assert page.get_by_text("<script>alert(1)</script>").is_visible()  # shown as text, never run
    check(page, "staff-mailing")
