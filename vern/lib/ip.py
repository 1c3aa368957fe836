"""IP addresses are shortened before anything is written (LAW.md R25).

IPv4 keeps its first 24 bits (``203.0.113.77`` → ``203.0.113.0``), IPv6 its
first 48 (``2001:db8:85a3::8a2e:370:7334`` → ``2001:db8:85a3::``). A shortened
address together with a user agent and a time is still pseudonymised personal
data, not anonymous data (R26): it is kept for one month and found in access
requests like any other identifier.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest

IPV4_PREFIX = 24
IPV6_PREFIX = 48


# A dotted IPv4 address as ``ipaddress`` accepts it: four decimal octets 0-255, no leading zero.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"({_OCTET}\.{_OCTET}\.{_OCTET}\.){_OCTET}", re.ASCII)


def shorten_ip(raw: str) -> str:
    """The network part of an address; an unparsable value becomes ``""``."""
    common = _IPV4.fullmatch(raw)  # the common case, in one step and without ipaddress
    if common is not None:
        return f"{common.group(1)}0"
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def client_ip(request: HttpRequest) -> str:
    """The visitor's full address, for shortening at once; never store or log this value."""
    return client_ip_of(request.META)


def client_ip_of(environ: Mapping[str, Any]) -> str:
    """The full address from a WSGI environ (or ``request.META``).

    Behind a reverse proxy (``VERN_TRUST_PROXY_HEADERS=true``) the address is the
    right-most entry of ``X-Forwarded-For``: the one the proxy itself appended.
    """
    if getattr(settings, "VERN_TRUST_PROXY_HEADERS", False):
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded.split(",")[-1].strip())
    return str(environ.get("REMOTE_ADDR", ""))


def client_ip_shortened(request: HttpRequest) -> str:
    return shorten_ip(client_ip(request))
