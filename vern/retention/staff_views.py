"""Retention for the privacy officer: the plan, the sweeps, and legal holds."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.jobs.services import job_enqueue_once
from vern.lib.language import page_language
from vern.retention import selectors
from vern.retention.forms import HoldForm
from vern.retention.models import Hold
from vern.retention.services import HoldRefused, hold_place, hold_release

HOLD_MESSAGES = {
    "not_found": lambda: _("There is no such record."),
    "past": lambda: _("A hold must end after today."),
}


def _overview(request: HttpRequest, form: HoldForm, status: int = 200) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_RETENTION)
    holds = list(selectors.active_holds())
    # The page shows the reasons of the holds, which may name people: looking is recorded.
    audit_record(
        action=AuditEvent.RETENTION_VIEWED, actor=Actor.staff(staff), data={"holds_shown": [h.pk for h in holds]}
    )
    context = {
        "plan": selectors.plan_rows(page_language()),
        "runs": selectors.last_runs(),
        "next_run": selectors.next_run(),
        "holds": holds,
        "form": form,
    }
    return render(request, "retention/staff_overview.html", context, status=status)


@staff_view(Capability.MANAGE_RETENTION)
@require_http_methods(["GET", "HEAD"])
def overview(request: HttpRequest) -> HttpResponse:
    return _overview(request, HoldForm())


@staff_view(Capability.MANAGE_RETENTION)
@require_POST
def sweep_now(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_RETENTION)
    return staff_step(
        request,
        lambda: _queue_sweep(staff),
        done=_("A sweep is queued; the worker runs it within a minute."),
        then=reverse("retention_staff:overview"),
    )


def _queue_sweep(staff: User) -> None:
    with transaction.atomic():
        job = job_enqueue_once(selectors.SWEEP_JOB, key=selectors.SWEEP_JOB, payload={"staff_id": staff.pk})
        if job is not None:
            audit_record(
                action=AuditEvent.RETENTION_SWEEP_REQUESTED,
                actor=Actor.staff(staff),
                object_type="jobs.job",
                object_id=job.pk,
            )


@staff_view(Capability.MANAGE_RETENTION)
@require_POST
def hold_new(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_RETENTION)
    form = HoldForm(request.POST)
    done = staff_step(
        request,
        lambda: hold_place(
            staff=staff,
            reason=form.cleaned_data["reason"],
            ends_at=form.ends_at,
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            record_model=form.cleaned_data["record_model"],
            record_pk=form.cleaned_data["record_pk"].strip(),
        ),
        refused=HoldRefused,
        explain=lambda refused: HOLD_MESSAGES.get(refused.code, lambda: _("The hold could not be placed."))(),
        form=form,
        done=_("The hold is in place. Nothing it covers is removed until it ends."),
        then=reverse("retention_staff:overview"),
    )
    if done is not None:
        return done
    return _overview(request, form, status=400)


@staff_view(Capability.MANAGE_RETENTION)
@require_POST
def hold_end(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_RETENTION)
    hold = get_object_or_404(Hold, pk=pk)
    return staff_step(
        request,
        lambda: hold_release(staff=staff, hold=hold),
        refused=HoldRefused,
        explain=lambda refused: _("This hold has already ended."),
        done=_("The hold is released. What it kept is removed at the next sweep if due."),
        then=reverse("retention_staff:overview"),
    )
