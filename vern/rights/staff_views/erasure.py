"""Erasure on the console: the preview of what goes and what stays, carrying it out, and its receipt."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.rights import selectors
from vern.rights.access import get_request_for_staff
from vern.rights.models import Request, Right
from vern.rights.services.erasure import Preview, erasure_failed, erasure_preview, erasure_queue, erasure_queued
from vern.rights.services.steps import WHILE_OPEN, RequestRefused
from vern.rights.staff_forms import ErasureForm, refusal_of, refusal_text
from vern.rights.staff_views.pages import confirm_page, field_titles, is_model, key_names, model_title


def _preview_rows(preview: Preview) -> list[dict[str, Any]]:
    """The erasure preview's lines, each model titled by its own name (another system's source by
    the title its connector gives it)."""
    return [
        {
            "name": model_title(line.label) if is_model(line.label) else line.name,
            "count": line.count,
            "action": line.action,
            "action_text": line.action_text,
            "erased": line.erased,
            "ground": line.ground,
            "fields": field_titles(line.label, line.fields),
            "part_of": model_title(line.part_of) if line.part_of else "",
            "note": str(line.note),
        }
        for line in preview.lines
    ]


def _receipt(subject: Request) -> dict[str, Any] | None:
    """The receipt of the request's erasure, from its timeline (counts and grounds, no identifier)."""
    event = subject.events.filter(kind="erased").order_by("-at", "-pk").first()
    if event is None:
        return None
    data = event.data or {}
    deleted = data.get("deleted") or {}
    anonymised = data.get("anonymised") or {}
    return {
        "at": event.at,
        "actor": event.actor.name if event.actor else "",
        "deleted": [(model_title(label), label, count) for label, count in deleted.items()],
        "anonymised": [(model_title(label), label, count) for label, count in anonymised.items()],
        "kept": [(model_title(label), label, ground) for label, ground in (data.get("kept") or {}).items()],
        "contact_cleared": int(data.get("contact_cleared") or 0),
        "keys": key_names(data.get("keys") or []),
        "removed": sum(int(n) for n in deleted.values()) + sum(int(n) for n in anonymised.values()),
        "backups_gone_by": selectors.erasure_backups_gone_by(subject),
    }


@staff_view(Capability.HANDLE_REQUESTS, reauth=True)
@require_http_methods(["GET", "HEAD", "POST"])
def erasure(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview of what an erasure removes, anonymises and keeps (with its Art. 17(3) ground); once it
    is carried out, its receipt."""
    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.ERASURE in subject.rights and Right.ERASURE not in subject.done
    form = ErasureForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if not allowed:
            messages.error(request, refusal_text("closed" if subject.status not in WHILE_OPEN else "right"))
        else:
            done = staff_step(
                request,
                lambda: erasure_queue(request=subject, staff=staff),
                refused=RequestRefused,
                explain=refusal_of,
                form=form,
                done=_(
                    "The erasure is handed to the background worker, which erases the person's data as the "
                    "preview showed. This page shows the receipt once it is done."
                ),
                then=reverse("rights_staff:erasure", kwargs={"pk": subject.pk}),
            )
            if done is not None:
                return done
    receipt = _receipt(subject) if Right.ERASURE in subject.done else None
    if receipt is not None:
        return confirm_page(request, staff, subject, "erasure", status=status, receipt=receipt)
    queued = erasure_queued(subject) if allowed else None
    if queued is not None:
        return confirm_page(request, staff, subject, "erasure", status=status, queued=queued)
    preview = erasure_preview(subject) if allowed else None
    rows = _preview_rows(preview) if preview is not None else []
    return confirm_page(
        request,
        staff,
        subject,
        "erasure",
        status=status,
        form=form,
        erased=[row for row in rows if row["erased"]],
        kept=[row for row in rows if not row["erased"]],
        keys=key_names(preview.keys) if preview is not None else "",
        contact_cleared=preview.contact_cleared if preview is not None else 0,
        allowed=allowed,
        phone_unverified=bool(subject.phone_index) and not subject.phone_verified,
        on_hold=preview.on_hold if preview is not None else False,
        pending=selectors.pending_download(subject) if allowed else None,
        failed=erasure_failed(subject) if allowed else False,
    )
