"""The second factor of staff login, recovery codes, sign-ins and re-authentication (P18).

A staff login has two steps. The password (``services.staff_check_password``) logs the
account in, but the session has not *passed the second factor* yet: every staff page and
staff API refuses it (``access.staff_view``) and sends it here, to enrol an authenticator
app when the account has none, or to type a code. Only then is the sign-in complete: a
``SignIn`` row is written, whose id the session carries, so that its owner can see it and
end it from another session.

The codes are django-otp's TOTP (RFC 6238) and static devices (recovery codes). Wrong codes
are counted by ``throttle`` per account and network, like passwords: only failures count,
the wait grows step by step, and failures from other networks never hold back the owner's
network (django-otp's own per-device throttle, which would, is switched off in settings).

Destructive and exporting actions also ask for the password again when it was last typed
more than ``REAUTH_SECONDS`` ago (``access.staff_view(..., reauth=True)``).
"""

from __future__ import annotations

import time
from base64 import b32encode
from dataclasses import dataclass

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from ua_parser import parse as parse_agent

from vern.accounts import throttle
from vern.accounts.models import Passkey, SignIn, User
from vern.audit.events import AuditEvent
from vern.audit.models import Entry
from vern.audit.services import Actor, audit_record
from vern.lib.ip import client_ip_shortened
from vern.mail import emails

SESSION_SIGN_IN = "vern_sign_in"  # the SignIn row of this session, once the second factor passed
SESSION_AUTH_AT = "vern_auth_at"  # when the password (or a passkey) was last given, in Unix seconds
REAUTH_SECONDS = 10 * 60
RECOVERY_CODES = 10
DEVICE_NAME = "authenticator app"


class SecondFactorError(ValueError):
    """A second-factor step that is refused; the message is shown to the person who asked."""


class WrongCode(SecondFactorError):
    pass


class Throttled(Exception):
    """Too many wrong codes from this network; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"try again in {retry_after} s")
        self.retry_after = retry_after


# ------------------------------------------------------------------ reading the session


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor with a confirmed device of its own user."""
    check = getattr(request.user, "is_verified", None)
    return bool(check is not None and check() and request.session.get(SESSION_SIGN_IN) is not None)


def has_device(user: User) -> bool:
    """Whether the account has a second factor to sign in with: an authenticator app or a passkey."""
    return bool(
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or Passkey.objects.filter(user=user, confirmed=True).exists()
    )


def has_authenticator(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recent_auth(request: HttpRequest) -> bool:
    """Whether the password was given in this session within the last ``REAUTH_SECONDS``."""
    given = request.session.get(SESSION_AUTH_AT)
    return isinstance(given, int | float) and 0 <= time.time() - given <= REAUTH_SECONDS


def mark_password_given(session: SessionBase) -> None:
    session[SESSION_AUTH_AT] = time.time()


def mark_session_verified(
    session: SessionBase, *, device: TOTPDevice | StaticDevice | Passkey, sign_in: SignIn
) -> None:
    """What a session holds once its second factor passed: the device (as django-otp reads it) and the sign-in."""
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_SIGN_IN] = sign_in.pk


def browser_family(user_agent: str) -> str:
    """The browser's family ("Firefox"), the only part of a user agent a sign-in keeps."""
    if not user_agent or len(user_agent) > 512 or not user_agent.isprintable():
        return ""
    agent = parse_agent(user_agent).user_agent
    family = agent.family if agent is not None else ""
    return "" if family == "Other" else family[:40]


# ------------------------------------------------------------------ enrolment


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    qr_svg: str  # an inline SVG of the otpauth:// address
    secret: str  # the base32 secret in groups of four, for typing in by hand
    address: str  # the otpauth:// address itself


