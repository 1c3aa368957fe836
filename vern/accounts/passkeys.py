"""Passkeys (WebAuthn) as a staff member's second factor, and as a way to re-authenticate (P18).

Each ceremony has two steps. The browser asks for options (``*_options``): they carry a
random challenge, which is kept in the session, for this purpose only, for
``CHALLENGE_SECONDS``. The browser's answer (``passkey_register``, ``passkey_sign_in``,
``passkey_reauthenticate``) takes the challenge out of the session before anything is
checked, so a challenge is answered once at most, whatever the outcome. The answer is
verified by py_webauthn (``webauthn``): challenge, origin and relying party (both from
``VERN_PUBLIC_URL``), signature, and the signature counter where the authenticator keeps one.

A passkey is a django-otp device of vern's own (``models.Passkey``), so a session signed
in with one is verified exactly as one signed in with a code. Failed answers are counted
by ``throttle`` like wrong codes.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from vern.accounts import throttle
from vern.accounts.models import Passkey, SignIn, User
from vern.accounts.second_factor import (
    SecondFactorError,
    _admit,
    _complete,
    _failed,
    mark_password_given,
)
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.lib.ip import client_ip_shortened
from vern.lib.keys import digest
from vern.mail import emails

SESSION_CHALLENGE = "vern_passkey_challenge"
CHALLENGE_SECONDS = 5 * 60
MAX_PASSKEYS = 10
NAME_LENGTH = 64

REGISTER, SIGN_IN, REAUTH = "register", "sign_in", "reauth"


class PasskeyRefused(SecondFactorError):
    """A passkey answer that is not accepted: wrong key, another account's key, a used or old challenge."""


# ------------------------------------------------------------------ relying party


def relying_party_id() -> str:
    """The relying party: the host of ``VERN_PUBLIC_URL``. Passkeys work for that host only."""
    return urlsplit(settings.VERN_PUBLIC_URL).hostname or ""


def expected_origin() -> str:
    parts = urlsplit(settings.VERN_PUBLIC_URL)
    return f"{parts.scheme}://{parts.netloc}"


def _user_handle(user: User) -> bytes:
    """The account's WebAuthn user id: a keyed digest, never the address or the database id."""
    return bytes.fromhex(digest(str(user.pk), purpose="webauthn-user"))[:32]


def credential_key(credential_id: bytes) -> str:
    return hashlib.sha256(credential_id).hexdigest()


def passkeys_of(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user, confirmed=True).order_by("created_at", "pk"))


def has_passkey(user: User) -> bool:
    return bool(Passkey.objects.filter(user=user, confirmed=True).exists())


# ------------------------------------------------------------------ challenges


def _remember(session: SessionBase, purpose: str, challenge: bytes, user: User) -> None:
    session[SESSION_CHALLENGE] = {
        "purpose": purpose,
        "challenge": challenge.hex(),
        "user": user.pk,
        "expires": time.time() + CHALLENGE_SECONDS,
    }


def _take_challenge(session: SessionBase, purpose: str, user: User) -> bytes:
    """The challenge given for ``purpose``, taken out of the session: it cannot be answered twice."""
    kept = session.pop(SESSION_CHALLENGE, None)
    if (
        not isinstance(kept, dict)
        or kept.get("purpose") != purpose
        or kept.get("user") != user.pk
        or not isinstance(kept.get("expires"), int | float)
        or kept["expires"] < time.time()
    ):
        raise PasskeyRefused(_("This passkey request has expired or was already used. Try again."))
    return bytes.fromhex(str(kept["challenge"]))


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=bytes(p.credential_id),
            transports=[AuthenticatorTransport(t) for t in p.transports.split() if t in known] or None,
        )
        for p in passkeys
    ]


# ------------------------------------------------------------------ registration


def clean_name(name: object) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise SecondFactorError(_("Give the passkey a name, such as the device it is on."))
    if len(text) > NAME_LENGTH or not text.isprintable():
        raise SecondFactorError(_("The name is too long: at most 64 characters."))
    return text


def registration_options(*, request: HttpRequest, user: User) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``, with a new challenge kept in the session."""
    existing = passkeys_of(user)
    if len(existing) >= MAX_PASSKEYS:
        raise SecondFactorError(_("You have 10 passkeys, the most an account can have. Remove one first."))
    options = generate_registration_options(
        rp_id=relying_party_id(),
        rp_name=f"{settings.VERN_SITE_NAME} staff",
        user_id=_user_handle(user),
        user_name=user.email,
        user_display_name=user.name or user.email,
        exclude_credentials=_descriptors(existing),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        attestation=AttestationConveyancePreference.NONE,
        timeout=CHALLENGE_SECONDS * 1000,
    )
    _remember(request.session, REGISTER, options.challenge, user)
    return dict(json.loads(options_to_json(options)))


def passkey_register(*, request: HttpRequest, user: User, name: str, credential: object) -> Passkey:
    """Verify a new passkey's answer and keep it; audited, and its owner is mailed."""
    name = clean_name(name)
    challenge = _take_challenge(request.session, REGISTER, user)
    try:
        parsed = parse_registration_credential_json(json.dumps(credential))
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=relying_party_id(),
            expected_origin=expected_origin(),
        )
    except (WebAuthnException, TypeError, ValueError) as exc:
        raise PasskeyRefused(_("The browser's answer could not be verified. Try again.")) from exc
    transports = " ".join(str(t.value) for t in (parsed.response.transports or []))[:200]
    key = credential_key(verified.credential_id)
    with transaction.atomic():
        if Passkey.objects.filter(credential_key=key).exists():
            raise PasskeyRefused(_("This passkey is already registered."))
        if Passkey.objects.select_for_update().filter(user=user, confirmed=True).count() >= MAX_PASSKEYS:
            raise SecondFactorError(_("You have 10 passkeys, the most an account can have. Remove one first."))
        passkey: Passkey = Passkey.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=verified.credential_id,
            credential_key=key,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
            backed_up=bool(verified.credential_backed_up),
        )
        audit_record(
            action=AuditEvent.STAFF_PASSKEY_ADDED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"passkey": passkey.pk, "synced": passkey.backed_up, "network": client_ip_shortened(request)},
        )
        with translation.override(user.language):
            link = f"{settings.VERN_PUBLIC_URL}{reverse('accounts:security')}"
        emails.staff_passkey_added(to=user.email, language=user.language, name=user.name, passkey=name, link=link)
    return passkey


