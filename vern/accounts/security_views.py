"""The second factor's pages: enrolment, verification, password again, and the security page
where staff see their sign-ins, end other sessions and make new recovery codes."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from vern.accounts import passkeys, second_factor
from vern.accounts.access import get_staff_account_for_staff, staff_member, staff_view
from vern.accounts.forms import CodeForm, EnrolForm, ReauthForm
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.services import Actor


def _me(request: HttpRequest) -> User:
    user = staff_member(request)
    assert user is not None  # staff_view has checked
    return user


def _next(request: HttpRequest) -> str:
    """The page to go on to: one of ours, or the console's front page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:home")


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return ngettext(
            "Too many wrong codes from your network. Try again in %(seconds)s second.",
            "Too many wrong codes from your network. Try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many wrong codes from your network. Try again in %(minutes)s minute.",
        "Too many wrong codes from your network. Try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def _throttled(response: HttpResponse, throttled: second_factor.Throttled) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(throttled.retry_after)
    return response


@staff_view(Capability.CONSOLE, second_factor=False)
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """First login: set up an authenticator app from a QR code (or the secret typed in), confirmed by a code."""
    user = _me(request)
    if second_factor.is_verified(request) or second_factor.has_device(user):
        verified = second_factor.is_verified(request)
        return HttpResponseRedirect(_next(request) if verified else _step_url(request, "accounts:verify"))
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = second_factor.second_factor_enrol(request=request, user=user, code=form.cleaned_data["code"])
        except second_factor.Throttled as throttled:
            form.add_error(None, _wait_text(throttled.retry_after))
            return _throttled(_enrol_page(request, user, form), throttled)
        except second_factor.SecondFactorError as exc:
            if second_factor.has_device(user):  # set up meanwhile, in another tab
                return HttpResponseRedirect(_step_url(request, "accounts:verify"))
            form.add_error("code", str(exc))
        else:
            return render(
                request, "accounts/recovery_codes.html", {"codes": codes, "next": _next(request), "new": True}
            )
    return _enrol_page(request, user, form, status=400 if form.errors else 200)


def _enrol_page(request: HttpRequest, user: User, form: EnrolForm, status: int = 200) -> HttpResponse:
    enrolment = second_factor.enrolment_start(user=user)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": mark_safe(enrolment.qr_svg),  # noqa: S308 - segno's own SVG of our otpauth:// address
            "secret": enrolment.secret,
            "next": _next(request),
        },
        status=status,
    )


def _step_url(request: HttpRequest, name: str) -> str:
    """The other step of signing in, keeping where the person was going."""
    target = request.GET.get("next", "")
    return reverse(name) + (f"?{urlencode({'next': target})}" if target else "")


@staff_view(Capability.CONSOLE, second_factor=False)
@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of every login: a code from the authenticator app, or a recovery code."""
    user = _me(request)
    if second_factor.is_verified(request):
        return HttpResponseRedirect(_next(request))
    if not second_factor.has_device(user):
        return redirect(_step_url(request, "accounts:enrol"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            sign_in = second_factor.second_factor_check(request=request, user=user, code=form.cleaned_data["code"])
        except second_factor.Throttled as throttled:
            form.add_error(None, _wait_text(throttled.retry_after))
            page = render(request, "accounts/verify.html", _verify_context(request, user, form))
            return _throttled(page, throttled)
        except second_factor.SecondFactorError as exc:
            form.add_error("code", str(exc))
            status = 400
        else:
            if sign_in.method == sign_in.Method.RECOVERY:
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code. You have %(left)s left; make new ones on the "
                        "security page.",
                        "You signed in with a recovery code. You have %(left)s left; make new ones on the "
                        "security page.",
                        left,
                    )
                    % {"left": left},
                )
            return HttpResponseRedirect(_next(request))
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/verify.html", _verify_context(request, user, form), status=status)


def _verify_context(request: HttpRequest, user: User, form: CodeForm) -> dict[str, object]:
    return {
        "form": form,
        "next": _next(request),
        "has_passkey": passkeys.has_passkey(user),
        "has_authenticator": second_factor.has_authenticator(user),
    }


@staff_view(Capability.CONSOLE)
@sensitive_post_parameters("password")
@require_http_methods(["GET", "HEAD", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Type the password again before an action that erases, publishes, changes roles or exports
    personal data; then back to the page it was asked from (a form is shown again, never re-sent)."""
    user = _me(request)
    form = ReauthForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            ok = second_factor.staff_reauthenticate(request=request, user=user, password=form.cleaned_data["password"])
        except second_factor.Throttled as throttled:
            form.add_error(None, _wait_text(throttled.retry_after))
            page = render(request, "accounts/reauth.html", _reauth_context(request, user, form))
            return _throttled(page, throttled)
        if ok:
            return HttpResponseRedirect(_next(request))
        form.add_error("password", _("The password is wrong."))
        status = 400
    elif request.method == "POST":
        status = 400
    return render(request, "accounts/reauth.html", _reauth_context(request, user, form), status=status)


def _reauth_context(request: HttpRequest, user: User, form: ReauthForm) -> dict[str, object]:
    return {"form": form, "next": _next(request), "has_passkey": passkeys.has_passkey(user)}


@staff_view(Capability.CONSOLE)
@require_http_methods(["GET", "HEAD"])
def security(request: HttpRequest) -> HttpResponse:
    """The account's own security: authenticator, passkeys, recovery codes, recent sign-ins (each can be ended)."""
    user = _me(request)
    context = {
        "device": TOTPDevice.objects.filter(user=user, confirmed=True).first(),
        "passkeys": passkeys.passkeys_of(user),
        "name_length": passkeys.NAME_LENGTH,
        "codes_left": second_factor.recovery_codes_left(user),
        "sign_ins": second_factor.sign_ins_recent(user),
        "current": request.session.get(second_factor.SESSION_SIGN_IN),
    }
    return render(request, "accounts/security.html", context)


@staff_view(Capability.CONSOLE)
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    user = _me(request)
    return staff_step(
        request,
        lambda: second_factor.sign_in_end(
            user=user, sign_in_id=pk, current_id=request.session.get(second_factor.SESSION_SIGN_IN)
        ),
        done=_("That session is ended: it is logged out."),
        then=reverse("accounts:security"),
        refused=second_factor.SecondFactorError,
    )


@staff_view(Capability.CONSOLE, reauth=True)
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make new recovery codes, shown once; the old ones stop working."""
    codes = second_factor.recovery_codes_regenerate(user=_me(request))
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:security")})


@staff_view(Capability.MANAGE_STAFF, reauth=True)
@require_POST
def person_second_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator resets someone else's second factor (a lost phone); they enrol again at next login."""
    person = get_staff_account_for_staff(request, pk)
    return staff_step(
        request,
        lambda: second_factor.second_factor_reset(user=person, actor=Actor.from_request(request)),
        done=_(
            "The second factor is reset: authenticator app, passkeys and recovery codes. The person sets up an "
            "authenticator app again at their next login."
        ),
        then=reverse("accounts:person", kwargs={"pk": person.pk}),
        refused=second_factor.SecondFactorError,
    )
