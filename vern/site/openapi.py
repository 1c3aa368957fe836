"""``/api/openapi.json``: one description of every API vern serves.

Every response an operation can give is declared, so that a schema-driven fuzzer
(schemathesis) finds nothing undeclared.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from vern.analytics import openapi as analytics
from vern.consent import openapi as consent
from vern.enquiries import openapi as enquiries

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "vern API",
        "version": "1",
        "description": (
            "Record a visitor's cookie choice; send an enquiry or a demo booking from this site or a declared one; "
            "count a page view."
        ),
    },
    "paths": {**consent.PATHS, **enquiries.PATHS, **analytics.PATHS},
    "components": {"schemas": {**consent.SCHEMAS, **enquiries.SCHEMAS, **analytics.SCHEMAS}},
}


@require_safe
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(SPEC)
