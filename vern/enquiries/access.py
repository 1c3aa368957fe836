"""Getting an enquiry for a staff page: the capability is checked before the row is read."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from vern.accounts.access import require_capability
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.enquiries.models import Enquiry


def get_enquiry_for_staff(request: HttpRequest, pk: int) -> tuple[User, Enquiry]:
    staff = require_capability(request, Capability.WORK_ENQUIRIES)
    return staff, get_object_or_404(Enquiry, pk=pk)
