"""Log lines never carry an email address, a phone number or a full IP address."""

from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# IPv4 with a last octet other than 0 (a shortened /24 address is allowed through).
_IPV4 = re.compile(r"\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![\w:])")
# Phone numbers: +47 912 34 567, 0047 91234567, 91 23 45 67 (8+ digits in a run of digits, spaces, dashes).
_PHONE = re.compile(r"(?<![\w.:/-])(?:\+|00)?\d[\d \-]{6,}\d(?![\w.:/-])")


def _ipv4(match: re.Match[str]) -> str:
    return f"{match[1]}.{match[2]}.{match[3]}.0"


def _ipv6(match: re.Match[str]) -> str:
    groups = match[0].split(":")
    return ":".join(groups[:3]) + "::"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _phone(match: re.Match[str]) -> str:
    text = match[0]
    if _DATE.match(text) or sum(ch.isdigit() for ch in text) < 8:
        return text
    return "[phone]"


def redact(text: str) -> str:
    text = _EMAIL.sub("[email]", text)
    text = _IPV4.sub(_ipv4, text)
    text = _IPV6.sub(_ipv6, text)
    return _PHONE.sub(_phone, text)


class RedactingFormatter(logging.Formatter):
    """Redacts the message and any traceback; the time stamp and level are left alone."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        original = record.message
        record.message = redact(original)
        try:
            return super().formatMessage(record)
        finally:
            record.message = original

    def formatException(self, ei: logging._SysExcInfoType) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))
