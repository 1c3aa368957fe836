"""Enquiries in headless Chromium: a visitor sends them, mail arrives, sales finds them (P3)."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest
from django.core.cache import cache

from conftest import VIEWPORTS, screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries import tokens
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.helpers import next_weekday
from vern.mail.services import outbox_deliver_due
from vern.testing import OtherSite, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def live_policy(default_source):
    cache.clear()
    return declaration_publish(source=default_source, actor=Actor.cli())


@pytest.fixture
def quick_forms(monkeypatch):
    """People take longer than three seconds to fill in a form; a test need not wait that long."""
    monkeypatch.setattr(tokens, "MIN_FILL_SECONDS", 0.5)


def axe(page, selector: str = "main") -> list[str]:
    page.evaluate(AXE)
    found: list[str] = page.evaluate(f"axe.run({{include: [['{selector}']]}}).then(r => r.violations.map(v => v.id))")
    return found


def fill_contact(page, *, name: str, email: str, message: str, labels: dict[str, str]) -> None:
    page.get_by_label(labels["name"], exact=True).fill(name)
    page.get_by_label(labels["organisation"]).fill("Bergen kommune")
    page.get_by_label(labels["email"]).fill(email)
    page.get_by_label(labels["message"]).fill(message)


NB = {"name": "Navn", "organisation": "Virksomhet eller kommune", "email": "E-postadresse", "message": "Melding"}
EN = {"name": "Name", "organisation": "Company or municipality", "email": "Email address", "message": "Message"}


DEMO_LABELS = {
    "nb": {"phone": "Telefonnummer", "day": "Ønsket dag", "time": "Ønsket tid på dagen", "button": "Bestill demo"},
    "en": {"phone": "Phone number", "day": "Preferred day", "time": "Preferred time of day", "button": "Book demo"},
}


def log_in(page, email: str) -> None:
    """An English staff account signs in with password and authenticator code."""
    page.goto(page.base + "/en/staff/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    browser_second_factor(page, email)
    page.wait_for_url(page.base + "/en/staff/")


def send_contact(page, lang: str, email: str) -> None:
    page.goto(page.base + ("/en" if lang == "en" else "") + "/contact/")
    fill_contact(page, name="Kari Nordmann", email=email, message="Hva koster det?", labels=EN if lang == "en" else NB)
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Send enquiry" if lang == "en" else "Send henvendelse").click()
    page.wait_for_url(page.base + ("/en" if lang == "en" else "") + "/contact/thanks/")


def send_demo(page, lang: str, email: str) -> None:
    labels = DEMO_LABELS[lang]
    page.goto(page.base + ("/en" if lang == "en" else "") + "/demo/")
    fields = EN if lang == "en" else NB
    page.get_by_label(fields["name"], exact=True).fill("Ola Hansen")
    page.get_by_label(fields["organisation"]).fill("Fjord kommune")
    page.get_by_label(fields["email"]).fill(email)
    page.get_by_label(labels["phone"]).fill("41 23 45 67")
    page.get_by_label(labels["day"]).fill(next_weekday().isoformat())
    page.get_by_label(labels["time"]).select_option("afternoon")
    page.wait_for_timeout(600)
    # The header has a "Book demo" link too; the form's button is the last.
    page.get_by_role("button", name=labels["button"]).last.click()
    page.wait_for_url(page.base + ("/en" if lang == "en" else "") + "/demo/thanks/")


def test_p3_a_visitor_sends_an_enquiry_and_a_demo_booking_in_both_languages_and_mail_arrives(
    browser_page, live_policy, quick_forms, smtp_server
):
    page = browser_page
    send_contact(page, "nb", "kari@example.no")
    assert page.get_by_role("heading", name="Takk for henvendelsen").is_visible()
    assert page.get_by_role("heading", name="Retten til å protestere").is_visible()
    screenshot(page, "enquiry-thanks-nb-desktop")
    send_contact(page, "en", "kari.en@example.no")
    assert page.get_by_role("heading", name="Your right to object").is_visible()
    send_demo(page, "nb", "ola@fjord.example")
    assert page.get_by_role("heading", name="Takk for at du bestilte en demo").is_visible()
    send_demo(page, "en", "ola.en@fjord.example")
    assert page.get_by_role("heading", name="Thank you for booking a demo").is_visible()
    assert page.get_by_role("heading", name="Your right to object").count() == 0  # a demo rests on (b)
    assert page.watch.console_errors == [] and page.watch.other_origins == []

    sent = sorted(Enquiry.objects.values_list("kind", "language", "legal_basis"))
    assert sent == [("contact", "en", "f"), ("contact", "nb", "f"), ("demo", "en", "b"), ("demo", "nb", "b")]
    outbox_deliver_due()
    wait_for(lambda: len(smtp_server.messages) >= 4, what="the acknowledgements")
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects == {
        "kari@example.no": "Vi har fått henvendelsen din",
        "kari.en@example.no": "We have received your enquiry",
        "ola@fjord.example": "Vi har fått demobestillingen din",
        "ola.en@fjord.example": "We have received your demo request",
    }


def test_a_mistake_is_shown_beside_the_field_and_the_form_keeps_what_was_typed(browser_page, live_policy, quick_forms):
    page = browser_page
    page.goto(page.base + "/en/contact/")
    fill_contact(page, name="Kari", email="kari(at)example.no", message="Hello", labels=EN)
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Send enquiry").click()
    page.wait_for_load_state()
    email = page.get_by_label("Email address")
    assert email.input_value() == "kari(at)example.no"
    assert email.get_attribute("aria-invalid") == "true"
    assert page.get_by_text("Enter a valid email address, like name@example.no.").is_visible()
    assert page.get_by_label("Name", exact=True).input_value() == "Kari"
    assert axe(page) == []
    screenshot(page, "enquiry-error-en-desktop")
    assert not Enquiry.objects.exists()


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
@pytest.mark.parametrize("path", ["/contact/", "/en/demo/", "/contact/thanks/"])
def test_the_forms_are_accessible_and_fit_the_screen(browser_page, live_policy, path, width):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[width])
    assert page.goto(page.base + path).status == 200
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    assert axe(page) == []
    # The honeypot is there for robots, out of sight and out of the tab order for people.
    if "thanks" not in path:
        honeypot = page.locator("input[name=website]")
        box = honeypot.bounding_box()
        assert box is not None and box["x"] + box["width"] < 0  # drawn off the page
        assert honeypot.get_attribute("tabindex") == "-1"
    assert page.watch.console_errors == [] and page.watch.other_origins == []
    screenshot(page, f"enquiry{path.replace('/', '-').rstrip('-')}-{width}")


def test_sales_finds_the_enquiry_in_the_inbox_and_an_outsider_does_not(browser_page, live_policy, quick_forms):
    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    staff_create(
        email="ada@example.com", name="Ada Admin", roles=["admin"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    page = browser_page
    page.goto(page.base + "/contact/")
    fill_contact(page, name="Kari Nordmann", email="kari@example.no", message="Pris?", labels=NB)
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Send henvendelse").click()
    page.wait_for_url(page.base + "/contact/thanks/")
    enquiry = Enquiry.objects.get()

    # Someone who is not logged in is sent to the login page; an administrator is refused.
    response = page.goto(page.base + f"/staff/enquiries/{enquiry.pk}/")
    assert "/staff/login/" in page.url and "Kari" not in page.content()

    log_in(page, "ada@example.com")
    response = page.goto(page.base + f"/en/staff/enquiries/{enquiry.pk}/")
    assert response is not None and response.status == 403 and "Kari" not in page.content()
    page.context.clear_cookies()

    log_in(page, "sam@example.com")
    page.get_by_role("link", name="Enquiries").first.click()
    page.get_by_role("link", name="Kari Nordmann").click()
    page.wait_for_url(f"**/en/staff/enquiries/{enquiry.pk}/")
    assert page.get_by_text("kari@example.no").first.is_visible()
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the enquiry page scrolls sideways at {width} width"
        assert axe(page) == []
        screenshot(page, f"enquiry-staff-detail-{width}")
        page.goto(page.base + "/en/staff/enquiries/")
        assert axe(page) == []
        screenshot(page, f"enquiry-staff-inbox-{width}")
        page.goto(page.base + "/en/staff/enquiries/new/")
        assert axe(page) == []
        screenshot(page, f"enquiry-staff-register-{width}")
        page.goto(page.base + f"/en/staff/enquiries/{enquiry.pk}/")
    page.get_by_label("Telephone").check()
    page.get_by_role("button", name="Log contact").click()
    page.wait_for_load_state()
    assert page.get_by_text("The contact is logged.").is_visible()
    page.get_by_role("button", name="Became a customer").click()
    page.wait_for_load_state()
    assert page.get_by_text("Not while the customer relationship lasts").is_visible()
    page.get_by_role("button", name="Record the end").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="A customer again").is_visible()
    assert axe(page) == []
    screenshot(page, "enquiry-staff-detail-ended-customer-desktop")


def test_another_site_of_the_company_embeds_the_contact_form(browser_page, live_server, default_source, quick_forms):
    cache.clear()
    site = OtherSite()
    other = site.origin
    declaration_publish(
        source=default_source.replace(
            "  embedding_origins: []\n\nprocessors:", f"  embedding_origins: [{other}]\n\nprocessors:"
        ),
        actor=Actor.cli(),
    )
    vern = live_server.url
    site.page = f"""<!doctype html><html lang="en"><head><title>Meeting portal</title></head><body><main>
