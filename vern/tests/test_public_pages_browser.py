"""In a real browser: a requester follows the link in their mail to the status page, and a visitor reads
what changed in the policy; both read well at 1280 and 390 px, with no sideways scrolling, and axe finds
nothing, in Bokmål and English. The staff request page with its stepper is checked the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vern.accounts.testing import browser_second_factor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
EMAIL = "kari.nordmann@example.no"


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def check(page, name: str) -> None:
    """At each width: no sideways scrolling, no axe violation; a picture when VERN_SCREENSHOTS is set."""
    from conftest import screenshot

    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.reload()
        page.evaluate(axe_script())
        violations = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
        assert violations == [], (name, width, violations)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (name, width, overflow)
        screenshot(page, f"{name}-{width}")


def test_a_requester_follows_the_mail_link_to_the_status_page_and_reads_a_message_from_staff(
    browser_page, default_source
):
    from vern.accounts.services import staff_create
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish
    from vern.mail.models import OutboxMessage
    from vern.rights.services import workflow

    declaration_publish(source=default_source, actor=Actor.cli())
    page = browser_page
    page.goto(page.base + "/privacy/requests/")
    page.locator("#vc-banner button[value=reject_all]").click()
    page.get_by_label("Sletting").check()
    page.get_by_label("E-postadresse").fill(EMAIL)
    page.get_by_role("button", name=re.compile("Send")).click()
    page.wait_for_url("**/privacy/requests/sent/")

    mail = OutboxMessage.objects.get(kind="rights_confirm")
    confirm = re.search(r"https?://[^/\s]+(/privacy/requests/confirm/[A-Za-z0-9_-]+/)", mail.body_text)
    assert confirm is not None
    page.goto(page.base + confirm.group(1))
    page.get_by_role("button", name="Bekreft forespørselen min").click()
    page.get_by_role("link", name="Følg forespørselen din").click()
    page.wait_for_url("**/privacy/requests/status/**")
    assert page.locator('[aria-current="step"]').inner_text().startswith("2")
    assert "Bekreftet" in page.locator('[aria-current="step"]').inner_text()

    officer = staff_create(email="pia@example.com", name="Pia", roles=["privacy_officer"], actor=Actor.cli())
    request = mail_request()
    workflow.request_message(request=request, staff=officer, message="Vi trenger kopi av legitimasjon.")
    message = OutboxMessage.objects.get(kind="rights_message")
    link = re.search(r"https?://\S+(/privacy/requests/status/[A-Za-z0-9_-]+/)", message.body_text)
    assert link is not None
    page.goto(page.base + link.group(1))
    assert page.get_by_text("Vi trenger kopi av legitimasjon.").is_visible()
    assert EMAIL not in page.content()
    check(page, "status-nb")
    page.goto(page.base + "/en" + link.group(1))
    assert page.get_by_role("heading", name=re.compile("Your request R-")).is_visible()
    check(page, "status-en")
    assert page.watch.console_errors == []
    page.goto(page.base + "/en/privacy/requests/status/" + "x" * 43 + "/")
    assert page.get_by_role("heading", name="This link does not work").is_visible()


def mail_request():
    from vern.rights.models import Request

    return Request.objects.get()


def test_the_change_page_and_the_staff_request_page_read_well_at_both_widths(browser_page, default_source):
    from django.utils import timezone

    from vern.accounts.services import staff_create
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish
    from vern.rights.services import intake

    declaration_publish(source=default_source, actor=Actor.cli())
    changed = default_source.replace("Vi svarer normalt innen 30 dager.", "Vi svarer normalt innen 14 dager.")
    changed = changed.replace("We normally respond within 30 days.", "We normally respond within 14 days.")
    changed = changed.replace(
        "purpose: {nb: Innloggingsinformasjon, en: Login information}",
        "purpose: {nb: Holder deg innlogget, en: Keeps you logged in}",
    )
    declaration_publish(source=changed, actor=Actor.cli(), note="Raskere svar")
    page = browser_page
    for prefix, name in (("", "changes-nb"), ("/en", "changes-en")):
        page.goto(page.base + prefix + "/privacy/versions/2/changes/")
        assert page.locator(".change").count() == 4
        check(page, name)

    password = "correct horse battery staple 42"
    officer = staff_create(
        email="pia@example.com",
        name="Pia",
        roles=["privacy_officer"],
        language="en",
        password=password,
        actor=Actor.cli(),
    )
    request = intake.request_register(
        staff=officer,
        rights=["access", "erasure"],
        channel="email",
        received_at=timezone.now(),
        email=EMAIL,
        identity_checked=True,
    )
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill("pia@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, "pia@example.com")
    page.wait_for_url(page.base + "/en/staff/")
    page.goto(page.base + f"/en/staff/requests/{request.pk}/")
    assert "In progress" in page.locator('[aria-current="step"]').inner_text()
    assert not page.get_by_label("Reasons, for the person").is_visible()  # the extension form opens on demand
    page.get_by_text("Extend the deadline…").click()
    assert page.get_by_label("New due date").is_visible()
    check(page, "staff-request-en")
    assert page.watch.console_errors == []
