"""The consent API in OpenAPI terms; ``vern.site.openapi`` joins it with the other APIs.

Every response an operation can give is declared, so that a schema-driven fuzzer
(schemathesis) finds nothing undeclared.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "enum": ["unpublished", "revision", "choice", "category", "request", "origin", "token", "throttled"],
        },
        "message": {"type": "string"},
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _not_allowed() -> dict[str, Any]:
    return {"description": "Method not allowed; the Allow header lists the methods that are"}


PATHS: dict[str, Any] = {
    "/api/consent/": {
        "post": {
            "operationId": "chooseConsent",
            "summary": "Record a cookie choice",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["choice", "revision"],
                            "properties": {
                                "choice": {"type": "string", "enum": ["accept_all", "reject_all", "custom"]},
                                "categories": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
                                "revision": {"type": "integer", "minimum": 1},
                                "layer": {"type": "string", "enum": ["banner", "settings", "api", "embed"]},
                                "lang": {"type": "string", "enum": ["nb", "en"]},
                                "path": {
                                    "type": "string",
                                    "description": "The page's path; kept if it is a path of up to 300 "
                                    "characters, otherwise dropped (the choice is still recorded)",
                                },
                                "gpc": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "The choice is recorded",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": [
                                    "consent_id",
                                    "granted",
                                    "refused",
                                    "revision",
                                    "decided_at",
                                    "expires_at",
                                    "cookie",
                                    "max_age",
                                ],
                                "properties": {
                                    "consent_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                                    "granted": {"type": "array", "items": {"type": "string"}},
                                    "refused": {"type": "array", "items": {"type": "string"}},
                                    "revision": {"type": "integer"},
                                    "decided_at": {"type": "string", "format": "date-time"},
                                    "expires_at": {"type": "string", "format": "date-time"},
                                    "cookie": {"type": "string"},
                                    "max_age": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "400": _error("The request could not be understood (not JSON, wrong shape, bad layer or language)"),
                "403": _error("The request does not come from this site or a declared embedding site"),
                "405": _not_allowed(),
                "413": _error("The request body is larger than 4 KB"),
                "415": _error("The request body is not application/json"),
                "422": _error("Unknown category or choice, or a consent revision that is not the current one"),
                "429": _error("Too many choices from this network in a minute"),
            },
        },
        "options": {
            "operationId": "chooseConsentPreflight",
            "summary": "CORS preflight for declared embedding sites",
            "responses": {
                "204": {"description": "Allowed"},
                "403": _error("Not a declared site"),
                "405": _not_allowed(),
            },
        },
    },
    "/api/consent/config": {
        "get": {
            "operationId": "consentConfig",
            "summary": "What the banner shows, for a page that renders it itself",
            "parameters": [
                {
                    "name": "lang",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["nb", "en"]},
                }
            ],
            "responses": {
                "200": {
                    "description": "The banner's content and its hash",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["hash", "content", "choice"],
                                "properties": {
                                    "hash": {"type": "string"},
                                    "content": {"type": "object"},
                                    "choice": {"type": ["object", "null"]},
                                },
                            }
                        }
                    },
                },
                "400": _error("lang is not nb or en"),
                "403": _error("Not a declared site"),
                "405": _not_allowed(),
                "503": _error("No privacy policy is published yet"),
            },
        },
    },
}
SCHEMAS = {"Error": ERROR}
