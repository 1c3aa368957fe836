"""The analytics beacon in OpenAPI terms; ``vern.site.openapi`` joins it with the other APIs."""

from __future__ import annotations

from typing import Any


def _empty(description: str) -> dict[str, Any]:
    return {"description": description}


BEACON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["k", "u"],
    "properties": {
        "k": {"type": "string", "enum": ["v", "e"], "description": "v: a page view; e: engaged time on the page"},
        "u": {
            "type": "string",
            "pattern": "^/(?!/)",
            "maxLength": 2048,
            "description": "The page's path; the query string is cut to the declared parameters, the fragment dropped",
        },
        "r": {"type": "string", "maxLength": 2048, "description": "The referrer; only its host and path are kept"},
        "e": {"type": "integer", "minimum": 0, "maximum": 1800000, "description": "Engaged milliseconds (k = e)"},
    },
}

_REFUSALS = {
    "400": _empty("The beacon is malformed; nothing was stored"),
    "403": _empty("Sent from another site; nothing was stored"),
    "404": _empty("Analytics is switched off in the declaration"),
    "413": _empty("The body is larger than 2,048 bytes; it was not read"),
    "422": _empty("The page is not a page of this site; nothing was stored"),
    "429": _empty("Too many hits from this network; nothing was stored"),
}

PATHS: dict[str, Any] = {
    "/api/analytics/event": {
        "post": {
            "operationId": "analyticsEvent",
            "summary": "Count a page view or the time a page was looked at (sent by beacon.js)",
            "description": (
                "Sets no cookie, unless the visitor consented to statistics (then `vern_visitor`). "
                "The IP address is shortened before anything is written. A bot gets 204 and is not counted."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": {"schema": {"$ref": "#/components/schemas/Beacon"}},
                    "application/json": {"schema": {"$ref": "#/components/schemas/Beacon"}},
                },
            },
            "responses": {"204": _empty("Counted (or quietly ignored, for a bot)"), **_REFUSALS},
        }
    },
    "/api/analytics/pixel.gif": {
        "get": {
            "operationId": "analyticsPixel",
            "summary": "Count a page view from a page without JavaScript (an image in <noscript>)",
            "parameters": [
                {"name": "u", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 2048}},
                {"name": "r", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 2048}},
            ],
            "responses": {
                "200": {"description": "A transparent 1×1 GIF", "content": {"image/gif": {}}},
                **{code: answer for code, answer in _REFUSALS.items() if code != "413"},
            },
        }
    },
}

SCHEMAS: dict[str, Any] = {"Beacon": BEACON}
