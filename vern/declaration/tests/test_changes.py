"""The public "what changed" page lists every change of the rendered policy, paragraph by paragraph, in
both languages (P20): a changed paragraph, a table row and a cookie are each found on it."""

from __future__ import annotations

import re

import pytest

from vern.audit.services import Actor
from vern.declaration.changes import compare, policy_blocks
from vern.declaration.services import declaration_publish

pytestmark = pytest.mark.django_db

EDITS = [
    # a paragraph of §9, in both languages
    ("Vi svarer normalt innen 30 dager.", "Vi svarer normalt innen 14 dager."),
    ("We normally respond within 30 days.", "We normally respond within 14 days."),
    # a row of the purposes table (§4)
    ("nb: Kontaktinformasjon, innholdet i henvendelsen", "nb: Kontaktinformasjon, innholdet i henvendelsen, vedlegg"),
    ("en: Contact information, content of the enquiry", "en: Contact information, content of the enquiry, attachments"),
    # a cookie of the cookie table (§5)
    (
        "purpose: {nb: Innloggingsinformasjon, en: Login information}",
        "purpose: {nb: Holder deg innlogget, en: Keeps you logged in}",
    ),
    # a list item added to §11
    (
        "    - {nb: sikkerhetskopier, en: backups}\n",
        "    - {nb: sikkerhetskopier, en: backups}\n    - {nb: tofaktorinnlogging, en: two-factor login}\n",
    ),
]


@pytest.fixture
def changed(published, default_source):
    source = default_source
    for old, new in EDITS:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return declaration_publish(source=source, actor=Actor.cli(), note="Raskere svar")


def changes_of(html: str, language: str) -> list[str]:
    """The text of each change listed for one language, with what it is (changed paragraph, …)."""
    section = html.split(f'id="changes-{language}"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r'<li class="change change--(\w+)">(.*?)</li>', section, flags=re.S)
    return [f"{kind}: {re.sub(r'<[^>]+>', '', body).split(chr(10), 2)[-1].strip()}" for kind, body in items]


def test_p20_the_change_page_shows_a_changed_paragraph_table_row_and_cookie_in_both_languages(client, changed):
    for prefix in ("", "/en"):
        response = client.get(f"{prefix}/privacy/versions/2/changes/")
        assert response.status_code == 200
        html = response.content.decode()
        nb = " | ".join(changes_of(html, "nb"))
        en = " | ".join(changes_of(html, "en"))
        # the paragraph, word by word
        assert re.search(r"innen <del>.*?30 </del><ins>.*?14 </ins>dager", html)
        assert re.search(r"within <del>.*?30 </del><ins>.*?14 </ins>days", html)
        # the table row, named by its columns
        assert "changed: Formål: Besvare henvendelser" in nb and "vedlegg" in nb
        assert "changed: Purpose: Responding to enquiries" in en and "attachments" in en
        # the cookie, named by its columns
        assert "Navn: _moeteadm_session" in nb and "Holder deg innlogget" in nb and "Innloggingsinformasjon" in nb
        assert "Name: _moeteadm_session" in en and "Keeps you logged in" in en and "Login information" in en
        # a new list item
        assert "added: Lagt til: tofaktorinnlogging" in nb and "added: Added: two-factor login" in en
        # nothing else: the version line changes with every version and is not a change of the text
        assert len(changes_of(html, "nb")) == len(changes_of(html, "en")) == 4
        assert "versjon 1" not in nb and "version 1" not in en
        assert "---" not in html and "purpose: {" not in html  # readable text, not YAML


def test_the_page_language_comes_first_and_each_language_is_marked_for_screen_readers(client, changed):
    norwegian = client.get("/privacy/versions/2/changes/").content.decode()
    english = client.get("/en/privacy/versions/2/changes/").content.decode()
    assert norwegian.index('id="changes-nb"') < norwegian.index('id="changes-en"')
    assert english.index('id="changes-en"') < english.index('id="changes-nb"')
    assert 'id="changes-en" lang="en"' in norwegian and 'id="changes-nb" lang="nb"' in english
    assert "Endret" in norwegian.split('id="changes-nb"', 1)[1].split("</section>", 1)[0]
    assert "Changed" in norwegian.split('id="changes-en"', 1)[1].split("</section>", 1)[0]


def test_a_version_with_the_same_text_says_so_in_each_language(client, published, default_source):
    # Where the forms may be embedded is not part of the policy's text.
    source = default_source.replace(
        "  embedding_origins: []\n\nprocessors:", "  embedding_origins: [https://moteadm.kaukus.no]\n\nprocessors:"
    )
    assert source != default_source
    declaration_publish(source=source, actor=Actor.cli())
    html = client.get("/en/privacy/versions/2/changes/").content.decode()
    assert html.count("The text is the same in this language.") == 1  # the English section
    assert "Teksten er lik på dette språket." in html  # the Norwegian section, in Norwegian


def test_the_blocks_of_the_policy_cover_every_section_and_no_block_is_empty(published):
    blocks = policy_blocks(published, "en")
    sections = {block.section for block in blocks}
    assert len([s for s in sections if re.match(r"\d+\. ", s)]) == 13
    assert all(block.text for block in blocks)
    assert {"paragraph", "item", "fact", "row", "cookie", "heading"} <= {block.kind for block in blocks}
    assert compare(blocks, blocks) == []
