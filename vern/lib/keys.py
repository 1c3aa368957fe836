"""The configured keys, parsed once per value (tests may override the settings)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from vern.lib.crypto import Keyring, blind_index, keyed_digest, parse_index_key
from vern.lib.normalise import normalise_email, normalise_phone


@lru_cache(maxsize=4)
def _keyring(value: str) -> Keyring:
    return Keyring.parse(value)


@lru_cache(maxsize=4)
def _index_key(value: str) -> bytes:
    return parse_index_key(value)


def keyring() -> Keyring:
    return _keyring(settings.VERN_ENCRYPTION_KEYS)


def index_key() -> bytes:
    return _index_key(settings.VERN_INDEX_KEY)


def email_index(email: str) -> str:
    """Blind index of an email address in any spelling; raises ``InvalidIdentifier``."""
    return blind_index(normalise_email(email), kind="email", root_key=index_key())


def phone_index(phone: str) -> str:
    """Blind index of a phone number in any spelling (Norway by default); raises ``InvalidIdentifier``."""
    return blind_index(normalise_phone(phone), kind="phone", root_key=index_key())


def digest(value: str, *, purpose: str) -> str:
    return keyed_digest(value, purpose=purpose, root_key=index_key())
