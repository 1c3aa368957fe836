"""/api/openapi.json: valid OpenAPI 3.1, every API route in it, and the same rules as the validation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # tests only; its stubs are not worth a dependency
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from schemathesis.specs.openapi.definitions import OPENAPI_31

from vern.lib.openapi import Operation
from vern.site.openapi import api_routes, spec
from vern.testing import schema_of

# What JSON Schema 2020-12 and OpenAPI 3.1 define for a schema; anything else is a typo or a
# constraint pydantic wrote under a name no validator reads (it once wrote "le" for "maximum").
KEYWORDS = {
    *("$ref", "$defs", "type", "enum", "const", "properties", "required", "additionalProperties", "items"),
    *("anyOf", "oneOf", "allOf", "not", "if", "then", "else", "pattern", "maxLength", "minLength"),
    *("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxItems", "minItems", "format"),
    *("title", "description", "default", "examples"),
}
SUBSCHEMA = ("items", "additionalProperties", "not", "if", "then", "else")
SUBSCHEMAS = ("anyOf", "oneOf", "allOf")


def keywords(schema: Any) -> Iterator[str]:
    if not isinstance(schema, dict):
        return
    yield from schema
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for inner in value.values():
                yield from keywords(inner)
        elif key in SUBSCHEMA:
            yield from keywords(value)
        elif key in SUBSCHEMAS:
            for inner in value:
                yield from keywords(inner)


def every_schema(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from document["components"]["schemas"].items()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield f"{method} {path} ?{parameter['name']}", parameter["schema"]
            for status, response in operation["responses"].items():
                for media_type, content in response.get("content", {}).items():
                    if "schema" in content:
                        yield f"{method} {path} {status} {media_type}", content["schema"]


def test_the_description_is_valid_openapi_3_1():
    document = spec()
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document)  # OpenAPI's own schema for 3.1
    for where, schema in every_schema(document):
        jsonschema.Draft202012Validator.check_schema(schema)
        unknown = set(keywords(schema)) - KEYWORDS
        assert not unknown, f"{where} uses {unknown}"
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.django_db
def test_the_description_is_served_as_json(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(spec()))


@pytest.mark.django_db
def test_every_api_route_is_described_with_exactly_the_methods_it_answers(client, published):
    described = spec()["paths"]
    routes = [path for path, _ in api_routes() if path != "/api/openapi.json"]
    assert sorted(routes) == sorted(described)
    for path in routes:
        refused = client.generic("PATCH", path, HTTP_ORIGIN="http://testserver")
        assert refused.status_code == 405, path
        methods = {method.upper() for method in described[path]}
        if "GET" in methods:
            methods.add("HEAD")  # answered as GET without the body (RFC 9110), never described apart
        assert set(refused["Allow"].split(", ")) == methods, path


# ---------------------------------------------------------------- the document and the models agree


def _requests() -> list[Any]:
    """Each model that validates a request, with the schema the document gives for it."""
    document = spec()
    found: dict[str, Any] = {}
    for path, operations in api_routes():
        for operation in operations:
            for model in operation.body.values():
                schema = schema_of(document, {"$ref": f"#/components/schemas/{model.__name__}"})
                found[model.__name__] = pytest.param(model, schema, False, id=model.__name__)
            if operation.query is not None:
                schema = _query(document, path, operation)
                found[operation.query.__name__] = pytest.param(
                    operation.query, schema, True, id=operation.query.__name__
                )
    return [found[name] for name in sorted(found)]


def _query(document: dict[str, Any], path: str, operation: Operation) -> dict[str, Any]:
    parameters = document["paths"][path][operation.method]["parameters"]
    return {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in parameters},
        "required": [p["name"] for p in parameters if p["required"]],
    }


def _enums(schema: Any) -> Iterator[Any]:
    if isinstance(schema, dict):
        yield from schema.get("enum", ())
        for value in schema.values():
            yield from _enums(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _enums(value)


# Strings near the edges of the rules the APIs have: paths, control characters, lengths, numbers.
# (No unpaired surrogates: the descriptions say they are refused; JSON Schema has no word for it.)
EDGES = ["", "/", "//", "/a", "/a\n", "/\x1b[2J", "a", "0", "12", "1.5", " ", "/" + "x" * 2047, "/" + "x" * 2048]
NUMBERS = st.integers(-2, 2_000_000) | st.sampled_from([0, 1, 1_800_000, 1_800_001, 10**12, 1.0, 1.5, 5.0, -0.0])


def _values(model: type[BaseModel], schema: dict[str, Any], *, query: bool) -> st.SearchStrategy[Any]:
    """Bodies near the model's own examples (one or two fields changed or left out), and any bodies."""
    text = st.sampled_from([*_enums(schema), *EDGES]) | st.text(max_size=12)
    if query:  # a query string carries strings only
        values = text
    else:
        values = st.none() | st.booleans() | NUMBERS | text | st.lists(text | NUMBERS, max_size=3)
    keys = st.sampled_from([*model.model_fields, "other"])
    examples = model.model_json_schema()["examples"]

    def changed(example: dict[str, Any], changes: dict[str, Any], gone: set[str]) -> dict[str, Any]:
        return {key: value for key, value in {**example, **changes}.items() if key not in gone}

    near = st.builds(
        changed, st.sampled_from(examples), st.dictionaries(keys, values, max_size=2), st.sets(keys, max_size=1)
    )
    anything = st.dictionaries(keys, values, max_size=len(model.model_fields) + 1)
    return st.one_of(near, near, anything) if query else st.one_of(near, near, anything, st.lists(text, max_size=2))


@pytest.mark.parametrize(("model", "schema", "query"), _requests())
def test_the_description_allows_exactly_what_the_validation_accepts(model, schema, query):
    validator = jsonschema.Draft202012Validator(schema)
    for example in model.model_json_schema()["examples"]:  # the examples the models give are good ones
        assert validator.is_valid(example) and model.model_validate(example)

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_values(model, schema, query=query))
    def agree(value):
        try:
            model.model_validate(value)
            accepted = True
        except ValidationError:
            accepted = False
        assert validator.is_valid(value) == accepted, f"{model.__name__}: {value!r}"

    agree()
