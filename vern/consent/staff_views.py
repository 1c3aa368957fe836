"""Proof of consent for the privacy officer: look up a consent id, export what was recorded."""

from __future__ import annotations

import io
import json
import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.consent.models import ConsentEvent
from vern.consent.services import CONSENT_CHAIN, consent_verify
from vern.lib import csvsafe

ID = re.compile(r"^[0-9a-f]{32}$")
# Exactly the fields the hash chain covers, so an export can be re-verified by hand.
EXPORT_FIELDS = ("seq", *CONSENT_CHAIN.fields)


def _row(event: ConsentEvent) -> dict[str, object]:
    values = {name: getattr(event, name) for name in EXPORT_FIELDS}
    values["created_at"] = event.created_at.isoformat()
    values["expires_at"] = event.expires_at.isoformat()
    return values


@staff_view(Capability.READ_CONSENT)
@require_http_methods(["GET", "HEAD"])
def search(request: HttpRequest) -> HttpResponse:
    consent_id = request.GET.get("id", "").strip().lower()
    events: list[ConsentEvent] = []
    error = ""
    if consent_id:
        if not ID.match(consent_id):
            error = "format"
        else:
            events = list(ConsentEvent.objects.filter(consent_id=consent_id).select_related("snapshot").order_by("seq"))
            audit_record(
                action=AuditEvent.CONSENT_VIEWED,
                actor=Actor.from_request(request),
                object_type="consent.consentevent",
                object_id=consent_id,
                data={"events": len(events)},
            )
            fmt = request.GET.get("format")
            if fmt in ("json", "csv"):
                return _export(events, fmt, consent_id)
    counts = {row["action"]: row["n"] for row in _counts()}
    return render(
        request,
        "consent/staff_search.html",
        {
            "consent_id": consent_id,
            "events": events,
            "error": error,
            "counts": counts,
            "total": sum(counts.values()),
        },
    )


def _counts() -> list[dict[str, object]]:
    from django.db.models import Count

    return list(ConsentEvent.objects.values("action").annotate(n=Count("pk")).order_by("action"))


def _export(events: list[ConsentEvent], fmt: str, consent_id: str) -> HttpResponse:
    rows = [_row(event) for event in events]
    if fmt == "json":
        body = json.dumps(
            {"consent_id": consent_id, "events": rows, "shown": {e.snapshot_id: e.snapshot.content for e in events}},
            ensure_ascii=False,
            indent=2,
        )
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        out = io.StringIO()
        writer = csvsafe.writer(out)
        writer.writerow(EXPORT_FIELDS)
        for row in rows:
            values = (row[name] for name in EXPORT_FIELDS)
            writer.writerow([";".join(value) if isinstance(value, list) else value for value in values])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-{consent_id[:8]}.{fmt}"'
    return response


@staff_view(Capability.READ_CONSENT)
@require_http_methods(["GET", "HEAD"])
def verify(request: HttpRequest) -> HttpResponse:
    result = consent_verify()
    return render(request, "consent/staff_verify.html", {"result": result})
