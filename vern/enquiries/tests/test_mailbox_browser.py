"""The support mailbox on the staff pages, in headless Chromium: its health on the inbox, an emailed
enquiry with its attachments, and a telephone call logged on it (docs/mailbox.md)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries import mailbox
from vern.enquiries.models import ContactLog, Enquiry
from vern.enquiries.tests.test_browser import PASSWORD, axe, log_in
from vern.enquiries.tests.test_mailbox import letter
from vern.lib.keys import email_index

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 800}}


@pytest.fixture
def policy(default_source):
    cache.clear()
    return declaration_publish(source=default_source, actor=Actor.cli())


def test_staff_see_the_mailbox_health_the_emailed_enquiry_and_log_a_call_on_it(
    browser_page, policy, imap_server, settings
):
    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    imap_server.deliver(letter(attachment=b"%PDF-1.4 tilbud")[0])
    settings.VERN_MAILBOX_ATTACHMENT_MAX_BYTES = 10
    imap_server.deliver(letter(sender="Per Olsen <per@example.no>", attachment=b"x" * 50)[0])
    mailbox.mailbox_fetch()
    settings.VERN_MAILBOX_ATTACHMENT_MAX_BYTES = 10_000_000
    settings.IMAP_PASSWORD = "wrong"
    with pytest.raises(mailbox.MailboxError):
        mailbox.mailbox_fetch()
    enquiry = Enquiry.objects.get(email_index=email_index("per@example.no"))

    page = browser_page
    log_in(page, "sam@example.com")
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.goto(page.base + "/en/staff/enquiries/")
        health = page.get_by_role("region", name="Support mailbox")
        assert "2 emails taken as enquiries or contacts." in health.inner_text()
        assert "The mailbox refused the user name or password." in health.inner_text()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the inbox scrolls sideways at {width}"
        assert axe(page) == []
        screenshot(page, f"mailbox-inbox-{width}")
        page.goto(page.base + f"/en/staff/enquiries/{enquiry.pk}/")
        assert page.get_by_text("Email", exact=True).first.is_visible()
        assert page.get_by_text("tilbud.pdf (50 bytes)").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the enquiry page scrolls sideways at {width}"
        assert axe(page) == []
        screenshot(page, f"mailbox-enquiry-{width}")

    # He rang back: the call is a contact, with its summary, and starts the retention clock again.
    before = Enquiry.objects.get(pk=enquiry.pk).last_contact_at
    page.get_by_label("Telephone").check()
    page.get_by_label("Note").fill("Ringte, vil ha et tilbud på 40 brukere.")
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    assert page.get_by_text("The contact is logged.").is_visible()
    call = ContactLog.objects.get(enquiry=enquiry, kind=ContactLog.Kind.PHONE)
    assert call.note == "Ringte, vil ha et tilbud på 40 brukere." and call.staff is not None
    assert before <= Enquiry.objects.get(pk=enquiry.pk).last_contact_at <= timezone.now()
