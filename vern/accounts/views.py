"""Staff login, passwords, the console home and staff account management."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts import services
from vern.accounts.access import (
    CapabilityMissing,
    get_pending_grant_for_staff,
    get_staff_account_for_staff,
    require_capability,
    second_factor_needed_for,
    staff_member,
    staff_public,
    staff_view,
)
from vern.accounts.forms import LoginForm, PasswordForgotForm, StaffCreateForm, StaffRolesForm
from vern.accounts.models import PendingRoleGrant, User
from vern.accounts.roles import Capability, roles_granting
from vern.accounts.second_factor import is_verified
from vern.accounts.selectors import console_tiles
from vern.accounts.steps import staff_step
from vern.audit.services import Actor


def landing_url(user: User, next_url: str) -> str:
    """The page asked for before signing in, in the account's own language ("" for the console home).

    Console pages exist in both languages (``/staff/`` and ``/en/staff/``) and the
    URL decides which one a page is in; the second-factor step and every link in the
    console keep to the language they are in, so a sign-in that lands in the
    account's language keeps a staff member in it until they switch
    (``language_set``), which changes the account.
    """
    return translate_url(next_url, user.language) if next_url else ""


@staff_public
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    me = staff_member(request)
    if me is not None and request.method != "POST":
        if not is_verified(request):
            return second_factor_needed_for(me, next_url)
        return redirect(next_url or "accounts:home")
    form = LoginForm(request.POST or None)
    status = 200
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_check_password(
                request=request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except services.Throttled as throttled:
            seconds = throttled.retry_after
            minutes = max(1, math.ceil(seconds / 60))
            form.add_error(
                None,
                ngettext(
                    "Too many login attempts failed from your network. Try again in %(seconds)s second.",
                    "Too many login attempts failed from your network. Try again in %(seconds)s seconds.",
                    seconds,
                )
                % {"seconds": seconds}
                if seconds < 60
                else ngettext(
                    "Too many login attempts failed from your network. Try again in %(minutes)s minute.",
                    "Too many login attempts failed from your network. Try again in %(minutes)s minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            status = 429
            retry_after = throttled.retry_after
        else:
            if user is None:
                form.add_error(None, _("The email address or the password is wrong."))
            else:
                services.staff_login(request=request, user=user)
                return second_factor_needed_for(user, landing_url(user, next_url))
    response = render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@staff_view(Capability.CONSOLE, second_factor=False)
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.staff_logout(request=request)
    messages.info(request, _("You are logged out."))
    return redirect("accounts:login")


@staff_public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    form = PasswordForgotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_password_reset_request(request=request, email=form.cleaned_data["email"])
        except services.Throttled:
            form.add_error(None, _("Too many requests. Wait an hour and try again."))
            return render(request, "accounts/password_forgot.html", {"form": form}, status=429)
        return render(request, "accounts/password_forgot_sent.html")
    return render(request, "accounts/password_forgot.html", {"form": form})


def _user_from_link(uidb64: str, token: str) -> User | None:
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


@staff_public
@sensitive_post_parameters("new_password1", "new_password2")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_set(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_from_link(uidb64, token)
    if user is None:
        return render(request, "accounts/password_link_invalid.html", status=404)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.staff_set_password(user=user, password=form.cleaned_data["new_password1"], actor=Actor.staff(user))
        messages.success(request, _("Your password is set. Log in with it now."))
        return redirect("accounts:login")
    return render(request, "accounts/password_set.html", {"form": form, "account": user})


@staff_view(Capability.CONSOLE)
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.staff_set_password(user=user, password=form.cleaned_data["new_password1"], actor=Actor.staff(user))
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect("accounts:home")
    return render(request, "accounts/password_change.html", {"form": form})


def _me(request: HttpRequest) -> User:
    user = staff_member(request)
    assert user is not None  # staff_view has checked
    return user


@staff_view(Capability.CONSOLE)
@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    user = _me(request)
    return render(request, "accounts/home.html", {"tiles": console_tiles(user)})


@staff_view(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "HEAD"])
def people_list(request: HttpRequest) -> HttpResponse:
    people = User.objects.prefetch_related("role_grants").order_by("-is_active", "name")
    waiting = PendingRoleGrant.objects.select_related("user", "requested_by")
    return render(request, "accounts/people.html", {"people": people, "waiting": waiting, "me": _me(request)})


@staff_view(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = services.staff_create(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                roles=form.cleaned_data["roles"],
                language=form.cleaned_data["language"],
                actor=Actor.from_request(request),
            )
        except services.StaffError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("The account is created and an email with a link to set a password is on its way.")
            )
            return redirect("accounts:person", pk=person.pk)
    return render(request, "accounts/person_new.html", {"form": form})


def _person_page(request: HttpRequest, person: User, form: StaffRolesForm, status: int = 200) -> HttpResponse:
    context = {
        "person": person,
        "form": form,
        "is_me": person.pk == _me(request).pk,
        "waiting": PendingRoleGrant.objects.filter(user=person).select_related("requested_by"),
    }
    return render(request, "accounts/person.html", context, status=status)


@staff_view(Capability.MANAGE_STAFF)
@require_http_methods(["GET", "HEAD"])
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_account_for_staff(request, pk)
    return _person_page(request, person, StaffRolesForm(initial={"roles": sorted(person.roles)}))


def _roles_saved(saved: services.RolesSaved) -> str:
    if not saved.waiting:
        return _("The roles are saved.")
    roles = ", ".join(grant.role_label for grant in saved.waiting)
    text = _(
        "Saved. %(roles)s takes effect only when another administrator approves it; every administrator is told "
        "by mail."
    ) % {"roles": roles}
    if saved.approvers == 0:
        text += " " + _(
            "No other administrator can approve it yet. The operator can grant it on the server with vern staff roles."
        )
    return text


@staff_view(Capability.MANAGE_STAFF, reauth=True)
@require_POST
def person_roles(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_account_for_staff(request, pk)
    form = StaffRolesForm(request.POST)
    done = staff_step(
        request,
        lambda: services.staff_set_roles(
            user=person, roles=form.cleaned_data["roles"], actor=Actor.from_request(request)
        ),
        done=_roles_saved,
        then=reverse("accounts:person", kwargs={"pk": person.pk}),
        refused=services.StaffError,
        form=form,
    )
    return done or _person_page(request, person, form, status=400)


@staff_view(Capability.MANAGE_STAFF, reauth=True)
@require_POST
def grant_decide(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_pending_grant_for_staff(request, pk)
    decision = request.POST.get("decision")
    if decision not in ("approve", "decline"):
        return HttpResponseBadRequest(_("Say whether to approve or decline the role."))
    approve = decision == "approve"
    return staff_step(
        request,
        lambda: services.staff_grant_decide(grant=grant, approve=approve, by=_me(request)),
        done=_("The role is approved and takes effect now.") if approve else _("The role is declined."),
        then=reverse("accounts:people"),
        refused=services.StaffError,
    )


@staff_view(Capability.MANAGE_STAFF)
@require_POST
def person_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_account_for_staff(request, pk)
    actor = Actor.from_request(request)
    wanted = request.POST.get("active")
    if wanted not in ("yes", "no"):
        return HttpResponseBadRequest(_("Say whether the account should be active: yes or no."))
    try:
        if wanted == "yes":
            services.staff_reactivate(user=person, actor=actor)
            messages.success(request, _("The account is active again."))
        else:
            services.staff_deactivate(user=person, actor=actor)
            messages.success(request, _("The account is deactivated and can no longer log in."))
    except services.StaffError as exc:
        messages.error(request, str(exc))
    return redirect("accounts:person", pk=person.pk)


@staff_view(Capability.MANAGE_STAFF)
@require_POST
def person_send_link(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_account_for_staff(request, pk)
    services.staff_send_password_link(user=person, actor=Actor.from_request(request))
    messages.success(request, _("An email with a link to set a new password is on its way."))
    return redirect("accounts:person", pk=person.pk)


@staff_view(Capability.CONSOLE)
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The console header's language switch: it changes the account's language, then shows the same page in it."""
    user = require_capability(request, Capability.CONSOLE)
    try:
        services.staff_set_language(user=user, language=request.POST.get("language", ""))
    except services.StaffError as refused:
        return HttpResponseBadRequest(str(refused))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("accounts:home")
    return redirect(translate_url(next_url, user.language))


def console_forbidden(request: HttpRequest, exception: CapabilityMissing) -> HttpResponse:
    """The 403 page inside the console: which role opens the page, and who holds it (to ask them or an admin)."""
    roles = roles_granting(exception.capability)
    holders = (
        User.objects.filter(is_active=True, role_grants__role__in=roles).distinct().order_by("name", "email")
        if roles
        else User.objects.none()
    )
    context = {"roles": [role.label for role in roles], "holders": list(holders), "me": request.user}
    return render(request, "staff/403.html", context, status=403)