<h1>Contact the portal team</h1>
<form data-vern-enquiry="contact" action="{vern}/api/enquiries/" method="post">
  <input type="hidden" name="kind" value="contact"><input type="hidden" name="lang" value="en">
  <input type="hidden" name="token">
  <p><label for="n">Name</label> <input id="n" name="name"></p>
  <p><label for="o">Company or municipality</label> <input id="o" name="organisation"></p>
  <p><label for="e">Email address</label> <input id="e" name="email"></p>
  <p><label for="m">Message</label> <textarea id="m" name="message"></textarea></p>
  <div style="position:absolute;left:-10000px" aria-hidden="true"><input name="website" tabindex="-1"></div>
  <div data-vern-notice></div>
  <button type="submit">Send</button>
</form></main>
<script src="{vern}/static/vern/enquiry.js" defer></script></body></html>"""
    with site:
        page = browser_page
        page.goto(other + "/")
        notice = page.locator("[data-vern-notice]")
        notice.get_by_role("link", name="Read the privacy policy").wait_for()
        assert "legitimate interest (f)" in notice.inner_text()
        page.get_by_label("Name").fill("Kari Nordmann")
        page.get_by_label("Company or municipality").fill("Bergen kommune")
        page.get_by_label("Email address").fill("not an address")
        page.get_by_label("Message").fill("Hello from the portal")
        page.wait_for_timeout(600)
        page.get_by_role("button", name="Send").click()
        page.get_by_text("Enter a valid email address, like name@example.no.").wait_for()
        assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
        page.get_by_label("Email address").fill("kari@example.no")
        page.get_by_role("button", name="Send").click()
        page.get_by_text("Thank you. We have received your enquiry").wait_for()
        enquiry = Enquiry.objects.get()
        assert (enquiry.channel, enquiry.language, enquiry.name) == ("embedded", "en", "Kari Nordmann")
        assert page.context.cookies() == []  # the other site gets no cookie from vern
        # The browser reports the 422 of the first try; the script itself raised nothing.
        assert [e for e in page.watch.console_errors if "status of 422" not in e] == []


def test_sales_finds_an_enquiry_by_a_folded_search_replies_and_sees_it_answered(
    browser_page, live_policy, quick_forms, smtp_server
):
    """Issue 21: the inbox answers from the console; the reply arrives in the enquirer's language."""
    staff_create(
        email="sam@example.com", name="Sam Salg", roles=["sales"], language="en", password=PASSWORD, actor=Actor.cli()
    )
    page = browser_page
    page.goto(page.base + "/en/contact/")
    fill_contact(page, name="Per Ødegård", email="per@fjordkraft.no", message="What does it cost?", labels=EN)
    page.wait_for_timeout(600)
    page.get_by_role("button", name="Send enquiry").click()
    page.wait_for_url(page.base + "/en/contact/thanks/")
    enquiry = Enquiry.objects.get()

    log_in(page, "sam@example.com")

    page.goto(page.base + "/en/staff/enquiries/")
    page.get_by_label("Search by name, organisation, email address or phone number").fill("odeg")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/staff/enquiries/?*q=odeg*")  # a GET: the results have an address to keep
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the inbox scrolls sideways at {width} px"
        assert axe(page) == []
        screenshot(page, f"enquiry-inbox-search-{width}")
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.get_by_role("link", name="Per Ødegård").click()
    page.wait_for_url(page.base + f"/en/staff/enquiries/{enquiry.pk}/")
    assert page.get_by_label("Subject").input_value() == "Your enquiry to Kaukus AS"
    page.get_by_label("Reply", exact=True).fill("Hello Per,\n\nIt costs 1,200 kroner a month.")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the enquiry page scrolls sideways at {width} px"
        assert axe(page) == []
        screenshot(page, f"enquiry-detail-reply-{width}")
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_load_state()

    assert page.get_by_text("The reply is on its way.").is_visible()
    assert page.locator(".page-head .badge", has_text="Answered").is_visible()
    history = page.locator("section[aria-labelledby=contacts]")
    assert history.get_by_text("Your enquiry to Kaukus AS").is_visible()
    assert history.get_by_text("It costs 1,200 kroner a month.").is_visible()
    outbox_deliver_due()
    wait_for(lambda: any(m["To"] == "per@fjordkraft.no" for m in smtp_server.messages), what="the reply")
    reply = next(m for m in smtp_server.messages if m["To"] == "per@fjordkraft.no" and "Kaukus AS" in m["Subject"])
    assert "This is our answer to the enquiry you sent us on" in reply.get_body(("plain",)).get_content()
    page.reload()
    assert history.get_by_text("sent", exact=True).is_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        assert axe(page) == []
        screenshot(page, f"enquiry-detail-answered-{width}")
    # The same pages in Bokmål, the console's other language, fit a phone as well.
    page.get_by_role("button", name="Norsk").click()
    page.wait_for_url(page.base + f"/staff/enquiries/{enquiry.pk}/")
    assert page.locator(".page-head .badge", has_text="Besvart").is_visible()
    for path, name in ((f"/staff/enquiries/{enquiry.pk}/", "detail"), ("/staff/enquiries/?q=aase&owner=mine", "inbox")):
        page.goto(page.base + path)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 800})
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the {name} page in Bokmål scrolls sideways at {width} px"
            assert axe(page) == []
            screenshot(page, f"enquiry-{name}-nb-{width}")
