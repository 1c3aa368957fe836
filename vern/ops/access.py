"""Access helpers for the operations console's objects."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from vern.accounts.access import require_capability
from vern.accounts.roles import Capability
from vern.jobs.models import Job
from vern.mail.models import OutboxMessage


def get_job_for_staff(request: HttpRequest, pk: int) -> Job:
    require_capability(request, Capability.OPERATE)
    return get_object_or_404(Job, pk=pk)


def get_outbox_message_for_staff(request: HttpRequest, pk: int) -> OutboxMessage:
    require_capability(request, Capability.OPERATE)
    return get_object_or_404(OutboxMessage, pk=pk)
