"""Every text exists in Norwegian Bokmål and English (R10), and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale"
NB = LOCALE / "nb" / "LC_MESSAGES" / "django.po"


def test_every_text_has_a_norwegian_translation():
    catalogue = polib.pofile(str(NB))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    untranslated += [e.msgid for e in catalogue if e.msgid_plural and not all(e.msgstr_plural.values())]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []
    assert len(catalogue.translated_entries()) > 100


def test_placeholders_survive_translation():
    import re

    def placeholders(text: str) -> list[str]:
        return sorted(re.findall(r"%\(\w+\)s", text))

    for entry in polib.pofile(str(NB)):
        if not entry.msgid_plural:
            assert placeholders(entry.msgstr) == placeholders(entry.msgid), entry.msgid
            continue
        # Bokmål has the two forms English has: the singular may leave the count out as the
        # English singular does ("this row"), the plural names what the English plural names.
        singular, plural = placeholders(entry.msgid), placeholders(entry.msgid_plural)
        assert placeholders(entry.msgstr_plural[0]) in (singular, plural), entry.msgid
        assert placeholders(entry.msgstr_plural[1]) == plural, entry.msgid_plural


def test_the_compiled_catalogue_matches_the_source(tmp_path):
    compiled = tmp_path / "django.mo"
    polib.pofile(str(NB)).save_as_mofile(str(compiled))
    committed = polib.mofile(str(NB.with_suffix(".mo")))
    fresh = polib.mofile(str(compiled))
    assert {e.msgid: e.msgstr for e in committed} == {e.msgid: e.msgstr for e in fresh}, "run `make messages`"


def test_every_translatable_text_in_the_code_is_in_the_catalogue():
    """A text added to a template or module but not to the .po would show in English to Norwegian readers."""
    import re

    known = {entry.msgid for entry in polib.pofile(str(NB))}
    root = LOCALE.parent
    missing = []
    patterns = [
        re.compile(r'{% (?:translate|trans) "([^"]+)"'),
        re.compile(r"{% (?:translate|trans) '([^']+)'"),
        re.compile(r'\b_\(\s*"([^"]+)"\s*\)'),
    ]
    for path in list(root.rglob("*.html")) + list(root.rglob("*.txt")) + list(root.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            missing += [f"{path.relative_to(root)}: {m}" for m in pattern.findall(text) if m not in known]
    assert missing == [], "run `make messages` and translate"
