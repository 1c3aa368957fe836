"""The JSON Schema (draft 2020-12) of ``portability.json``, the portability package's data (Art. 20, R18).

Published at ``rights:portability_schema`` (``/privacy/requests/schema/portability.json``)
with its own address as ``$id``; ``portability.json`` names that address under ``schema``.
A change to the package's shape changes this schema and its ``version``.
"""

from __future__ import annotations

from typing import Any

PORTABILITY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Data portability export (GDPR Art. 20)",
    "description": (
        "The personal data a person provided on the basis of consent (Art. 6(1)(a)) or a contract or "
        "pre-contractual steps (Art. 6(1)(b)). One block per kind of record; each row holds the fields the "
        "block names, times in ISO 8601 (UTC) and dates as YYYY-MM-DD. Email addresses and phone numbers of "
        "other people in text are replaced by [masked]."
    ),
    "type": "object",
    "required": ["format", "version", "controller", "generated_at", "language", "records"],
    "additionalProperties": False,
    "properties": {
        "format": {"type": "string", "enum": ["vern.portability"]},
        "version": {"type": "integer", "enum": [1]},
        "schema": {"type": "string", "format": "uri", "description": "Where this schema is published."},
        "controller": {
            "type": "object",
            "required": ["name", "org_number", "email", "website"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "org_number": {"type": "string"},
                "email": {"type": "string", "format": "email"},
                "website": {"type": "string", "format": "uri"},
            },
        },
        "generated_at": {"type": "string", "format": "date-time"},
        "language": {"type": "string", "enum": ["nb", "en"]},
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["model", "title", "bases", "fields", "rows"],
                "additionalProperties": False,
                "properties": {
                    "model": {"type": "string", "description": "app_label.Model"},
                    "title": {"type": "string"},
                    "bases": {
                        "type": "array",
                        "description": "The legal bases (Art. 6(1)) the rows rest on.",
                        "items": {"type": "string", "enum": ["a", "b"]},
                    },
                    "fields": {"type": "array", "items": {"type": "string"}},
                    "rows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": {
                                "type": ["string", "integer", "number", "boolean", "null", "array", "object"]
                            },
                        },
                    },
                },
            },
        },
    },
}
