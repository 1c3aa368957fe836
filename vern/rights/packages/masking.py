"""Masking other people's email addresses and phone numbers in the person's copy (Art. 15(4))."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from vern.lib.logs import EMAIL_PATTERN, PHONE_PATTERN
from vern.lib.normalise import InvalidIdentifier, normalise_email, normalise_phone

MASK = "[masked]"
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Masker:
    """Replaces other people's email addresses and phone numbers in text; the person's own stay.

    The person's own are the ones the request gives (the email they confirmed, the phone they
    typed: showing a number the requester wrote themselves reveals nothing to them) and those in
    the contact fields of records found by their email or verified phone. The addresses the
    declaration publishes (the controller's, the authority's) are nobody's personal data and stay.
    """

    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def own_email(self, value: str) -> None:
        normal = _normal_email(value)
        if normal:
            self.emails.add(normal)

    def own_phone(self, value: str) -> None:
        normal = _normal_phone(value)
        if normal:
            self.phones.add(normal)

    def text(self, value: str) -> str:
        if "@" in value:
            value = EMAIL_PATTERN.sub(self._email, value)
        return PHONE_PATTERN.sub(self._phone, value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value

    def _email(self, match: re.Match[str]) -> str:
        normal = _normal_email(match[0])
        return match[0] if normal and normal in self.emails else MASK

    def _phone(self, match: re.Match[str]) -> str:
        text = match[0]
        if _DATE_LIKE.match(text) or sum(ch.isdigit() for ch in text) < 8:
            return text
        number = _normal_phone(text)
        if not number:
            return text  # a run of digits that is no phone number (an order or organisation number)
        return text if number in self.phones else MASK


@functools.lru_cache(maxsize=1024)
def _normal_email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidIdentifier:
        return ""


@functools.lru_cache(maxsize=1024)
def _normal_phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidIdentifier:
        return ""
