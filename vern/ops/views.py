"""The operations console (jobs, outbox, audit log) and the health check."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_verify
from vern.mail.models import OutboxMessage
from vern.ops import selectors, services
from vern.ops.access import get_job_for_staff, get_outbox_message_for_staff
from vern.ops.selectors import cache_answers

AUDIT_PAGE = 100


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, and the cache too when it is Redis (``REDIS_URL``): every rate
    limit, staff login included, counts there. For load balancers and `vern run`'s start-up wait."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    if settings.REDIS_URL and not cache_answers():
        return JsonResponse({"status": "cache unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@staff_view(Capability.OPERATE)
@require_http_methods(["GET", "HEAD"])
def jobs(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ops/jobs.html",
        {
            "counts": selectors.job_counts(),
            "attention": selectors.jobs_needing_attention(),
            "recent": selectors.recent_jobs(),
        },
    )


@staff_view(Capability.OPERATE)
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_for_staff(request, pk)
    try:
        services.job_retry_by_staff(job=job, actor=Actor.from_request(request))
    except ValueError:
        messages.error(request, _("Only a failed job can be retried."))
    else:
        messages.success(request, _("The job is queued again."))
    return redirect("ops:jobs")


@staff_view(Capability.OPERATE)
@require_http_methods(["GET", "HEAD"])
def outbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    if status not in (None, *OutboxMessage.Status.values):
        status = None
    counts = selectors.outbox_counts()
    labels = {
        OutboxMessage.Status.QUEUED: _("Waiting"),
        OutboxMessage.Status.SENDING: _("Sending"),
        OutboxMessage.Status.SENT: _("Sent"),
        OutboxMessage.Status.FAILED: _("Not delivered"),
        OutboxMessage.Status.WITHHELD: _("Held back (restricted or objected)"),
    }
    return render(
        request,
        "ops/outbox.html",
        {
            "rows": selectors.outbox_rows(status=status),
            "filters": [(value, label, counts[value]) for value, label in labels.items()],
            "total": sum(counts.values()),
            "status": status,
        },
    )


@staff_view(Capability.OPERATE)
@require_POST
def outbox_requeue(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_outbox_message_for_staff(request, pk)
    try:
        services.outbox_requeue_by_staff(message=message, actor=Actor.from_request(request))
    except ValueError:
        messages.error(request, _("Only mail that could not be delivered can be sent again."))
    else:
        messages.success(request, _("The mail is queued again."))
    return redirect("ops:outbox")


@staff_view(Capability.READ_AUDIT)
@require_http_methods(["GET", "HEAD"])
def audit(request: HttpRequest) -> HttpResponse:
    before_text = request.GET.get("before", "")
    before = int(before_text) if before_text.isdigit() else None
    action = request.GET.get("action", "")
    if action not in AuditEvent.values:
        action = ""
    rows = selectors.audit_rows(before=before, limit=AUDIT_PAGE, action=action or None)
    return render(
        request,
        "ops/audit.html",
        {
            "rows": rows,
            "next_before": rows[-1].entry.seq if len(rows) == AUDIT_PAGE else None,
            "action": action,
            "events": sorted(((e.value, str(e.label)) for e in AuditEvent), key=lambda pair: pair[1].casefold()),
        },
    )


@staff_view(Capability.READ_AUDIT)
@require_POST
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    result = audit_verify()
    if result.ok:
        messages.success(
            request,
            _("The audit log is intact: %(rows)s rows checked, no row changed or missing.") % {"rows": result.rows},
        )
    else:
        messages.error(
            request,
            _("The audit log has been tampered with: %(problems)s") % {"problems": "; ".join(result.problems[:10])},
        )
    return redirect("ops:audit")
