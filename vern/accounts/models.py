from __future__ import annotations

from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, TimestampMixin

from vern.accounts.roles import Capability, Role, capabilities_of
from vern.lib.normalise import InvalidIdentifier, normalise_email


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Addresses are stored normalised; the login form's text is normalised the same way,
        # so one account has exactly one spelling (no case-folding surprises in the database).
        try:
            address = normalise_email(username or "")
        except InvalidIdentifier:
            raise self.model.DoesNotExist from None
        return self.get(email=address)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        # Accounts are created through accounts.services.staff_create, which audits and
        # validates; this exists for Django's own machinery and the test suite.
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A staff member. Visitors never have accounts; they are found through the registry."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="nb")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("staff account")
        verbose_name_plural = _("staff accounts")
        ordering = ["name", "email"]

    class Privacy:
        staff_data = "Staff accounts; covered by the employee privacy notice, not by this declaration."

    def __str__(self) -> str:
        return self.name or self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        # .all() uses prefetch_related("role_grants") where a list page asked for it.
        return frozenset(grant.role for grant in self.role_grants.all())

    @property
    def capabilities(self) -> frozenset[Capability]:
        return capabilities_of(self.roles) if self.is_active else frozenset()

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in sorted(self.roles)]


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_grant_per_role")]

    class Privacy:
        staff_data = "Which roles a staff member has."

    def __str__(self) -> str:
        return f"{self.user} is {self.role}"


class PendingRoleGrant(models.Model):
    """A grant of a powerful role (administrator, privacy officer) that waits for a second administrator.

    The row exists only while it waits: approving it creates the ``RoleGrant`` and deletes it,
    declining deletes it. Who asked, who decided and when is in the audit log.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pending_role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    requested_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("role waiting for approval")
        verbose_name_plural = _("roles waiting for approval")
        ordering = ["requested_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_pending_grant_per_role")]

    class Privacy:
        staff_data = "Which roles a staff member has been proposed for, and by which administrator."

    def __str__(self) -> str:
        return f"{self.user} may become {self.role}"

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)


# Why a sign-in's shortened IP has no index (registry: Privacy.unindexed).
SIGN_IN_IP_UNINDEXED = (
    "A shortened IP names a network, not a person; sign-ins are few (one a working day per staff member) "
    "and kept a month, so the rare search by network reads a small table."
)


class SignIn(models.Model):
    """One completed staff sign-in (password and second factor), which its owner sees and can end.

    The session carries this row's id; the row never holds the session key. Ending a
    sign-in sets ``ended_at``, and the next request of that session is logged out
    (``vern.accounts.middleware``). The IP address is shortened before it is written, and
    only the browser's family is kept, never the user agent.
    """

    class Method(models.TextChoices):
        TOTP = "totp", _("authenticator app")
        RECOVERY = "recovery", _("recovery code")
        PASSKEY = "passkey", _("passkey")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_ins")
    signed_in_at = models.DateTimeField(default=timezone.now)
    ip = models.CharField(max_length=45, blank=True)  # shortened (vern.lib.ip)
    browser = models.CharField(max_length=40, blank=True)  # the family only, e.g. "Firefox"
    method = models.CharField(max_length=16, choices=Method.choices)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("staff sign-in")
        verbose_name_plural = _("staff sign-ins")
        ordering = ["-signed_in_at", "-pk"]
        indexes = [models.Index(fields=["user", "-signed_in_at"], name="signin_user_time")]

    class Privacy:
        purpose = "operations"
        retention = "technical_logs"
        identifiers = {"ip": "ip"}
        unindexed = {"ip": SIGN_IN_IP_UNINDEXED}
        clock = "signed_in_at"
        erasure = "delete"
        bases = ("f",)
        export = ("signed_in_at", "ip", "browser", "method", "ended_at")

    def __str__(self) -> str:
        return f"{self.user} {self.signed_in_at:%Y-%m-%d %H:%M}"


class Passkey(TimestampMixin, Device):
    """A passkey (WebAuthn credential) of a staff member, their second factor beside the authenticator app.

    A django-otp device, so that a session signed in with it is verified as with a code
    (``django_otp.login``); it never verifies a typed token. The browser proves it holds the
    private key by signing a single-use challenge (``vern.accounts.passkeys``); vern keeps
    the public key, the credential's id (and its SHA-256, to find it) and the signature
    counter. ``name`` is the one its owner gave it ("Work laptop").
    """

    credential_id = models.BinaryField()
    credential_key = models.CharField(max_length=64, unique=True)  # SHA-256 of credential_id, in hex
    public_key = models.BinaryField()  # COSE-encoded
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.CharField(max_length=200, blank=True)  # as the browser said, space-separated
    backed_up = models.BooleanField(default=False)  # a synced passkey (in a password manager or a cloud account)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        ordering = ["created_at", "pk"]

    class Privacy:
        staff_data = "A staff member's passkeys: public keys and the names they gave them, for signing in."

    def verify_token(self, token: object) -> bool:
        return False  # a passkey answers a WebAuthn challenge (vern.accounts.passkeys), never a typed code