def enrolment_start(*, user: User) -> Enrolment:
    """The account's unconfirmed authenticator, made on first call; reloading the page shows the same secret."""
    if has_authenticator(user):
        raise SecondFactorError(_("Your account already has an authenticator app."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    address = device.config_url
    # segno writes the SVG itself: no image library, no inline script (docs/adr/0008-second-factor.md).
    qr = segno.make(address, error="m")
    svg = qr.svg_inline(scale=5, border=2, dark="#111", light="#fff", omitsize=True)
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return Enrolment(device=device, qr_svg=svg, secret=grouped, address=address)


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]  # type: ignore[no-untyped-call]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return [f"{code[:4]}-{code[4:]}" for code in codes]


def _admit(*, user: User, request: HttpRequest) -> tuple[str, str]:
    account, network = f"second-factor:{user.pk}", client_ip_shortened(request)
    wait = throttle.attempt(account=account, network=network)
    if wait:
        raise Throttled(wait)
    return account, network


def _failed(*, user: User, step: str) -> None:
    with transaction.atomic():  # on record, although nothing else happens
        audit_record(
            action=AuditEvent.STAFF_SECOND_FACTOR_FAILED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"step": step},
        )


def second_factor_enrol(*, request: HttpRequest, user: User, code: str) -> list[str]:
    """Confirm the authenticator with a code it shows, complete the sign-in, and return new recovery codes.

    The codes are returned once, to be shown once; only django-otp's tokens remain.
    """
    account, network = _admit(user=user, request=request)
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise SecondFactorError(_("Your account already has an authenticator app."))
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            raise SecondFactorError(_("Start again: open the page to set up your authenticator app."))
        confirmed = device.verify_token(_digits(code))
        if confirmed:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            codes = _new_recovery_codes(user)
            audit_record(
                action=AuditEvent.STAFF_SECOND_FACTOR_ENROLLED,
                actor=Actor.staff(user),
                object_type="accounts.user",
                object_id=user.pk,
                data={"device": "totp", "recovery_codes": len(codes)},
            )
    if not confirmed:
        _failed(user=user, step="enrol")
        raise WrongCode(_("That code is not right. Type the code your app shows now."))
    throttle.succeeded(account=account, network=network)
    _complete(request=request, user=user, device=device, method=SignIn.Method.TOTP)
    return codes


def _digits(code: str) -> str:
    return "".join(code.split())


# ------------------------------------------------------------------ signing in


def second_factor_check(*, request: HttpRequest, user: User, code: str) -> SignIn:
    """Complete a sign-in with a code from the authenticator app, or with an unused recovery code.

    A recovery code works once; using one is audited and its owner is mailed, in case it was not them.
    """
    account, network = _admit(user=user, request=request)
    compact = "".join(code.split()).replace("-", "").lower()
    device: TOTPDevice | StaticDevice | None = None
    method = SignIn.Method.TOTP
    with transaction.atomic():
        if compact.isdigit():
            for totp in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if totp.verify_token(compact):
                    device = totp
                    break
        elif compact:
            for static in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if static.verify_token(compact):
                    device, method = static, SignIn.Method.RECOVERY
                    break
    if device is None:
        _failed(user=user, step="verify")
        raise WrongCode(_("That code is not right. Type the code your app shows now, or an unused recovery code."))
    throttle.succeeded(account=account, network=network)
    if method == SignIn.Method.RECOVERY:
        _recovery_code_used(user=user, request=request)
    return _complete(request=request, user=user, device=device, method=method)


def _recovery_code_used(*, user: User, request: HttpRequest) -> None:
    left = StaticToken.objects.filter(device__user=user).count()
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_RECOVERY_CODE_USED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"left": left, "network": client_ip_shortened(request)},
        )
        with translation.override(user.language):
            link = f"{settings.VERN_PUBLIC_URL}{reverse('accounts:security')}"
        emails.staff_recovery_code_used(to=user.email, language=user.language, name=user.name, left=left, link=link)


def _complete(*, request: HttpRequest, user: User, device: TOTPDevice | StaticDevice | Passkey, method: str) -> SignIn:
    with transaction.atomic():
        sign_in = SignIn.objects.create(
            user=user,
            ip=client_ip_shortened(request),
            browser=browser_family(request.headers.get("User-Agent", "")),
            method=method,
        )
        django_otp.login(request, device)  # type: ignore[no-untyped-call]
        mark_session_verified(request.session, device=device, sign_in=sign_in)
        audit_record(
            action=AuditEvent.STAFF_LOGGED_IN,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"second_factor": method, "sign_in": sign_in.pk},
        )
    return sign_in


