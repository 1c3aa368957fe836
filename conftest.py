"""Shared fixtures: personas and a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from vern.testing import SMTPServer


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.stop()


# ------------------------------------------------------------------ personas


@dataclass
class Personas:
    admin: Any
    privacy_officer: Any
    sales: Any
    deactivated: Any

    def all(self) -> dict[str, Any]:
        return {
            "admin": self.admin,
            "privacy_officer": self.privacy_officer,
            "sales": self.sales,
            "deactivated": self.deactivated,
        }


@pytest.fixture
def personas(db: None) -> Personas:
    """Alice the administrator, Pia the privacy officer, Sam from sales, and Dag, who has left."""
    from vern.accounts.models import RoleGrant, User

    def make(email: str, name: str, role: str, *, active: bool = True) -> User:
        user = User.objects.create_user(email=email, password=None, name=name, is_active=active)
        RoleGrant.objects.create(user=user, role=role)
        return user

    return Personas(
        admin=make("alice@example.com", "Alice Admin", "admin"),
        privacy_officer=make("pia@example.com", "Pia Personvern", "privacy_officer"),
        sales=make("sam@example.com", "Sam Salg", "sales"),
        deactivated=make("dag@example.com", "Dag Deaktivert", "admin", active=False),
    )
