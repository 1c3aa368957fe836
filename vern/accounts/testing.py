"""Signing staff in from tests: the one helper for a test client, and the code step in Chromium.

Only the test suite imports this module."""

from __future__ import annotations

from typing import Any

# ------------------------------------------------------------------ staff routes


def staff_routes() -> dict[str, tuple[str, Any]]:
    """``namespace:name`` → (route, view) for every URL under /staff/, read from the URLconf.

    The permission matrix and the page audit both start from this, so a new staff route is
    something both must be told about."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, tuple[str, Any]] = {}

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and route.startswith("staff/"):
                found[f"{namespace}:{pattern.name}"] = (route, pattern.callback)

    walk(get_resolver().url_patterns, "", "")
    return found


# ------------------------------------------------------------------ staff sign-in


def staff_device(user: Any) -> Any:
    """The staff member's confirmed authenticator app, made (as enrolment would) when they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    return device


def staff_login(client: Any, user: Any) -> Any:
    """Sign ``user`` in on a test ``client`` the whole way, as password and a TOTP code would:
    a confirmed authenticator app, the password given just now, a sign-in row. Returns the sign-in.

    This is the one way tests log staff in; ``client.force_login`` alone is a session with the
    password only, which every staff page refuses (the permission matrix checks that too).
    """
    from vern.accounts.models import SignIn
    from vern.accounts.second_factor import mark_password_given, mark_session_verified

    client.force_login(user)
    sign_in = SignIn.objects.create(user=user, ip="127.0.0.0", browser="", method=SignIn.Method.TOTP)
    session = client.session
    mark_password_given(session)
    mark_session_verified(session, device=staff_device(user), sign_in=sign_in)
    session.save()
    return sign_in


def totp_code(device: Any, *, fresh: bool = True) -> str:
    """The code the staff member's authenticator app shows now, computed from its secret.

    With ``fresh``, a code that the device would refuse as already used (a second sign-in in
    the same 30 seconds) is made usable by forgetting the last step it accepted.
    """
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp: Any = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)  # type: ignore[no-untyped-call]
    if fresh and device.last_t >= totp.t():
        type(device).objects.filter(pk=device.pk).update(last_t=totp.t() - 1)
    return f"{totp.token():0{device.digits}d}"


def browser_second_factor(page: Any, email: str) -> None:
    """After the password in Chromium: type the code the account's authenticator app shows now."""
    from vern.accounts.models import User

    device = staff_device(User.objects.get(email=email))
    page.wait_for_url("**/second-factor/**")
    if "/second-factor/setup/" in page.url:  # the device was made just now, after the password step
        page.goto(page.url.replace("/second-factor/setup/", "/second-factor/"))
    page.fill("input[name=code]", totp_code(device))
    page.click("form[action*='second-factor'] button[type=submit]")
    page.wait_for_url(lambda url: "/second-factor/" not in url)


# ------------------------------------------------------------------ a software passkey


class SoftPasskey:
    """A passkey authenticator in software, for server-side tests: it answers vern's WebAuthn options
    as a browser with a platform authenticator would (``none`` attestation, an ES256 key, a counter).

    ``origin`` is the page's origin the browser reports; ``rp_id`` the relying party it signs for.
    """

    def __init__(self, *, origin: str = "http://testserver", rp_id: str = "testserver", counter: int = 0) -> None:
        import os

        from cryptography.hazmat.primitives.asymmetric import ec

        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.origin = origin
        self.rp_id = rp_id
        self.counter = counter

    @staticmethod
    def b64(data: bytes) -> str:
        from base64 import urlsafe_b64encode

        return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def _client_data(self, kind: str, challenge: str) -> bytes:
        import json

        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}).encode()

    def _auth_data(self, *, attested: bool, user_verified: bool = True) -> bytes:
        import hashlib

        import cbor2

        flags = 0x01 | (0x04 if user_verified else 0) | (0x40 if attested else 0)
        data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + self.counter.to_bytes(4, "big")
        if attested:
            numbers = self.key.public_key().public_numbers()
            cose = cbor2.dumps(
                {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
            )
            data += bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cose
        return data

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """The answer to ``navigator.credentials.create(options)``, as passkeys.js sends it."""
        import cbor2

        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": self._auth_data(attested=True)})
        return {
            "id": self.b64(self.credential_id),
            "rawId": self.b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": self.b64(client_data),
                "attestationObject": self.b64(attestation),
                "transports": ["internal"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }

    def get(self, options: dict[str, Any], *, user_verified: bool = True) -> dict[str, Any]:
        """The answer to ``navigator.credentials.get(options)``: the challenge signed with the key."""
        import hashlib

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        self.counter += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(attested=False, user_verified=user_verified)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.b64(self.credential_id),
            "rawId": self.b64(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": self.b64(client_data),
                "authenticatorData": self.b64(auth_data),
                "signature": self.b64(signature),
                "userHandle": None,
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        }
