"""Personal identifiers never reach a log line, a stored error text or the audit log.

``find_identifiers`` finds email addresses (Unicode ones included), phone
numbers and full IP addresses (IPv6 in every spelling); ``redact`` replaces
them: emails and phones by a placeholder, IP addresses by their shortened
network (/24, /48), which is what vern may keep.
"""

from __future__ import annotations

import ipaddress
import logging
import re

# Local part and domain in any script: "åse.ødegård@blåbær.no" is an address too.
EMAIL_PATTERN = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w.])")
# Candidate IPv6 spellings (compressed, mixed with IPv4); ipaddress decides.
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])")
# Phone numbers: +47 912 34 567, 0047 91234567, 91 23 45 67 (8+ digits in a run of digits, spaces, dashes).
# A full stop may end the sentence after a number, but not start its decimals or an address.
PHONE_PATTERN = re.compile(r"(?<![\w.:/-])(?:\+|00)?\d[\d \-]{6,}\d(?![\w:/-]|\.\w)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _ipv4(match: re.Match[str]) -> str:
    if any(int(part) > 255 for part in match.groups()):
        return match[0]
    return f"{match[1]}.{match[2]}.{match[3]}.0"


def _ipv6(match: re.Match[str]) -> str:
    try:
        address = ipaddress.IPv6Address(match[0])
    except ValueError:
        return match[0]
    network = ipaddress.IPv6Network(f"{address}/48", strict=False)
    return str(network.network_address)


def _phone(match: re.Match[str]) -> str:
    text = match[0]
    if _DATE.match(text) or sum(ch.isdigit() for ch in text) < 8:
        return text
    return "[phone]"


def redact(text: str) -> str:
    text = EMAIL_PATTERN.sub("[email]", text)
    text = _IPV6.sub(_ipv6, text)
    text = _IPV4.sub(_ipv4, text)
    return PHONE_PATTERN.sub(_phone, text)


def find_identifiers(text: str) -> list[str]:
    """Kinds of personal identifier in ``text``: "email", "phone", "IP address" (shortened ones allowed)."""
    found = []
    if EMAIL_PATTERN.search(text):
        found.append("email")
    without_email = EMAIL_PATTERN.sub("", text)
    if redact(without_email) != without_email:
        if "[phone]" in PHONE_PATTERN.sub(_phone, without_email):
            found.append("phone")
        if _IPV6.sub(_ipv6, _IPV4.sub(_ipv4, without_email)) != without_email:
            found.append("IP address")
    return found


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


def route_of(request: object) -> str:
    """The URL pattern a request matched (``/staff/people/<int:pk>/``), never the path itself,
    so that tokens and other values in URLs do not reach a log."""
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None else "(no route)"
