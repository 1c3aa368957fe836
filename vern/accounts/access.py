"""Access checks for staff pages: one decorator, one helper per object type.

Views never fetch a staff-visible object with a bare ``Model.objects.get``;
they call a helper here, which checks the capability and answers 404 or 403.
The permission matrix test (``vern/tests/test_permission_matrix.py``) reads
``vern_capability`` off every staff view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse, translate_url
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from vern.accounts.models import PendingRoleGrant, User
from vern.accounts.roles import Capability
from vern.accounts.second_factor import has_device, is_verified, recent_auth

View = TypeVar("View", bound=Callable[..., HttpResponseBase])  # a streamed CSV export is a staff page too


def staff_member(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.is_active:
        return user
    return None


class CapabilityMissing(PermissionDenied):
    """A staff member opened a page their roles do not open; the 403 page says which role would."""

    def __init__(self, capability: Capability) -> None:
        super().__init__(capability.value)
        self.capability = capability


def require_capability(request: HttpRequest, capability: Capability) -> User:
    user = staff_member(request)
    if user is None or not user.can(capability):
        raise CapabilityMissing(capability)
    return user


def wants_json(request: HttpRequest) -> bool:
    """A staff API call rather than a page: under /api/, or asking for JSON and not for HTML."""
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def return_address(request: HttpRequest) -> str:
    """Where to come back to after a detour (second factor, password again).

    A page asked for with GET is asked for again. A form that was posted is never posted
    again: the person goes back to the page the form was on (the Referer, when it is one of
    ours), and sends it again themselves.
    """
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("accounts:home")


def _detour(request: HttpRequest, name: str, code: str, text: str) -> HttpResponseBase:
    if wants_json(request):
        return JsonResponse({"error": code, "detail": text}, status=403)
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': return_address(request)})}", status=303)


def second_factor_needed(request: HttpRequest, user: User) -> HttpResponseBase:
    if has_device(user):
        return _detour(request, "accounts:verify", "second_factor_required", _("Sign in with your second factor."))
    return _detour(request, "accounts:enrol", "second_factor_required", _("Set up your second factor first."))


def second_factor_needed_for(user: User, next_url: str) -> HttpResponseRedirect:
    """After the password: on to the code, or to setting up an authenticator app when the account has none."""
    name = "accounts:verify" if has_device(user) else "accounts:enrol"
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    # In the account's own language, as every page after it (accounts.views.landing_url).
    return HttpResponseRedirect(translate_url(reverse(name), user.language) + query, status=302)


def staff_view(capability: Capability, *, second_factor: bool = True, reauth: bool = False) -> Callable[[View], View]:
    """A staff page: logged-out visitors go to the login page, a session that has not passed the
    second factor goes to it (a staff API answers 403 JSON), staff without ``capability`` get 403.

    ``second_factor=False`` is only for the steps of signing in themselves (enrolment,
    verification, logout). ``reauth=True`` asks for the password again when it was given more
    than ten minutes ago (erasure, publishing, roles, exports of personal data).
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = staff_member(request)
            if user is None:
                if wants_json(request):
                    return JsonResponse({"error": "login_required", "detail": _("Log in first.")}, status=403)
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            if second_factor and not is_verified(request):
                response = second_factor_needed(request, user)
            else:
                require_capability(request, capability)
                if reauth and not recent_auth(request):
                    response = _detour(
                        request, "accounts:reauth", "reauthentication_required", _("Confirm your password first.")
                    )
                else:
                    response = view(request, *args, **kwargs)
            # Staff pages show personal data: no browser or proxy may keep a copy.
            add_never_cache_headers(response)
            return response

        wrapper.vern_capability = capability  # type: ignore[attr-defined]
        wrapper.vern_second_factor = second_factor  # type: ignore[attr-defined]
        wrapper.vern_reauth = reauth  # type: ignore[attr-defined]
        return cast(View, wrapper)

    return decorate


def staff_public(view: View) -> View:
    """A page under /staff/ that anyone may open (login, forgotten password)."""
    view.vern_staff_public = True  # type: ignore[attr-defined]
    return view


def get_staff_account_for_staff(request: HttpRequest, pk: int) -> User:
    require_capability(request, Capability.MANAGE_STAFF)
    return get_object_or_404(User, pk=pk)


def get_pending_grant_for_staff(request: HttpRequest, pk: int) -> PendingRoleGrant:
    require_capability(request, Capability.MANAGE_STAFF)
    return get_object_or_404(PendingRoleGrant.objects.select_related("user", "requested_by"), pk=pk)