# ------------------------------------------------------------------ signing in, re-authenticating


def authentication_options(*, request: HttpRequest, user: User, purpose: str) -> dict[str, Any]:
    """Options for ``navigator.credentials.get``: the account's own passkeys only, a new challenge."""
    passkeys = passkeys_of(user)
    if not passkeys:
        raise SecondFactorError(_("Your account has no passkey."))
    options = generate_authentication_options(
        rp_id=relying_party_id(),
        allow_credentials=_descriptors(passkeys),
        # Re-authentication stands in for the password: the passkey must check who holds it.
        user_verification=(
            UserVerificationRequirement.REQUIRED if purpose == REAUTH else UserVerificationRequirement.PREFERRED
        ),
        timeout=CHALLENGE_SECONDS * 1000,
    )
    _remember(request.session, purpose, options.challenge, user)
    return dict(json.loads(options_to_json(options)))


def _assert(*, request: HttpRequest, user: User, credential: object, purpose: str) -> Passkey:
    """Verify an answer to ``purpose``'s challenge with one of ``user``'s passkeys; counted by ``throttle``."""
    account, network = _admit(user=user, request=request)
    try:
        challenge = _take_challenge(request.session, purpose, user)
        try:
            parsed = parse_authentication_credential_json(json.dumps(credential))
        except (WebAuthnException, TypeError, ValueError) as exc:
            raise PasskeyRefused(_("The browser's answer could not be verified. Try again.")) from exc
        with transaction.atomic():
            passkey: Passkey | None = (
                Passkey.objects.select_for_update()
                .filter(user=user, confirmed=True, credential_key=credential_key(parsed.raw_id))
                .first()
            )
            if passkey is None:  # another account's passkey, or one removed meanwhile
                raise PasskeyRefused(_("This passkey is not one of your account's passkeys."))
            try:
                verified = verify_authentication_response(
                    credential=parsed,
                    expected_challenge=challenge,
                    expected_rp_id=relying_party_id(),
                    expected_origin=expected_origin(),
                    credential_public_key=bytes(passkey.public_key),
                    credential_current_sign_count=passkey.sign_count,
                    require_user_verification=purpose == REAUTH,
                )
            except (WebAuthnException, TypeError, ValueError) as exc:
                raise PasskeyRefused(_("The passkey's answer could not be verified. Try again.")) from exc
            passkey.sign_count = verified.new_sign_count
            passkey.last_used_at = timezone.now()
            passkey.save(update_fields=["sign_count", "last_used_at"])
            audit_record(
                action=AuditEvent.STAFF_PASSKEY_USED,
                actor=Actor.staff(user),
                object_type="accounts.user",
                object_id=user.pk,
                data={"passkey": passkey.pk, "purpose": purpose},
            )
    except PasskeyRefused:
        _failed(user=user, step=f"passkey_{purpose}")
        raise
    throttle.succeeded(account=account, network=network)
    return passkey


def passkey_sign_in(*, request: HttpRequest, user: User, credential: object) -> SignIn:
    """Complete a sign-in (after the password) with one of the account's passkeys."""
    passkey = _assert(request=request, user=user, credential=credential, purpose=SIGN_IN)
    return _complete(request=request, user=user, device=passkey, method=SignIn.Method.PASSKEY)


def passkey_reauthenticate(*, request: HttpRequest, user: User, credential: object) -> None:
    """Confirm who is at the keyboard with a passkey instead of the password (``access.staff_view(reauth=True)``)."""
    _assert(request=request, user=user, credential=credential, purpose=REAUTH)
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_REAUTHENTICATED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"method": "passkey"},
        )
    mark_password_given(request.session)


# ------------------------------------------------------------------ removing


def passkey_remove(*, request: HttpRequest, user: User, pk: int) -> Passkey:
    """Remove one of the account's passkeys, unless it is the last second factor the account has."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        passkeys: list[Passkey] = list(Passkey.objects.select_for_update().filter(user=user, confirmed=True))
        passkey = next((p for p in passkeys if p.pk == pk), None)
        if passkey is None:
            raise SecondFactorError(_("That passkey does not exist."))
        remaining = [p for p in passkeys if p.pk != pk] + list(TOTPDevice.objects.filter(user=user, confirmed=True))
        if not remaining:
            raise SecondFactorError(
                _("This passkey is your only second factor. Set up another one before you remove it.")
            )
        gone = passkey.persistent_id
        passkey.delete()
        audit_record(
            action=AuditEvent.STAFF_PASSKEY_REMOVED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
            data={"passkey": pk},
        )
    # This session signed in with the passkey just removed: it stays signed in, now held by a remaining device.
    if request.session.get(DEVICE_ID_SESSION_KEY) == gone:
        request.session[DEVICE_ID_SESSION_KEY] = remaining[0].persistent_id
    passkey.pk = pk
    return passkey
