"""The beacon and the no-script image as pydantic models: they check every hit and describe the API.

``capture.check_beacon`` validates each beacon with ``BeaconRequest`` (the WSGI
front in production and the Django view alike), and ``views.pixel`` its query
with ``PixelQuery``; ``/api/openapi.json`` is generated from the same models.
Both endpoints answer with a status and an empty body, so the answers below have
no content.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from vern.lib.openapi import RETRY_AFTER_HEADER, Answer, OneOf, Operation, Refusing

MAX_BODY = 2048  # bytes; a beacon is about 150
MAX_URL = 2048  # characters, before reduction
MAX_ENGAGED_MS = 30 * 60 * 1000  # one report covers at most the 30 minutes a visit may pause
# What a database column cannot hold: control characters (tab and newline too, in a URL).
CONTROL = r"[\x00-\x1f\x7f]"
UNPAIRED_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _whole(value: object) -> object:
    """1025.0 is the integer 1025, as JSON Schema counts numbers; 1025.5 stays a number and is refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _paired(value: str) -> str:
    """No unpaired surrogate either (JSON can carry one as an escape, and no database can store it)."""
    if UNPAIRED_SURROGATE.search(value):
        raise ValueError("an unpaired surrogate")
    return value


# A path on this site: one slash first (two would name another host).
PagePath = Annotated[str, Field(max_length=MAX_URL, pattern="^/"), Refusing("^//", CONTROL), AfterValidator(_paired)]
Referrer = Annotated[str, Field(max_length=MAX_URL), Refusing(CONTROL), AfterValidator(_paired)]
# A goal's name, as a data-vern-goal attribute gives it (docs/analytics.md, "Goals").
GOAL_PATTERN = r"^[A-Za-z0-9_.:-]{1,60}$"
GoalName = Annotated[str, Field(max_length=60, pattern=GOAL_PATTERN)]
# Engaged time comes with an engagement report, and only with one.
ENGAGED_TIME_RULE: dict[str, Any] = {
    "if": {"properties": {"k": {"const": "e"}}},
    "then": {"required": ["e"], "properties": {"e": {"minimum": 1}}},
    "else": {"properties": {"e": {"const": 0}}},
}
# A goal's name comes with a custom event, and only with one.
GOAL_RULE: dict[str, Any] = {
    "if": {"properties": {"k": {"const": "g"}}},
    "then": {"required": ["g"]},
    "else": {"not": {"required": ["g"]}},
}


class BeaconRequest(BaseModel):
    """A beacon, as beacon.js sends it (text/plain, so that a browser sends it without asking first)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        use_attribute_docstrings=True,
        json_schema_extra={
            "allOf": [ENGAGED_TIME_RULE, GOAL_RULE],
            "examples": [
                {"k": "v", "u": "/en/contact/", "r": "https://duckduckgo.com/"},
                {"k": "e", "u": "/demo/?utm_source=news", "e": 15000},
                {"k": "g", "u": "/demo/", "g": "demo-booked"},
            ],
        },
    )

    k: Annotated[str, OneOf("v", "e", "g")]
    """v: a page view; e: engaged time on the page; g: a goal reached (a click on an element with
    a data-vern-goal attribute)."""
    u: PagePath
    """The page's path; the query string is cut to the declared parameters, the fragment dropped. No
    control characters and no unpaired surrogates."""
    r: Referrer = ""
    """The referrer; only its host and path are kept. No control characters and no unpaired surrogates."""
    e: Annotated[int, Field(ge=0, le=MAX_ENGAGED_MS), BeforeValidator(_whole)] = 0
    """Engaged milliseconds: more than 0 with k = e, and 0 (or left out) otherwise."""
    g: GoalName = ""
    """The goal's name (1–60 letters, digits and ``_.:-``), with k = g and only then."""

    @model_validator(mode="after")
    def _engaged_time_only_on_engagement(self) -> BeaconRequest:
        if (self.k == "e") != (self.e > 0):
            raise ValueError("engaged time comes with k = e, and only then")
        if (self.k == "g") != ("g" in self.model_fields_set):
            raise ValueError("a goal's name comes with k = g, and only then")
        return self


class PixelQuery(BaseModel):
    model_config = ConfigDict(
        strict=True, use_attribute_docstrings=True, json_schema_extra={"examples": [{"u": "/en/", "r": ""}]}
    )

    u: PagePath
    """The page's path, as for the beacon."""
    r: Referrer = ""
    """The referrer; only its host and path are kept. No control characters and no unpaired surrogates."""


_REFUSALS = {
    400: Answer("The hit is malformed (also: not UTF-8, or with an array or object inside); nothing was stored"),
    403: Answer("Sent from another site; nothing was stored"),
    404: Answer("Analytics is switched off in the declaration"),
    422: Answer("The page is not a page of this site; nothing was stored"),
    429: Answer("Too many hits from this network; nothing was stored"),
    503: Answer(
        "The database is down and this server cannot count the hit now (it has not read the site's settings "
        "since it started); nothing was stored",
        headers=RETRY_AFTER_HEADER,
    ),
}

COUNT_EVENT = Operation(
    method="post",
    operation_id="analyticsEvent",
    summary="Count a page view, the time a page was looked at, or a goal reached (sent by beacon.js)",
    description=(
        "Sets no cookie, unless the visitor consented to statistics (then `vern_visitor`). "
        "The IP address is shortened before anything is written. A bot gets 204 and is not counted."
    ),
    body={"text/plain": BeaconRequest, "application/json": BeaconRequest},
    responses={
        204: Answer("Counted (or quietly ignored, for a bot)"),
        413: Answer(f"The body is larger than {MAX_BODY:,} bytes; it was not parsed"),
        **_REFUSALS,
    },
)
COUNT_PIXEL = Operation(
    method="get",
    operation_id="analyticsPixel",
    summary="Count a page view from a page without JavaScript (an image in <noscript>)",
    query=PixelQuery,
    responses={200: Answer("A transparent 1×1 GIF", {"image/gif": {}}), **_REFUSALS},
)
