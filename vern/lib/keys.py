"""The configured keys, parsed once per value (tests may override the settings).

Writes use the current key (``email_index``, ``digest``); a lookup by something a
person typed uses every configured index key (``email_indexes``), so that rows not
yet recomputed by ``vern keys rotate`` are still found.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from vern.lib.crypto import IndexKeys, Keyring, blind_index, keyed_digest
from vern.lib.normalise import normalise_email, normalise_phone


@lru_cache(maxsize=4)
def _keyring(value: str) -> Keyring:
    return Keyring.parse(value)


@lru_cache(maxsize=4)
def _index_keys(value: str) -> IndexKeys:
    return IndexKeys.parse(value)


def keyring() -> Keyring:
    return _keyring(settings.VERN_ENCRYPTION_KEYS)


def index_keys() -> IndexKeys:
    """``VERN_INDEX_KEYS`` when set, else the single ``VERN_INDEX_KEY``."""
    return _index_keys(getattr(settings, "VERN_INDEX_KEYS", "") or settings.VERN_INDEX_KEY)


def index_key() -> bytes:
    """The current index key: every new blind index, digest and audit mac is made with it."""
    return index_keys().root


def email_index(email: str) -> str:
    """Blind index of an email address in any spelling; raises ``InvalidIdentifier``."""
    return blind_index(normalise_email(email), kind="email", root_key=index_key())


def phone_index(phone: str) -> str:
    """Blind index of a phone number in any spelling (Norway by default); raises ``InvalidIdentifier``."""
    return blind_index(normalise_phone(phone), kind="phone", root_key=index_key())


def email_indexes(email: str) -> list[str]:
    """The email's blind index under every configured index key, the current one first (for lookups)."""
    address = normalise_email(email)
    return [blind_index(address, kind="email", root_key=root) for root in index_keys().roots()]


def phone_indexes(phone: str) -> list[str]:
    """The phone number's blind index under every configured index key, the current one first."""
    number = normalise_phone(phone)
    return [blind_index(number, kind="phone", root_key=root) for root in index_keys().roots()]


def digest(value: str, *, purpose: str) -> str:
    return keyed_digest(value, purpose=purpose, root_key=index_key())


def digests(value: str, *, purpose: str) -> list[str]:
    """The digest under every configured index key, the current one first (for lookups)."""
    return [keyed_digest(value, purpose=purpose, root_key=root) for root in index_keys().roots()]
