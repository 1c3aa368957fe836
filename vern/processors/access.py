"""The one way staff pages open a processor."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from vern.accounts.access import require_capability
from vern.accounts.roles import Capability
from vern.processors.models import Processor


def get_processor_for_staff(request: HttpRequest, pk: int, *, write: bool = False) -> Processor:
    """The processor ``pk`` for a staff member who may read the register (edit it, with ``write``)."""
    require_capability(request, Capability.MANAGE_PROCESSORS if write else Capability.READ_PROCESSORS)
    return get_object_or_404(Processor, pk=pk)
