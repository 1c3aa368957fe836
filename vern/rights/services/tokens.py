"""The tokens in the privacy center's links: the confirmation link, the download link, the status link.

The single-use tokens (confirmation, download) go only into the mail; the
database keeps a keyed hash of each, so a copy of the database opens no link.

The status link is different: the person may open it as often as they like
until retention deletes the request, and every later mail about the request
carries it again. So its token is kept too, encrypted like the address
(``Request.status_token``), and found by a plain SHA-256 of it
(``Request.status_hash``): 256 random bits need no key to be safe from guessing,
and a digest with no key survives a rotation of the index key, which a link
that lives for years must. The page it opens shows only what the mails about
the request already say (the stage, the due date, messages from staff), never
the address.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from vern.lib.keys import digest, digests

TOKEN_BYTES = 32  # 256 bits (LAW.md §3: at least 128)
# What ``secrets.token_urlsafe(TOKEN_BYTES)`` gives: 43 characters of the URL-safe alphabet.
STATUS_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def token_hash(token: str) -> str:
    return digest(token, purpose="rights:link")


def token_hashes(token: str) -> list[str]:
    """The token's keyed hash under every configured index key: a link sent before the index key
    rotated still opens (the token itself is kept nowhere, so its hash cannot be recomputed)."""
    return digests(token, purpose="rights:link")


def new_token() -> tuple[str, str]:
    """A random single-use token, and the keyed hash that is all the database keeps of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def status_hash(token: str) -> str:
    return hashlib.sha256(b"rights:status:" + token.encode()).hexdigest()


def new_status_token() -> tuple[str, str]:
    """A random token for a request's status link, and the hash it is looked up by."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, status_hash(token)


def status_token_valid(token: str) -> bool:
    """Whether the text could be a status token at all (anything else is refused before a lookup)."""
    return bool(STATUS_TOKEN.fullmatch(token))
