"""Getting a rights request for a staff page: the capability is checked before the row is read."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from vern.accounts.access import require_capability
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.rights.models import Request


def get_request_for_staff(request: HttpRequest, pk: int) -> tuple[User, Request]:
    staff = require_capability(request, Capability.HANDLE_REQUESTS)
    return staff, get_object_or_404(Request.objects.select_related("assigned_to", "registered_by"), pk=pk)
