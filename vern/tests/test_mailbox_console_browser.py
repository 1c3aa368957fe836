"""A mailed rights request registered in one click from the enquiry's page, in headless Chromium,
in both languages and at two widths (docs/mailbox.md)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries import mailbox
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.test_browser import PASSWORD, axe, log_in
from vern.enquiries.tests.test_mailbox import letter
from vern.lib.keys import email_index
from vern.rights.models import Request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 800}}
TEXTS = {
    "en": {"prefix": "/en", "heading": "This looks like a rights request", "access": "Access", "erasure": "Erasure"},
    "nb": {
        "prefix": "",
        "heading": "Dette ser ut som en forespørsel om rettigheter",
        "access": "Innsyn",
        "erasure": "Sletting",
    },
}


@pytest.fixture
def policy(default_source):
    cache.clear()
    return declaration_publish(source=default_source, actor=Actor.cli())


def test_the_privacy_officer_registers_a_mailed_request_in_one_click_from_the_inbox(browser_page, policy, imap_server):
    staff_create(
        email="pia@example.com",
        name="Pia Personvern",
        roles=["privacy_officer"],
        language="en",
        password=PASSWORD,
        actor=Actor.cli(),
    )
    imap_server.deliver(
        letter(
            subject="Innsynsbegjæring",
            text="Hei! Jeg ber om innsyn i personopplysningene dere har om meg.",
            attachment=b"%PDF-1.4 legitimasjon",
        )[0]
    )
    imap_server.deliver(letter(sender="Per Olsen <per@example.no>", subject="Pris", text="Hva koster det?")[0])
    mailbox.mailbox_fetch()
    asking = Enquiry.objects.get(email_index=email_index("kari.nordmann@example.no"))

    page = browser_page
    log_in(page, "pia@example.com")
    for language, words in TEXTS.items():
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.goto(page.base + words["prefix"] + f"/staff/enquiries/{asking.pk}/")
            choice = page.get_by_role("region", name=words["heading"])
            assert choice.is_visible()
            # The guess: access is ticked, erasure is not; staff confirm.
            assert choice.get_by_label(words["access"]).is_checked()
            assert not choice.get_by_label(words["erasure"]).is_checked()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the enquiry page scrolls sideways at {width} ({language})"
            assert axe(page) == []
            screenshot(page, f"mailbox-rights-choice-{language}-{width}")

    # The inbox marks the mail that looks like a request, and not the question about price.
    page.set_viewport_size(WIDTHS["1280"])
    page.goto(page.base + "/en/staff/enquiries/")
    row = page.get_by_role("row").filter(has_text="Kari Nordmann")
    assert row.get_by_text("rights request?").is_visible()
    assert page.get_by_role("row").filter(has_text="Per Olsen").get_by_text("rights request?").count() == 0

    # The attachment downloads as a file with its name.
    page.get_by_role("link", name="Kari Nordmann").click()
    page.wait_for_url(f"**/en/staff/enquiries/{asking.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="tilbud.pdf").click()
    assert download.value.suggested_filename == "tilbud.pdf"

    # One click: the request is in the queue, received when the mail came, and the page says so.
    page.get_by_role("button", name="This is a rights request").click()
    page.wait_for_url("**/en/staff/requests/*/")
    page.wait_for_load_state()
    request = Request.objects.get()
    assert page.url.endswith(f"/en/staff/requests/{request.pk}/")
    assert page.get_by_text("The rights request is registered, received when the email arrived.").is_visible()
    assert request.received_at == asking.received_at and request.rights == ["access"]
    assert request.channel == "email" and request.status == "awaiting_confirmation"
    screenshot(page, "mailbox-rights-registered-1280")

    # Back on the enquiry: closed, linked to the request, and a second click registers nothing.
    page.get_by_role("link", name="from the enquiry in the inbox").click()
    page.wait_for_url(f"**/en/staff/enquiries/{asking.pk}/")
    page.wait_for_load_state()
    assert page.get_by_text("Registered as a rights request.").is_visible()
    assert page.get_by_role("button", name="This is a rights request").count() == 0
    assert page.get_by_role("button", name="Send reply").count() == 0
    page.get_by_role("link", name="Open the rights request").click()
    page.wait_for_url(f"**/en/staff/requests/{request.pk}/")
    assert page.url.endswith(f"/en/staff/requests/{request.pk}/")
    assert Request.objects.count() == 1 and Enquiry.objects.get(pk=asking.pk).state == "closed"
