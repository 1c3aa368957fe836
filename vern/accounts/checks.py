"""Misconfigurations of staff login that ``vern check --deploy`` reports."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_passkeys_can_work(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """Passkeys are bound to the host of ``VERN_PUBLIC_URL``: browsers refuse an IP address as their
    relying party, and offer passkeys only on HTTPS (or on localhost)."""
    parts = urlsplit(settings.VERN_PUBLIC_URL)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [
            Warning(
                f"VERN_PUBLIC_URL names an IP address ({host}); browsers offer passkeys only for a domain name.",
                hint="Set VERN_PUBLIC_URL to the https:// address of vern's domain; staff then can add passkeys.",
                id="vern.W201",
            )
        ]
    if parts.scheme != "https" and host != "localhost" and not host.endswith(".localhost"):
        return [
            Warning(
                "VERN_PUBLIC_URL is not https://; browsers offer passkeys only on HTTPS.",
                hint="Serve vern over HTTPS and set VERN_PUBLIC_URL to its https:// address.",
                id="vern.W201",
            )
        ]
    return []
