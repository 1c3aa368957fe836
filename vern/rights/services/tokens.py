"""The single-use tokens in the privacy center's links: the confirmation link and the download link.

The token goes only into the mail; the database keeps a keyed hash of it, so a
copy of the database opens no link.
"""

from __future__ import annotations

import secrets

from vern.lib.keys import digest, digests

TOKEN_BYTES = 32  # 256 bits (LAW.md §3: at least 128)


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
