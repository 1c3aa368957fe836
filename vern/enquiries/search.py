"""Searching names and organisations that are encrypted at rest.

Each word of an enquiry's name and organisation is stored as keyed digests of
the word and of its starts from three letters on ("kaukus" → "kau", "kauk",
"kauku", "kaukus"). A search digests the words it is given and asks for
enquiries that have all of them, through an index. The database never sees a
name; whoever reads the table without the index key learns nothing but how many
words an enquiry has.
"""

from __future__ import annotations

import re
import unicodedata

from vern.lib.crypto import keyed_digest
from vern.lib.keys import digest, digests

WORD = re.compile(r"\w+")
MIN_PREFIX = 3
MAX_WORD = 32
MAX_QUERY_WORDS = 6
PURPOSE = "enquiries:search"


def words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


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
