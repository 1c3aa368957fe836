"""Searching names, organisations and email addresses that are encrypted at rest.

Each word of an enquiry's name, organisation and email address is folded (case,
accents and the Nordic letters: "Ødegård" and "Odegaard" both become
"odegard", "Åse" and "Aase" both "ase", "Bræk" and "Braek" both "braek") and
stored as keyed digests of the word and of its starts from three letters on
("kaukus" → "kau", "kauk", "kauku", "kaukus"). A search folds and digests the
words it is given and asks for enquiries that have all of them, through an
index. The database never sees a name; whoever reads the table without the
index key learns how many word starts an enquiry has and which enquiries share
one (docs/enquiries.md, "Search").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

from vern.lib.crypto import keyed_digest
from vern.lib.keys import digest, digests

WORD = re.compile(r"\w+")
MIN_PREFIX = 3
MAX_WORD = 32
MAX_QUERY_WORDS = 6
# The version of the folding is part of the key's purpose: digests of an older folding can never
# match a search, and migration 0004 rebuilt them.
PURPOSE = "enquiries:search:folded-1"
# Letters that Unicode does not decompose into a base letter and an accent.
LETTERS = str.maketrans({"ø": "o", "æ": "ae", "å": "a", "œ": "oe", "ð": "d", "đ": "d", "þ": "th", "ł": "l"})
DOUBLE_A = re.compile(r"a{2,}")


def fold(text: str) -> str:
    """Case, accents and the Nordic spellings folded to one form: å and aa to a, ø to o, æ to ae."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(LETTERS)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return DOUBLE_A.sub("a", unicodedata.normalize("NFC", text))


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def index_digests(*texts: str, root_key: bytes | None = None) -> set[str]:
    """The digests stored for these texts, under the current index key or the one given
    (``vern keys rotate`` and ``vern keys status`` ask for each configured key)."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            word = word[:MAX_WORD]
            terms.add(word)
            terms.update(word[:length] for length in range(MIN_PREFIX, len(word)))
    if root_key is not None:
        return {keyed_digest(term, purpose=PURPOSE, root_key=root_key) for term in terms}
    return {digest(term, purpose=PURPOSE) for term in terms}


def query_digests(query: str) -> list[str]:
    """One digest per searched word (at most six); a word matches any word it starts."""
    return [digest(word[:MAX_WORD], purpose=PURPOSE) for word in words(query)[:MAX_QUERY_WORDS]]


def query_digest_sets(query: str) -> list[list[str]]:
    """Per searched word its digest under every configured index key, so a search finds enquiries
    whose digests ``vern keys rotate`` has not rebuilt yet."""
    return [digests(word[:MAX_WORD], purpose=PURPOSE) for word in words(query)[:MAX_QUERY_WORDS]]


class Searchable(Protocol):
    name: str
    organisation: str
    email: str


def enquiry_digests(enquiry: Searchable, *, root_key: bytes | None = None) -> set[str]:
    """The digests an enquiry is found by: the words of its name, organisation and email address."""
    return index_digests(enquiry.name, enquiry.organisation, enquiry.email, root_key=root_key)
