"""Passkeys in the console: adding and removing them on the security page, and using one on the
code page (signing in) and on the password-again page (re-authentication).

The browser side is ``static/vern/passkeys.js``; each ceremony is two JSON posts (options, then
the answer), and an error comes back as ``{"error": ..., "detail": text}`` in the staff member's
language, shown beside the button.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vern.accounts import passkeys, second_factor
from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.accounts.security_views import _me, _next, _wait_text
from vern.accounts.steps import staff_step
from vern.lib.bodies import BodyRefused, request_json

BODY_LIMIT = 64 * 1024  # an answer with a full attestation chain is a few KB


def _refused(code: str, detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = request_json(request, BODY_LIMIT, empty={})
    except BodyRefused as exc:
        raise _BadBody(exc.status) from None
    if not isinstance(body, dict):
        raise _BadBody(400)
    return body


class _BadBody(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _answer(request: HttpRequest, step: Any) -> JsonResponse:
    """Run one step of a ceremony, with its refusals as JSON the script shows."""
    try:
        return JsonResponse(step(_body(request)))
    except _BadBody as bad:
        return _refused(
            "request", _("The browser's answer could not be read. Reload the page and try again."), bad.status
        )
    except second_factor.Throttled as throttled:
        response = _refused("throttled", _wait_text(throttled.retry_after), 429)
        response["Retry-After"] = str(throttled.retry_after)
        return response
    except second_factor.SecondFactorError as exc:
        return _refused("refused", str(exc))


# ------------------------------------------------------------------ adding and removing (security page)


@staff_view(Capability.CONSOLE, reauth=True)
@require_POST
def register_options(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    return _answer(request, lambda body: passkeys.registration_options(request=request, user=user))


@staff_view(Capability.CONSOLE, reauth=True)
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    user = _me(request)

    def step(body: dict[str, Any]) -> dict[str, str]:
        passkey = passkeys.passkey_register(
            request=request, user=user, name=body.get("name", ""), credential=body.get("credential")
        )
        messages.success(request, _("The passkey “%(name)s” is added.") % {"name": passkey.name})
        return {"redirect": reverse("accounts:security")}

    return _answer(request, step)


@staff_view(Capability.CONSOLE, reauth=True)
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _me(request)
    return staff_step(
        request,
        lambda: passkeys.passkey_remove(request=request, user=user, pk=pk),
        done=lambda passkey: _("The passkey “%(name)s” is removed.") % {"name": passkey.name},
        then=reverse("accounts:security"),
        refused=second_factor.SecondFactorError,
    )


# ------------------------------------------------------------------ signing in (code page)


@staff_view(Capability.CONSOLE, second_factor=False)
@require_POST
def sign_in_options(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    if second_factor.is_verified(request):
        return JsonResponse({"redirect": _next(request)})
    return _answer(
        request, lambda body: passkeys.authentication_options(request=request, user=user, purpose=passkeys.SIGN_IN)
    )


@staff_view(Capability.CONSOLE, second_factor=False)
@require_POST
def sign_in(request: HttpRequest) -> HttpResponse:
    user = _me(request)

    def step(body: dict[str, Any]) -> dict[str, str]:
        if not second_factor.is_verified(request):
            passkeys.passkey_sign_in(request=request, user=user, credential=body.get("credential"))
        return {"redirect": _next(request)}

    return _answer(request, step)


# ------------------------------------------------------------------ re-authenticating (password-again page)


@staff_view(Capability.CONSOLE)
@require_POST
def reauth_options(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    return _answer(
        request, lambda body: passkeys.authentication_options(request=request, user=user, purpose=passkeys.REAUTH)
    )


@staff_view(Capability.CONSOLE)
@require_POST
def reauth(request: HttpRequest) -> HttpResponse:
    user = _me(request)

    def step(body: dict[str, Any]) -> dict[str, str]:
        passkeys.passkey_reauthenticate(request=request, user=user, credential=body.get("credential"))
        return {"redirect": _next(request)}

    return _answer(request, step)
