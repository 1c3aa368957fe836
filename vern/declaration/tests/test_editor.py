"""The privacy officer edits the declaration in the console: drafts in the database, the checks of
`vern declaration check` on the fields, a warning for texts changed in one language, and publishing
with the password and second factor (issue 21, ADR 0013)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.declaration import editor
from vern.declaration.models import Draft, PolicyVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client, personas, published) -> Any:
    staff_login(client, personas.privacy_officer)
    return client


def start(client: Client) -> Draft:
    response = client.post("/en/staff/declaration/draft/start/")
    assert response.status_code == 303 and response["Location"] == "/en/staff/declaration/draft/texts/"
    return Draft.objects.get()


def texts_data(draft: Draft) -> dict[str, Any]:
    form = editor.TextsForm(content=draft.content)
    data: dict[str, Any] = {name: field.initial for name, field in form.fields.items()}
    data["revision"] = draft.revision
    return data


def text_field(draft: Draft, loc: editor.Loc, language: str) -> str:
    return f"t{editor.text_paths(draft.content).index(loc)}_{language}"


def table_data(draft: Draft, key: str) -> dict[str, Any]:
    table = editor.TABLES[key]
    rows = table.rows(draft.content)
    data: dict[str, Any] = {
        f"{key}-TOTAL_FORMS": len(rows),
        f"{key}-INITIAL_FORMS": len(rows),
        "revision": draft.revision,
        "save": "1",
    }
    for index, row in enumerate(rows):
        for name, value in editor.RowForm.initial_of(table, row).items():
            data[f"{key}-{index}-{name}"] = value
    return data


def change_text(html: str) -> str:
    """The change page's new texts as a reader sees them: removed words and the screen reader's
    "Added:" left out, so a changed paragraph reads as it does now."""
    html = re.sub(r"<del>.*?</del>", "", html, flags=re.S)
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def row_index(draft: Draft, key: str, field: str, value: str) -> int:
    return next(i for i, row in enumerate(editor.TABLES[key].rows(draft.content)) if row[field] == value)


def test_a_draft_starts_as_a_copy_of_the_published_version_and_nothing_is_public_until_published(officer, published):
    page = officer.get("/en/staff/declaration/").content.decode()
    assert 'data-source="database"' in page and "no file on the server is edited" in page
    assert "kaukus.yaml" not in page  # the shipped file is not offered for editing
    draft = start(officer)
    assert draft.content == published.content and draft.based_on == published
    assert PolicyVersion.objects.count() == 1
    assert "The draft is the same as the published version." in officer.get("/en/staff/declaration/").content.decode()
    officer.post("/en/staff/declaration/draft/discard/")
    assert not Draft.objects.exists() and PolicyVersion.objects.count() == 1
    assert Entry.objects.filter(action="policy.draft_discard").count() == 1


def test_editing_a_paragraph_a_processor_and_a_cookie_then_publishing_shows_each_on_the_change_page(officer, personas):
    draft = start(officer)
    # A paragraph of the policy, in both languages.
    data = texts_data(draft)
    intro = ("rights", "intro")
    data[text_field(draft, intro, "nb")] = "Du har disse rettighetene, og vi hjelper deg gjerne med dem."
    data[text_field(draft, intro, "en")] = "You have these rights, and we gladly help you use them."
    response = officer.post("/en/staff/declaration/draft/texts/", data)
    assert response.status_code == 303, response.content.decode()[:3000]
    # A row of the processor table.
    draft.refresh_from_db()
    data = table_data(draft, "processors")
    first = editor.TABLES["processors"].rows(draft.content)[0]["id"]
    index = row_index(draft, "processors", "id", first)
    data[f"processors-{index}-service_nb"] = "Drift av nettstedet og e-post i Norge"
    data[f"processors-{index}-service_en"] = "Running the website and email in Norway"
    assert officer.post("/en/staff/declaration/draft/processors/", data).status_code == 303
    # A cookie.
    draft.refresh_from_db()
    data = table_data(draft, "cookies")
    data["cookies-0-purpose_nb"] = "Husker valget ditt om informasjonskapsler i seks måneder."
    data["cookies-0-purpose_en"] = "Remembers your cookie choice for six months."
    assert officer.post("/en/staff/declaration/draft/cookies/", data).status_code == 303

    draft.refresh_from_db()
    assert draft.revision == 4 and draft.author == personas.privacy_officer
    overview = officer.get("/en/staff/declaration/").content.decode()
    assert "The draft is valid and complete." in overview
    assert "we gladly help you use them" in overview and "vi hjelper deg gjerne" in overview  # the rendered diff
    assert "yaml" not in overview.lower()

    response = officer.post("/staff/declaration/publish/", {"note": "Clearer texts", "significant": "yes"})
    assert response.status_code == 302
    version = PolicyVersion.objects.get(number=2)
    assert version.note == "Clearer texts" and version.significant and version.published_by.startswith("staff:")
    assert not Draft.objects.exists()
    assert Entry.objects.filter(action="policy.publish", object_id="2").exists()
    saves = Entry.objects.filter(action="policy.draft_save", actor_id=personas.privacy_officer.pk)
    assert sorted(entry.data["part"] for entry in saves) == ["cookies", "processors", "texts"]
    assert Entry.objects.filter(action="policy.draft_start", data__based_on=1).count() == 1
    for path, texts in (
        (
            "/privacy/versions/2/changes/",
            ["vi hjelper deg gjerne med dem", "Drift av nettstedet og e-post i Norge", "i seks måneder"],
        ),
        (
            "/en/privacy/versions/2/changes/",
            ["we gladly help you use them", "Running the website and email in Norway", "for six months"],
        ),
    ):
        page = change_text(officer.get(path).content.decode())
        for text in texts:
            assert text in page, f"{text!r} is not on {path}"
    assert "Running the website and email in Norway" in officer.get("/en/privacy/").content.decode()


def test_a_rule_error_is_shown_on_its_field_and_nothing_is_saved(officer):
    draft = start(officer)
    data = table_data(draft, "processors")
    index = next(
        i
        for i, row in enumerate(editor.TABLES["processors"].rows(draft.content))
        if row["status"] == "active" and row["agreement_date"]
    )
    data[f"processors-{index}-agreement_date"] = ""
    response = officer.post("/en/staff/declaration/draft/processors/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "The draft was not saved. The problems are marked on the fields below." in page
    date_error = page.split(f'id="id_processors-{index}-agreement_date_error"', 1)[1].split("</ul>", 1)[0]
    assert "an active processor needs the date of its data processing agreement" in date_error
    # The same check, in the console's other language.
    norsk = officer.post("/staff/declaration/draft/processors/", data).content.decode()
    date_error = norsk.split(f'id="id_processors-{index}-agreement_date_error"', 1)[1].split("</ul>", 1)[0]
    assert "en aktiv databehandler må ha datoen for databehandleravtalen (art. 28)" in date_error
    # A text left empty is the schema's error, on the field too.
    data[f"processors-{index}-agreement_date"] = "2026-11-29"
    data[f"processors-{index}-service_en"] = ""
    empty = officer.post("/en/staff/declaration/draft/processors/", data).content.decode()
    assert "Fill this in." in empty.split(f'id="id_processors-{index}-service_en_error"')[1]
    draft.refresh_from_db()
    assert draft.revision == 1 and draft.content == PolicyVersion.objects.get().content
    assert PolicyVersion.objects.count() == 1


def test_a_cookie_row_can_be_added_and_removed_and_a_bad_one_is_refused_on_its_fields(officer):
    draft = start(officer)
    count = len(draft.content["cookies"]["cookies"])
    data = table_data(draft, "cookies")
    added = officer.post("/en/staff/declaration/draft/cookies/", {**data, "add": "1"})
    assert added.status_code == 200 and f'name="cookies-{count}-name"' in added.content.decode()
    data[f"cookies-{count}-name"] = "kaukus_test"
    data[f"cookies-{count}-provider"] = "Kaukus"
    data[f"cookies-{count}-category"] = draft.content["cookies"]["categories"][0]["id"]
    data[f"cookies-{count}-duration"] = "2 years"
    data[f"cookies-{count}-party"] = "first"
    data[f"cookies-{count}-set_by"] = "other"
    data[f"cookies-{count}-purpose_nb"] = "Tester."
    data[f"cookies-{count}-purpose_en"] = "Tests."
    data["cookies-TOTAL_FORMS"] = count + 1
    refused = officer.post("/en/staff/declaration/draft/cookies/", data)
    assert refused.status_code == 400
    error = refused.content.decode().split(f'id="id_cookies-{count}-duration_error"', 1)[1].split("</ul>", 1)[0]
    assert "a cookie may live at most 13 months" in error
    data[f"cookies-{count}-duration"] = "12 months"
    assert officer.post("/en/staff/declaration/draft/cookies/", data).status_code == 303
    draft.refresh_from_db()
    assert draft.content["cookies"]["cookies"][-1]["name"] == "kaukus_test"
    data = table_data(draft, "cookies")
    data[f"cookies-{count}-DELETE"] = "on"
    assert officer.post("/en/staff/declaration/draft/cookies/", data).status_code == 303
    draft.refresh_from_db()
    assert len(draft.content["cookies"]["cookies"]) == count


def test_a_retention_rule_is_edited_and_keeps_its_exceptions(officer):
    draft = start(officer)
    rules = editor.TABLES["retention"].rows(draft.content)
    index = next(i for i, rule in enumerate(rules) if rule["exceptions"])
    data = table_data(draft, "retention")
    data[f"retention-{index}-clock_text_nb"] = "etter siste kontakt med oss"
    data[f"retention-{index}-clock_text_en"] = "after your last contact with us"
    assert officer.post("/en/staff/declaration/draft/retention/", data).status_code == 303
    draft.refresh_from_db()
    rule = draft.content["retention"]["rules"][index]
    assert rule["clock_text"] == {"nb": "etter siste kontakt med oss", "en": "after your last contact with us"}
    assert rule["exceptions"] == rules[index]["exceptions"]


def test_a_text_changed_in_one_language_is_warned_about_and_needs_a_tick_to_publish(officer):
    draft = start(officer)
    data = texts_data(draft)
    name = text_field(draft, ("policy", "lead"), "nb")
    data[name] = data[name] + " Vi har oppdatert teksten."
    assert officer.post("/en/staff/declaration/draft/texts/", data).status_code == 303
    editor_page = officer.get("/en/staff/declaration/draft/texts/").content.decode()
    assert "Only the Norwegian text changed; check that the English says the same." in editor_page
    overview = officer.get("/en/staff/declaration/").content.decode()
    assert "The draft passes the checks, but 1 text changed in one language only:" in overview
    assert "About the policy › Lead paragraph" in overview
    assert "Vi har oppdatert teksten." in overview  # the lead paragraph is in the rendered diff too
    assert "valid and complete" not in overview
    refused = officer.post("/en/staff/declaration/publish/", {"note": "nb only"}, follow=True)
    assert "Some texts changed in one language only." in refused.content.decode()
    assert PolicyVersion.objects.count() == 1
    officer.post("/en/staff/declaration/publish/", {"note": "nb only", "languages_checked": "yes"})
    assert PolicyVersion.objects.count() == 2


def test_p18_publishing_a_draft_needs_the_password_again_and_the_second_factor(officer, personas):
    start(officer)
    data = texts_data(Draft.objects.get())
    name = text_field(Draft.objects.get(), ("rights", "intro"), "en")
    data[name] = "Changed."
    data[name.replace("_en", "_nb")] = "Endret."
    assert officer.post("/en/staff/declaration/draft/texts/", data).status_code == 303
    with time_machine.travel(timezone.now(), tick=False) as clock:
        staff_login(officer, personas.privacy_officer)
        clock.shift(11 * 60)
        late = officer.post("/staff/declaration/publish/", {"note": "x"})
        assert late.status_code == 303 and late["Location"].startswith("/staff/confirm-password/")
    assert PolicyVersion.objects.count() == 1
    password_only = Client()
    password_only.force_login(personas.privacy_officer)
    response = password_only.post("/staff/declaration/publish/", {"note": "x"})
    assert response.status_code == 303 and "/second-factor/" in response["Location"]
    assert PolicyVersion.objects.count() == 1 and Draft.objects.exists()


def test_p24_a_role_without_the_declaration_capability_cannot_edit_or_start_a_draft(client, personas, published):
    staff_login(client, personas.sales)
    assert client.get("/en/staff/declaration/draft/texts/").status_code == 403
    assert client.post("/en/staff/declaration/draft/start/").status_code == 403
    assert client.post("/en/staff/declaration/draft/cookies/", {"save": "1"}).status_code == 403
    assert not Draft.objects.exists()


def test_a_form_saved_over_a_newer_save_is_refused(officer):
    draft = start(officer)
    data = texts_data(draft)
    data[text_field(draft, ("rights", "intro"), "nb")] = "Først."
    data[text_field(draft, ("rights", "intro"), "en")] = "First."
    assert officer.post("/en/staff/declaration/draft/texts/", data).status_code == 303
    data[text_field(draft, ("rights", "intro"), "nb")] = "Senere."  # the same revision posted again
    response = officer.post("/en/staff/declaration/draft/texts/", data)
    assert response.status_code == 409 and "Someone saved the draft after you opened this page" in (
        response.content.decode()
    )
    draft.refresh_from_db()
    assert draft.content["rights"]["intro"]["nb"] == "Først."


def test_with_vern_declaration_set_the_console_shows_the_file_and_edits_nothing(officer, settings, tmp_path):
    source = settings.VERN_DECLARATION.read_text(encoding="utf-8")
    kept = tmp_path / "our-policy.yaml"
    kept.write_text(source.replace("support@kaukus.no", "personvern@kaukus.no"))
    settings.VERN_DECLARATION = kept
    settings.VERN_DECLARATION_IN_FILE = True
    page = officer.get("/en/staff/declaration/").content.decode()
    assert 'data-source="file"' in page and "the editor is closed while VERN_DECLARATION is set" in page
    assert "our-policy.yaml" in page and "Start a draft" not in page
    assert "personvern@kaukus.no" in page  # the rendered change the file would make
    closed = officer.get("/en/staff/declaration/draft/texts/")
    assert closed.status_code == 200 and "so the console does not edit it" in closed.content.decode()
    assert officer.post("/en/staff/declaration/draft/texts/", {"save": "1"}).status_code == 409
    officer.post("/en/staff/declaration/draft/start/")
    assert not Draft.objects.exists()
    officer.post("/staff/declaration/publish/", {"note": "From git"})
    assert PolicyVersion.objects.get(number=2).note == "From git"


def test_p13_a_cookie_vern_sets_cannot_be_removed_or_given_another_lifetime_in_the_editor(officer):
    draft = start(officer)
    index = row_index(draft, "cookies", "name", "vern_session")
    data = table_data(draft, "cookies")
    data[f"cookies-{index}-duration"] = "1 month"
    wrong = officer.post("/en/staff/declaration/draft/cookies/", data)
    assert wrong.status_code == 400
    error = wrong.content.decode().split(f'id="id_cookies-{index}-duration_error"', 1)[1].split("</ul>", 1)[0]
    assert "but the declaration says 1 month (P13)" in error
    data = table_data(draft, "cookies")
    data[f"cookies-{index}-DELETE"] = "on"
    removed = officer.post("/en/staff/declaration/draft/cookies/", data)
    assert removed.status_code == 400
    assert "vern sets the cookie &#x27;vern_session&#x27;, but the declaration does not list it (P8)." in (
        removed.content.decode()
    )
    draft.refresh_from_db()
    assert draft.revision == 1 and draft.content == PolicyVersion.objects.get().content


def test_a_draft_with_a_problem_names_its_place_in_words_and_cannot_be_published(officer):
    draft = start(officer)
    content = draft.content
    content["processors"][0]["agreement_date"] = None
    Draft.objects.filter(pk=draft.pk).update(content=content)
    overview = officer.get("/en/staff/declaration/").content.decode()
    assert "The draft has 1 problem and cannot be published:" in overview
    assert (
        "Processors › hetzner › Date of the data processing agreement: an active processor needs the date" in overview
    )
    assert "(line" not in overview and "Publish the draft" not in overview
    officer.post("/en/staff/declaration/publish/", {"note": "x"})
    assert PolicyVersion.objects.count() == 1


def test_publishing_refuses_a_draft_that_changed_after_it_was_looked_at_or_fell_behind(officer, default_source):
    draft = start(officer)
    data = texts_data(draft)
    intro = ("rights", "intro")
    data[text_field(draft, intro, "nb")] = "Du har disse rettighetene, og vi hjelper deg gjerne med dem."
    data[text_field(draft, intro, "en")] = "You have these rights, and we gladly help you use them."
    looked_at = draft.revision
    assert officer.post("/en/staff/declaration/draft/texts/", data).status_code == 303  # saved since
    refused = officer.post("/en/staff/declaration/publish/", {"revision": str(looked_at), "note": "x"}, follow=True)
    assert "The draft changed after you looked at it; nothing was published." in refused.content.decode()
    assert PolicyVersion.objects.count() == 1 and Draft.objects.exists()

    # Someone published from elsewhere meanwhile: publishing this draft would undo that version.
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    declaration_publish(source=default_source.replace("Vi svarer normalt", "Vi svarer"), actor=Actor.cli())
    draft.refresh_from_db()
    refused = officer.post(
        "/en/staff/declaration/publish/", {"revision": str(draft.revision), "note": "x"}, follow=True
    )
    assert "A newer version was published after this draft was started" in refused.content.decode()
    assert PolicyVersion.objects.count() == 2 and Draft.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_officers_starting_a_draft_at_the_same_moment_share_one_draft(personas, published):
    """A row lock cannot keep the draft single while there is no row yet: the database does."""
    from django.db import connection

    from vern.declaration.services import draft_start

    barrier = threading.Barrier(4)
    started: list[int] = []
    errors: list[BaseException] = []

    def officer_starts() -> None:
        try:
            barrier.wait()
            started.append(draft_start(user=personas.privacy_officer).pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=officer_starts) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Draft.objects.count() == 1
    assert set(started) == {Draft.objects.get().pk}
    assert Entry.objects.filter(action="policy.draft_start").count() == 1
