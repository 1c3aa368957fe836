"""System checks: each misconfiguration explained in one line.

Parse errors of single variables stop start-up earlier, in ``vern.lib.env``;
these checks judge settings together (a public host that is not an allowed
host) and, with ``--deploy``, what is fine on a laptop but not in production.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def check_public_url(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    host = settings.VERN_PUBLIC_HOST
    if "*" not in settings.ALLOWED_HOSTS and host not in settings.ALLOWED_HOSTS:
        problems.append(
            Error(
                f"VERN_PUBLIC_URL's host {host!r} is not in ALLOWED_HOSTS, so every request to it is refused.",
                hint=f"Add {host} to ALLOWED_HOSTS or leave ALLOWED_HOSTS unset.",
                id="vern.E001",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        problems.append(
            Warning(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, which allows host-header attacks.",
                hint="List the host names vern is served under.",
                id="vern.W001",
            )
        )
    return problems


@register(Tags.security)
def check_data_dir(app_configs: Any, **kwargs: Any) -> list[Error]:
    data_dir = settings.DATA_DIR
    if not os.access(data_dir, os.W_OK):
        return [
            Error(
                f"VERN_DATA_DIR {data_dir} is not writable, so the database, keys and static files cannot be kept.",
                hint="Point VERN_DATA_DIR at a directory the vern user owns.",
                id="vern.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_production(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problems: list[Warning] = []
    if not settings.HTTPS:
        problems.append(
            Warning(
                "VERN_PUBLIC_URL is http://: logins and personal data would travel unencrypted (P18).",
                hint="Serve vern behind TLS and set VERN_PUBLIC_URL=https://your.host",
                id="vern.W002",
            )
        )
    if settings.EMAIL_BACKEND == "vern.mail.backends.ConsoleBackend":
        problems.append(
            Warning(
                "EMAIL_URL is console://: mail is printed by the worker, never delivered.",
                hint="Set EMAIL_URL=smtp+starttls://user:password@smtp.example.com:587",
                id="vern.W003",
            )
        )
    if "@localhost" in settings.DEFAULT_FROM_EMAIL:
        problems.append(
            Warning(
                f"VERN_MAIL_FROM is {settings.DEFAULT_FROM_EMAIL!r}: receiving servers will reject or junk it.",
                hint="Set VERN_MAIL_FROM to an address of your own domain, e.g. 'Kaukus <support@kaukus.no>'.",
                id="vern.W004",
            )
        )
    return problems
