"""Normal forms of the identifiers through which a person is found.

Two spellings of the same address must give the same blind index, so every
identifier is normalised before it is indexed, compared or stored:

* email: syntax checked by ``email-validator`` without network lookups, Unicode
  NFC, the domain in IDNA-decoded lower case, and the local part lower-cased too.
  RFC 5321 lets a server treat local parts case-sensitively, but no mail system
  a visitor meets does, and a person who types ``Ola@`` once and ``ola@`` later
  is one person.
* phone: parsed by ``phonenumbers`` with Norway as the default region and
  written in E.164 (``+4791234567``); a number that is not valid for its region
  is refused.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_EMAIL_LENGTH = 254
DEFAULT_REGION = "NO"


class InvalidIdentifier(ValueError):
    """The value is not a usable email address or phone number.

    ``code`` is stable (for forms to pick a translated message); ``str()`` is an
    English explanation that never repeats the value itself.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalise_email(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("email_empty", "the email address is empty")
    if len(value) > MAX_EMAIL_LENGTH:
        raise InvalidIdentifier("email_too_long", f"an email address has at most {MAX_EMAIL_LENGTH} characters")
    # U+FFFD stands for bytes that were not text (a broken form body): no one's address holds it.
    if "\ufffd" in value or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidIdentifier("email_invalid", "this is not a valid email address")
    try:
        result = validate_email(value, check_deliverability=False, allow_quoted_local=False)
    except EmailNotValidError:
        raise InvalidIdentifier("email_invalid", "this is not a valid email address") from None
    return result.normalized.lower()


def normalise_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    value = raw.strip()
    if not value:
        raise InvalidIdentifier("phone_empty", "the phone number is empty")
    if len(value) > 40:
        raise InvalidIdentifier("phone_too_long", "a phone number has at most 40 characters")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentifier("phone_invalid", "this is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("phone_invalid", "this is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_email(normalised: str) -> str:
    """``ola.nordmann@example.no`` → ``o***@e***.no``: enough for staff to tell mails apart."""
    local, _, domain = normalised.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    masked_host = (host[:1] + "***") if host else "***"
    return f"{local[:1]}***@{masked_host}{'.' + tld if tld else ''}"
