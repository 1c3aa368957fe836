"""OpenAPI 3.1 from the pydantic models that validate the API: one description, no second copy.

An API view names its operations with ``@documented(Operation(...), ...)``: the
pydantic model of its query string or of its body, and every answer it gives
with the model of that answer's body. The view validates with the same models
(``Model.model_validate``) and builds its JSON answers with them, so the
document says what the code does. ``document()`` puts the operations of every
path together, with the models' JSON Schemas as ``components/schemas``.

Helpers for the checks: ``OneOf`` (a string from a fixed list, with its own
error type), ``Refusing`` (a string without these patterns, said so in a way
JSON Schema and Python read alike), and ``refused_values``, which tells a
request of the wrong shape from one whose shape is right but names a value the
API does not offer, so that each is refused as it was before pydantic checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

REF_TEMPLATE = "#/components/schemas/{model}"
NOT_OFFERED = "not_offered"
# Errors that say a value is not one the API takes, as opposed to a request of the wrong shape
# (not an object, a field of another JSON type).
VALUE_ERRORS = frozenset({"missing", NOT_OFFERED})

View = TypeVar("View", bound=Callable[..., Any])


class OneOf:
    """``Annotated[str, OneOf("a", "b")]``: a string that must be one of these, documented as an enum.

    A value of another JSON type fails as ``string_type``; a string not in the list
    as ``not_offered``, so the caller can answer the two differently.
    """

    def __init__(self, *values: str) -> None:
        self.values = tuple(values)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        described = dict(handler(schema))
        described["enum"] = list(self.values)
        return described

    def _check(self, value: str) -> str:
        if value not in self.values:
            raise PydanticCustomError(NOT_OFFERED, "Input should be one of: {values}", {"values": self.values})
        return value


class Refusing:
    """``Annotated[str, Refusing(r"^//")]``: a string in which none of these patterns is found.

    Documented as ``not: {pattern: ...}``. A pattern that refuses needs no ``$``, whose meaning
    differs between JSON Schema's regular expressions (ECMA-262: the end) and Python's (the end,
    or before a newline there), so the document and the check cannot disagree on it.
    """

    def __init__(self, *patterns: str) -> None:
        self.patterns = tuple(patterns)
        self._compiled = tuple(re.compile(pattern) for pattern in patterns)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        described = dict(handler(schema))
        found: list[dict[str, Any]] = [{"pattern": pattern} for pattern in self.patterns]
        described["not"] = found[0] if len(found) == 1 else {"anyOf": found}
        return described

    def _check(self, value: str) -> str:
        for pattern in self._compiled:
            if pattern.search(value):
                raise PydanticCustomError(
                    "string_refused", "String should not match {pattern}", {"pattern": pattern.pattern}
                )
        return value


def refused_values(error: ValidationError) -> frozenset[str] | None:
    """The top-level fields whose values were refused, when the request's shape is right; else None."""
    fields: set[str] = set()
    for problem in error.errors():
        if problem["type"] not in VALUE_ERRORS or len(problem["loc"]) != 1:
            return None
        fields.add(str(problem["loc"][0]))
    return frozenset(fields)


# ---------------------------------------------------------------- operations


@dataclass(frozen=True)
class Answer:
    """One response of an operation: its description and, per media type, a model or a raw schema."""

    description: str
    content: Mapping[str, type[BaseModel] | Mapping[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# A 503 because the database is down says when to try again.
RETRY_AFTER_HEADER: Mapping[str, Mapping[str, Any]] = {
    "Retry-After": {
        "description": "Seconds to wait before trying again (given when the database is down)",
        "schema": {"type": "integer", "minimum": 1},
    }
}


@dataclass(frozen=True)
class Operation:
    method: str
    operation_id: str
    summary: str
    responses: Mapping[int, Answer]
    description: str = ""
    query: type[BaseModel] | None = None  # each field is a query parameter
    body: Mapping[str, type[BaseModel]] = field(default_factory=dict)  # media type -> model


def preflight(operation_id: str, *, not_declared: Answer) -> Operation:
    """The CORS preflight (OPTIONS) of an API that declared sites embed; ``not_declared`` is the
    API's own refusal of any other site."""
    return Operation(
        method="options",
        operation_id=operation_id,
        summary="CORS preflight for declared embedding sites",
        responses={204: Answer("Allowed"), 403: not_declared},
    )


def documented(*operations: Operation) -> Callable[[View], View]:
    """Attach the operations a view answers; ``document()`` finds them through the URL map."""

    def attach(view: View) -> View:
        view.openapi_operations = operations  # type: ignore[attr-defined]
        return view

    return attach


def operations_of(view: Callable[..., Any]) -> Sequence[Operation]:
    return tuple(getattr(view, "openapi_operations", ()))


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema, without a title on every property (the name says it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _models(operations: Iterable[Operation]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    found: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for operation in operations:
        for model in operation.body.values():
            found[(model, "validation")] = None
        for answer in operation.responses.values():
            for content in answer.content.values():
                if isinstance(content, type):
                    found[(content, "serialization")] = None
    return list(found)


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(schema_generator=_Schemas)
    required = set(schema.get("required", ()))
    parameters = []
    for name, described in schema["properties"].items():
        described = dict(described)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in described:
            parameter["description"] = described.pop("description")
        parameters.append({**parameter, "schema": described})
    return parameters


def document(
    info: Mapping[str, Any],
    paths: Iterable[tuple[str, Sequence[Operation]]],
    *,
    with_query: Mapping[int, Answer] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for these paths and their operations.

    ``with_query``: answers the web server itself gives to any request with a query string
    (a request line too long to read), added to every operation that takes one.
    """
    paths = list(paths)
    every = [operation for _, operations in paths for operation in operations]
    refs, definitions = models_json_schema(_models(every), ref_template=REF_TEMPLATE, schema_generator=_Schemas)

    def content(media: Mapping[str, Any], mode: JsonSchemaMode) -> dict[str, Any]:
        media_types: dict[str, Any] = {}
        for media_type, schema in media.items():
            if isinstance(schema, type):
                media_types[media_type] = {"schema": refs[(schema, mode)]}
            else:  # a raw schema, e.g. for an HTML page; none (``{}``) for an image
                media_types[media_type] = {"schema": dict(schema)} if schema else {}
        return media_types

    described: dict[str, Any] = {}
    for path, operations in paths:
        for operation in operations:
            entry: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary}
            if operation.description:
                entry["description"] = operation.description
            if operation.query is not None:
                entry["parameters"] = _parameters(operation.query)
            if operation.body:
                entry["requestBody"] = {"required": True, "content": content(operation.body, "validation")}
            entry["responses"] = {}
            answers = dict(operation.responses)
            if operation.query is not None:
                answers.update(with_query or {})
            for status, answer in sorted(answers.items()):
                response: dict[str, Any] = {"description": answer.description}
                if answer.headers:
                    response["headers"] = {name: dict(header) for name, header in answer.headers.items()}
                if answer.content:
                    response["content"] = content(answer.content, "serialization")
                entry["responses"][str(status)] = response
            described.setdefault(path, {})[operation.method] = entry
    return {
        "openapi": "3.1.0",
        "info": dict(info),
        "paths": described,
        "components": {"schemas": definitions.get("$defs", {})},
    }
