"""The Bokmål words of docs/glossary.md hold in the catalogue and in the shipped policy (issue 21, item 10).

Each rule pairs an English pattern in the msgid with a Bokmål phrase the msgstr must not use for it,
so a word that is right in one sense (innsyn for the right of access) is not flagged in another.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "vern/locale/nb/LC_MESSAGES/django.po"
POLICY = ROOT / "vern/declaration/default/kaukus.yaml"

# (what the English says, what the Bokmål must not say for it, the glossary's word)
# A text that names both an enquiry and a (rights) request (one registered from the other) uses
# both words; ``test_a_text_naming_both_uses_both_words`` holds it to that.
RULES = [
    (
        r"^(?!.*\b(enquir|demo booking))(?=.*(\brights? requests?\b|\brequests? about (your|the other|access)))",
        r"henvendelse",
        "forespørsel",
    ),
    (r"\brequest\b(?!.*\b(enquir|demo|booking)\w*)", r"henvendelse om rettighet", "forespørsel om rettigheter"),
    (r"^(?!.*\brequests?\b)(?=.*\b(enquir\w*|demo booking)\b)", r"forespørs(el|l)", "henvendelse"),
    (r"\b(password|sign[- ]in|log in|role|permission|second factor)\b", r"\binnsyn", "tilgang"),
    (r"\bobject\w*", r"innsigelse", "protest"),
]


def entries() -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(CATALOGUE)) if not e.obsolete]


def translation(entry: polib.POEntry) -> str:
    return entry.msgstr or " ".join(entry.msgstr_plural.values())


@pytest.mark.parametrize(("english", "forbidden", "word"), RULES)
def test_the_catalogue_uses_the_glossary_words(english, forbidden, word):
    wrong = [
        f"{e.msgid!r} => {translation(e)!r}"
        for e in entries()
        if re.search(english, e.msgid, re.I | re.S) and re.search(forbidden, translation(e), re.I)
    ]
    assert wrong == [], f"docs/glossary.md says {word!r} here:\n" + "\n".join(wrong)


def test_the_rules_find_what_they_are_for():
    """The patterns above are not dead: each catches the mistake it names."""
    samples = [
        ("Rights requests", "Henvendelser om rettigheter"),
        ("Request %(reference)s", "Henvendelse om rettigheter %(reference)s"),
        ("New enquiries", "Nye forespørsler"),
        ("Password", "Innsyn"),
        ("Objections to direct marketing", "Innsigelser mot markedsføring"),
    ]
    for (english, forbidden, _), (msgid, msgstr) in zip(RULES, samples, strict=True):
        assert re.search(english, msgid, re.I | re.S) and re.search(forbidden, msgstr, re.I), (english, msgid)


def test_a_text_naming_both_uses_both_words():
    """ "Enquiry registered as a rights request": henvendelse for the one, forespørsel for the other."""
    both = [
        e for e in entries() if re.search(r"\benquir", e.msgid, re.I) and re.search(r"\brequests?\b", e.msgid, re.I)
    ]
    assert both, "no text names both; the rules above then need no exception"
    wrong = [
        f"{e.msgid!r} => {translation(e)!r}"
        for e in both
        if not (re.search(r"henvendelse", translation(e), re.I) and re.search(r"forespørs", translation(e), re.I))
    ]
    assert wrong == []


def test_the_catalogue_never_says_henvendelse_om_rettigheter():
    wrong = [e.msgid for e in entries() if re.search(r"henvendelser? om rettighet", translation(e), re.I)]
    assert wrong == []


def test_the_shipped_policy_calls_a_rights_request_a_forespørsel():
    text = POLICY.read_text(encoding="utf-8")
    assert not re.search(r"henvendelse\w* om rettighet", text, re.I)
    assert not re.search(r"innsigelse", text, re.I)