# ------------------------------------------------------------------ recovery codes, reset


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes for the account; the old ones stop working."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(
            action=AuditEvent.STAFF_RECOVERY_CODES_REGENERATED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"recovery_codes": len(codes)},
        )
    return codes


def second_factor_reset(*, user: User, actor: Actor) -> None:
    """Forget an account's authenticator, passkeys and recovery codes (a lost phone): it enrols again at its next login.

    Nobody resets their own from the console (an administrator or the operator's ``vern staff
    reset-second-factor`` does). Every open sign-in of the account ends, and its owner is mailed.
    """
    if actor.kind == Entry.ActorKind.STAFF and actor.id == user.pk:
        raise SecondFactorError(_("You cannot reset your own second factor. Ask another administrator."))
    with transaction.atomic():
        devices = (
            TOTPDevice.objects.filter(user=user).delete()[0]
            + StaticDevice.objects.filter(user=user).delete()[0]
            + Passkey.objects.filter(user=user).delete()[0]
        )
        ended = SignIn.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())
        audit_record(
            action=AuditEvent.STAFF_SECOND_FACTOR_RESET,
            actor=actor,
            object_type="accounts.user",
            object_id=user.pk,
            data={"rows_removed": devices, "sign_ins_ended": ended},
        )
        by = User.objects.filter(pk=actor.id).first() if actor.kind == Entry.ActorKind.STAFF and actor.id else None
        with translation.override(user.language):
            link = f"{settings.VERN_PUBLIC_URL}{reverse('accounts:login')}"
        emails.staff_second_factor_reset(
            to=user.email, language=user.language, name=user.name, by=by.name if by is not None else "", link=link
        )


# ------------------------------------------------------------------ sessions


def sign_ins_recent(user: User, limit: int = 20) -> list[SignIn]:
    return list(SignIn.objects.filter(user=user).order_by("-signed_in_at", "-pk")[:limit])


def sign_in_end(*, user: User, sign_in_id: int, current_id: int | None) -> SignIn:
    """End one of the account's other sign-ins: that session is logged out at its next request."""
    if sign_in_id == current_id:
        raise SecondFactorError(_("This is the session you are using; log out instead."))
    with transaction.atomic():
        sign_in = SignIn.objects.select_for_update().filter(pk=sign_in_id, user=user).first()
        if sign_in is None:
            raise SecondFactorError(_("That sign-in does not exist."))
        if sign_in.ended_at is None:
            sign_in.ended_at = timezone.now()
            sign_in.save(update_fields=["ended_at"])
            audit_record(
                action=AuditEvent.STAFF_SESSION_ENDED,
                actor=Actor.staff(user),
                object_type="accounts.user",
                object_id=user.pk,
                data={"sign_in": sign_in.pk},
            )
    return sign_in


def sign_in_close(session: SessionBase) -> None:
    """At logout: this session's sign-in is over."""
    pk = session.get(SESSION_SIGN_IN)
    if pk is not None:
        SignIn.objects.filter(pk=pk, ended_at__isnull=True).update(ended_at=timezone.now())


def sign_in_is_open(pk: object) -> bool:
    return isinstance(pk, int) and SignIn.objects.filter(pk=pk, ended_at__isnull=True).exists()


# ------------------------------------------------------------------ re-authentication


def staff_reauthenticate(*, request: HttpRequest, user: User, password: str) -> bool:
    """Check the password of the signed-in account again; counted like a login (``throttle``)."""
    network = client_ip_shortened(request)
    wait = throttle.attempt(account=user.email, network=network)
    if wait:
        raise Throttled(wait)
    ok = authenticate(request, username=user.email, password=password) == user
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_REAUTHENTICATED if ok else AuditEvent.STAFF_REAUTH_FAILED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
        )
    if ok:
        throttle.succeeded(account=user.email, network=network)
        mark_password_given(request.session)
    return ok
