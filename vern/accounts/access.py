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

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from vern.accounts.models import PendingRoleGrant, User
from vern.accounts.roles import Capability

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


def staff_view(capability: Capability) -> Callable[[View], View]:
    """A staff page: logged-out visitors go to the login page, staff without ``capability`` get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if staff_member(request) is None:
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            require_capability(request, capability)
            response = view(request, *args, **kwargs)
            # Staff pages show personal data: no browser or proxy may keep a copy.
            add_never_cache_headers(response)
            return response

        wrapper.vern_capability = capability  # type: ignore[attr-defined]
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
