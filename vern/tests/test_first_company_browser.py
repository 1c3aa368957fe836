"""A new company runs vern from the first account to a published change, in headless Chromium (issue 21).

What `make run` does first (publish the shipped declaration, print the command for the first
account), then everything through the console in both of its languages: the printed command
makes an account with the roles a one-person privacy team needs; its owner chooses a password,
sets up the second factor, answers a visitor's enquiry from the inbox, changes a paragraph of the
policy in the editor, publishes it, and finds the change on the public change page in Bokmål
and English.
"""

from __future__ import annotations

import io
import re
import shlex
from typing import Any

import pytest
from django.core.management import call_command

from vern.accounts.testing import browser_second_factor
from vern.declaration import editor
from vern.declaration.models import Draft, PolicyVersion
from vern.enquiries import tokens
from vern.enquiries.models import Enquiry
from vern.mail.services import outbox_deliver_due
from vern.ops.management.commands.run import Command as RunCommand
from vern.ops.management.commands.run import first_account_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "our very first passphrase 2026"
NB = "Du kan bruke rettighetene dine når som helst, og vi svarer innen en måned."
EN = "You may use your rights at any time, and we answer within a month."


def no_sideways_scrolling(page: Any, what: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{what} scrolls sideways by {overflow}px at {width} px"
    page.set_viewport_size({"width": 1280, "height": 800})


def test_a_new_company_goes_from_make_run_to_a_published_change_through_the_console(
    browser_page: Any, chromium: Any, live_server: Any, settings: Any, smtp_server: Any, monkeypatch: Any
) -> None:
    settings.VERN_PUBLIC_URL = live_server.url
    monkeypatch.setattr(tokens, "MIN_FILL_SECONDS", 0.5)  # people take longer than a test need wait

    # `make run`: the shipped declaration becomes version 1, and the first account's command is printed.
    RunCommand(stdout=io.StringIO())._publish_first_declaration()
    assert PolicyVersion.objects.count() == 1
    command, _ = first_account_command()
    arguments = shlex.split(command.split(" staff ", 1)[1])
    assert arguments == ["add", "--email", "you@example.com", "--role", "admin", "--role", "privacy_officer"]
    printed = io.StringIO()
    call_command("staff", *arguments, stdout=printed)
    link = re.search(r"https?://\S+(/staff/password/set/\S+/)", printed.getvalue())
    assert link is not None, printed.getvalue()

    # The owner chooses a password from the printed link, signs in and sets up the second factor.
    page = browser_page
    page.goto(page.base + link.group(1))
    page.fill("input[name=new_password1]", PASSWORD)
    page.fill("input[name=new_password2]", PASSWORD)
    page.get_by_role("button", name="Velg passord").click()
    page.wait_for_url("**/staff/login/**")
    page.get_by_label("E-postadresse").fill("you@example.com")
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_role("button", name="Logg inn").click()
    browser_second_factor(page, "you@example.com")
    page.wait_for_url(page.base + "/staff/")
    menu = page.get_by_role("navigation").first
    for group in ("Henvendelser", "Forespørsler", "Personvern"):  # the roles open the daily work
        assert menu.get_by_role("link", name=group).count() >= 1, group

    # A visitor writes through the English contact form, in a browser of their own.
    visitor = chromium.new_context()
    form = visitor.new_page()
    form.goto(page.base + "/en/contact/")
    form.get_by_label("Name", exact=True).fill("Per Ødegård")
    form.get_by_label("Company or municipality").fill("Fjord kommune")
    form.get_by_label("Email address").fill("per@fjordkraft.no")
    form.get_by_label("Message").fill("What does it cost?")
    form.wait_for_timeout(600)
    form.get_by_role("button", name="Send enquiry").click()
    form.wait_for_url(page.base + "/en/contact/thanks/")
    visitor.close()
    enquiry = Enquiry.objects.get()

    # The owner finds it in the inbox by a folded search and answers it from the console.
    page.goto(page.base + "/staff/enquiries/?q=odeg")
    page.get_by_role("link", name="Per Ødegård").click()
    page.wait_for_url(page.base + f"/staff/enquiries/{enquiry.pk}/")
    page.get_by_label("Svar", exact=True).fill("Hello Per,\n\nIt costs 1,200 kroner a month.")
    page.get_by_role("button", name="Send svar").click()
    page.wait_for_load_state()
    assert page.locator(".page-head .badge", has_text="Besvart").is_visible()
    no_sideways_scrolling(page, "the answered enquiry")
    outbox_deliver_due()
    to_per = [m.get_body(("plain",)).get_content() for m in smtp_server.messages if m["To"] == "per@fjordkraft.no"]
    replies = [body for body in to_per if "It costs 1,200 kroner a month." in body]
    assert len(replies) == 1, to_per  # besides the receipt the form sent at once
    assert "This is our answer to the enquiry you sent us on" in replies[0]  # in the enquirer's language

    # The owner changes a paragraph of the policy in the editor, in both languages, and publishes it.
    page.goto(page.base + "/staff/declaration/")
    page.get_by_role("button", name="Start et utkast").click()
    page.wait_for_url("**/staff/declaration/draft/texts/")
    index = editor.text_paths(Draft.objects.get().content).index(("rights", "intro"))
    page.fill(f"textarea[name=t{index}_nb]", NB)
    page.fill(f"textarea[name=t{index}_en]", EN)
    page.get_by_role("button", name="Lagre utkastet").first.click()
    page.wait_for_load_state()
    page.goto(page.base + "/staff/declaration/")
    page.get_by_label("Merknad til versjonslisten (hva som er endret og hvorfor)").fill("Tydeligere om rettigheter")
    page.get_by_role("button", name="Publiser utkastet").click()
    page.get_by_text("Versjon 2 er publisert.").wait_for()
    no_sideways_scrolling(page, "the declaration page")

    # The public change page shows the change in both languages, whichever language it is read in.
    for path in ("/privacy/versions/2/changes/", "/en/privacy/versions/2/changes/"):
        page.goto(page.base + path)
        for language, text in (("nb", NB), ("en", EN)):
            shown = " ".join(page.locator(f"section.changes[lang={language}] .change__text").all_inner_texts())
            shown = re.sub(r"\s+", " ", shown)
            assert all(word in shown for word in text.rstrip(".").split()), (path, language, shown)
        no_sideways_scrolling(page, path)

    # The console in its other language: the same enquiry, answered, in English.
    page.goto(page.base + f"/staff/enquiries/{enquiry.pk}/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(page.base + f"/en/staff/enquiries/{enquiry.pk}/")
    assert page.locator(".page-head .badge", has_text="Answered").is_visible()
    assert page.watch.console_errors == []
