"""The enquiry API in OpenAPI terms; ``vern.site.openapi`` joins it with the other APIs."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "origin",
                "request",
                "too_large",
                "media_type",
                "invalid",
                "honeypot",
                "too_fast",
                "expired",
                "token",
                "throttled",
                "unpublished",
                "basis",
                "unavailable",
            ],
        },
        "message": {"type": "string", "description": "For the visitor, in the language asked for"},
        "fields": {
            "type": "object",
            "description": "With error 'invalid': the messages for each field",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _error(description: str, *, page: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": "#/components/schemas/EnquiryError"}}}
    if page:
        # A plain form post (no JavaScript) is answered with this site's form page instead.
        content["text/html"] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


_NOT_ALLOWED = {"description": "Method not allowed; the Allow header lists the methods that are"}
_TEXT = {"type": "string", "maxLength": 5000}
ENQUIRY = {
    "type": "object",
    "required": ["kind", "name", "email", "organisation", "token"],
    "properties": {
        "kind": {"type": "string", "enum": ["contact", "demo"]},
        "lang": {"type": "string", "enum": ["nb", "en"], "default": "nb"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": "string", "format": "email", "minLength": 3, "maxLength": 254},
        "phone": {"type": "string", "maxLength": 40, "description": "Required for a demo"},
        "organisation": {"type": "string", "minLength": 1, "maxLength": 200},
        "message": {**_TEXT, "description": "Required for contact"},
        "preferred_date": {"type": "string", "format": "date", "description": "Demo only: a weekday after today"},
        "preferred_time": {"type": "string", "enum": ["any", "morning", "midday", "afternoon"]},
        "website": {"type": "string", "description": "The honeypot: leave it out or empty"},
        "token": {
            "type": "string",
            "minLength": 1,
            "description": "From GET /api/enquiries/form, used once, at least 3 s and at most a day old",
        },
    },
}
RECEIVED = {
    "type": "object",
    "required": ["status", "kind", "message"],
    "properties": {
        "status": {"const": "received"},
        "kind": {"type": "string", "enum": ["contact", "demo"]},
        "message": {"type": "string"},
    },
}

PATHS: dict[str, Any] = {
    "/api/enquiries/": {
        "post": {
            "operationId": "submitEnquiry",
            "summary": "Send an enquiry or a demo booking",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ENQUIRY},
                    "application/x-www-form-urlencoded": {"schema": ENQUIRY},
                },
            },
            "responses": {
                "201": {"description": "Stored", "content": {"application/json": {"schema": RECEIVED}}},
                "200": {
                    "description": "The same form (token) was sent before; nothing new is stored",
                    "content": {"application/json": {"schema": RECEIVED}},
                },
                "303": {"description": "A form post (no JavaScript) was stored: on to the thank-you page"},
                "400": _error(
                    "Not JSON or a form, not strings, or an unknown kind or language; for a form post, "
                    "the form page with what is wrong",
                    page=True,
                ),
                "403": _error("Not this site or a declared embedding site"),
                "405": _NOT_ALLOWED,
                "413": _error("The body is larger than 64 KB"),
                "415": _error("Neither JSON nor a form"),
                "422": _error("A field is wrong (see fields), or the token is missing, stale or too fresh"),
                "429": _error("Too many enquiries from this network or for this address in an hour", page=True),
                "503": _error("No privacy policy allows enquiries now, or the database is unavailable", page=True),
            },
        },
        "options": {
            "operationId": "submitEnquiryPreflight",
            "summary": "CORS preflight for declared embedding sites",
            "responses": {"204": {"description": "Allowed"}, "403": _error("Not a declared site"), "405": _NOT_ALLOWED},
        },
    },
    "/api/enquiries/form": {
        "get": {
            "operationId": "enquiryForm",
            "summary": "A one-time token and the privacy notice a form must show",
            "parameters": [
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["contact", "demo"]}},
                {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["nb", "en"]}},
            ],
            "responses": {
                "200": {
                    "description": "Token and notice",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["token", "min_seconds", "notice"],
                                "properties": {
                                    "token": {"type": "string"},
                                    "min_seconds": {"type": "integer"},
                                    "notice": {"type": "object", "additionalProperties": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                "400": _error("kind or lang is not one of the values offered"),
                "403": _error("Not a declared site"),
                "405": _NOT_ALLOWED,
                "503": _error("No privacy policy is published yet"),
            },
        },
        "options": {
            "operationId": "enquiryFormPreflight",
            "summary": "CORS preflight for declared embedding sites",
            "responses": {"204": {"description": "Allowed"}, "403": _error("Not a declared site"), "405": _NOT_ALLOWED},
        },
    },
}
SCHEMAS = {"EnquiryError": ERROR}
