"""The declaration editor in headless Chromium: a privacy officer changes a paragraph, publishes it,
and finds the change on the public change page in both languages (issue 21)."""

from __future__ import annotations

import re
from pathlib import Path

import axe_playwright_python
import pytest

from conftest import screenshot
from vern.accounts.services import staff_create
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.declaration import editor
from vern.declaration.models import Draft, PolicyVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
PASSWORD = "correct horse battery staple 42"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
NB = "Du har disse rettighetene, og vi hjelper deg gjerne med å bruke dem."
EN = "You have these rights, and we gladly help you use them."


@pytest.fixture
def published_live(default_source):
    from vern.declaration.services import declaration_publish

    return declaration_publish(source=default_source, actor=Actor.cli())


def looks_right(page, name: str) -> None:
    """At a desktop's and a phone's width: no sideways scrolling, no axe violations, a picture kept."""
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}"
        page.evaluate(AXE)
        violations = page.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
        assert violations == [], (name, width, violations)
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(WIDTHS["desktop"])


def officer_signed_in(page, *, language: str) -> None:
    """Pia, a privacy officer whose console is in ``language``, signed in with password and code."""
    staff_create(
        email="pia@example.com",
        name="Pia Personvern",
        roles=["privacy_officer"],
        language=language,
        password=PASSWORD,
        actor=Actor.cli(),
    )
    english = language == "en"
    page.goto(page.base + ("/en/staff/login/" if english else "/staff/login/"))
    page.get_by_label("Email address" if english else "E-postadresse").fill("pia@example.com")
    page.get_by_label("Password" if english else "Passord").fill(PASSWORD)
    page.get_by_role("button", name="Log in" if english else "Logg inn").click()
    browser_second_factor(page, "pia@example.com")


def test_an_officer_edits_a_paragraph_publishes_it_and_sees_it_on_the_change_page(browser_page, published_live):
    page = browser_page
    officer_signed_in(page, language="en")
    page.goto(page.base + "/en/staff/declaration/")
    assert page.get_by_text("In the database.").is_visible()
    page.get_by_role("button", name="Start a draft").click()
    page.wait_for_url("**/en/staff/declaration/draft/texts/")

    index = editor.text_paths(Draft.objects.get().content).index(("rights", "intro"))
    page.fill(f"textarea[name=t{index}_nb]", NB)
    page.fill(f"textarea[name=t{index}_en]", EN)
    looks_right(page, "declaration-editor-texts")
    page.get_by_role("button", name="Save the draft").first.click()
    page.get_by_text("Saved. The draft is not published yet.").wait_for()

    for part, name in (
        ("purposes", "Purposes"),
        ("cookies", "Cookies"),
        ("processors", "Processors"),
        ("retention", "Retention rules"),
    ):
        page.get_by_role("navigation", name="Parts of the draft").get_by_role("link", name=name).click()
        page.wait_for_url(f"**/draft/{part}/")
        looks_right(page, f"declaration-editor-{part}")

    page.goto(page.base + "/en/staff/declaration/")
    assert page.get_by_text("The draft is valid and complete.").is_visible()
    assert page.locator("section[lang=en] ins").filter(has_text="gladly").count() >= 1
    looks_right(page, "declaration-overview-draft")
    page.get_by_label("Note for the version list (what changed and why)").fill("Clearer rights section")
    page.get_by_role("button", name="Publish the draft").click()
    page.get_by_text("Version 2 is published.").wait_for()
    assert PolicyVersion.objects.count() == 2 and not Draft.objects.exists()

    for path in ("/en/privacy/versions/2/changes/", "/privacy/versions/2/changes/"):
        page.goto(page.base + path)
        for language, text in (("nb", NB), ("en", EN)):
            section = page.locator(f"section.changes[lang={language}]")
            shown = " ".join(section.locator(".change__text").all_inner_texts())
            without_removed = re.sub(r"\s+", " ", shown)
            assert all(word in without_removed for word in text.rstrip(".").split()), (path, language, shown)
        looks_right(page, f"declaration-changes{'-en' if path.startswith('/en/') else ''}")
    assert page.watch.console_errors == []


def test_an_officer_sees_a_problem_on_its_field_and_the_one_language_warning(browser_page, published_live):
    page = browser_page
    officer_signed_in(page, language="nb")
    page.goto(page.base + "/staff/declaration/")
    page.get_by_role("button", name="Start et utkast").click()
    page.wait_for_url("**/staff/declaration/draft/texts/")
    page.goto(page.base + "/staff/declaration/draft/processors/")
    page.fill("input[name=processors-0-agreement_date]", "")
    page.get_by_role("button", name="Lagre utkastet").click()
    error = page.locator("#id_processors-0-agreement_date_error")
    error.wait_for()
    assert "en aktiv databehandler må ha datoen" in error.inner_text()  # in the console's language
    assert page.get_by_text("Utkastet ble ikke lagret. Problemene er merket på feltene nedenfor.").is_visible()
    looks_right(page, "declaration-editor-error")
    assert Draft.objects.get().revision == 1

    page.goto(page.base + "/staff/declaration/draft/texts/")
    index = editor.text_paths(Draft.objects.get().content).index(("policy", "lead"))
    page.fill(f"textarea[name=t{index}_nb]", "Slik behandler vi personopplysninger.")
    page.get_by_role("button", name="Lagre utkastet").first.click()
    page.get_by_text("Lagret. Utkastet er ikke publisert ennå.").wait_for()
    assert page.get_by_text("Bare den norske teksten er endret").is_visible()
    page.goto(page.base + "/staff/declaration/")
    assert page.get_by_text("Utkastet består kontrollene, men 1 tekst er endret på bare ett språk:").is_visible()
    assert not page.get_by_text("Utkastet er gyldig og fullstendig.").is_visible()
    assert page.locator("section[lang=nb] ins").filter(has_text="vi").count() >= 1  # the lead, changed
    looks_right(page, "declaration-overview-one-language")


def test_with_vern_declaration_set_the_page_names_the_file_and_offers_no_editor(browser_page, published_live, settings):
    settings.VERN_DECLARATION_IN_FILE = True
    page = browser_page
    officer_signed_in(page, language="en")
    page.goto(page.base + "/en/staff/declaration/")
    assert page.get_by_text("In a file, set with VERN_DECLARATION.").is_visible()
    assert page.get_by_role("button", name="Start a draft").count() == 0
    looks_right(page, "declaration-overview-file")
