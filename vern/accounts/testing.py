"""Signing staff in from tests: the one helper for a test client, and the code step in Chromium.

Only the test suite imports this module."""

from __future__ import annotations

from typing import Any

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
