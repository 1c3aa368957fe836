"""The consent API's requests and answers as pydantic models, and its error codes.

``views.py`` validates each request with these models and builds each JSON answer
with them; ``/api/openapi.json`` is generated from the same models and the
operations below (``vern.lib.openapi``), so the two cannot disagree.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field

from vern.consent.models import ConsentEvent
from vern.consent.services import CHOICES, DECISION_LAYERS, LANGUAGES
from vern.lib import openapi
from vern.lib.bodies import MAX_DEPTH
from vern.lib.openapi import RETRY_AFTER_HEADER, Answer, OneOf, Operation

# What each refusal says to the visitor, in their language; the keys are every error code.
MESSAGES = {
    "unpublished": lambda: _("There is no privacy policy yet, so no choice can be saved."),
    "revision": lambda: _(
        "The cookie choices have changed since this page was loaded. Reload the page and choose again."
    ),
    "choice": lambda: _("That is not a choice the banner offers."),
    "category": lambda: _("That is not a cookie category you can choose."),
    "request": lambda: _("The request was not understood."),
    "origin": lambda: _("Your choice must be made on our own pages."),
    "token": lambda: _("The form has expired. Reload the page and choose again."),
    "throttled": lambda: _("Too many choices in a short time. Wait a minute and try again."),
    "unavailable": lambda: _("The service is down for a moment, and nothing was saved. Try again in half a minute."),
}
# The layers a page of this site may name; a declared other site's choice is always "embed".
PAGE_LAYERS = tuple(layer for layer in DECISION_LAYERS if layer != ConsentEvent.Layer.EMBED)
DATE_TIME = {"format": "date-time"}


class ChoiceRequest(BaseModel):
    """A cookie choice, as consent.js sends it. Fields not named here are ignored."""

    model_config = ConfigDict(
        strict=True,
        use_attribute_docstrings=True,
        json_schema_extra={
            "examples": [
                {"choice": "reject_all", "revision": 1},
                {
                    "choice": "custom",
                    "categories": ["statistics"],
                    "revision": 1,
                    "version": 1,
                    "layer": "settings",
                    "lang": "en",
                    "path": "/en/privacy/",
                    "gpc": False,
                },
            ]
        },
    )

    choice: Annotated[str, OneOf(*CHOICES)]
    """accept_all, reject_all, or custom with the categories chosen."""
    revision: int | float | str
    """The consent revision the banner showed (its data-revision). Any other value than the published
    policy's consent revision now is refused with 422 "revision": the page is stale."""
    categories: list[str] = Field(default_factory=list)
    """With custom: the optional cookie categories chosen, by the ids the published declaration gives
    them; another is refused with 422 "category"."""
    version: int | float | str = ""
    """The policy version whose texts the banner showed (its data-version), recorded in the proof if it
    asked the same question as the published one. Anything but a number of up to nine digits is ignored."""
    layer: Annotated[str, OneOf(*PAGE_LAYERS)] = ConsentEvent.Layer.BANNER.value
    """Where on the page the choice was made. Ignored for a declared other site, whose choices are
    recorded as "embed"."""
    lang: Annotated[str, OneOf(*LANGUAGES)] = "nb"
    """The language the banner was shown in."""
    path: str = ""
    """The page's path; kept if it is a path of up to 300 characters, otherwise dropped (the choice is
    still recorded)."""
    gpc: bool = False
    """Whether the browser sends Global Privacy Control; the Sec-GPC header counts as well."""
    cookie: str = ""
    """For a declared other site: the cookie its earlier answer gave, so that the new choice continues
    the same consent id. Ignored for this site, whose own cookie is read."""


class ChoiceRecorded(BaseModel):
    """The recorded choice. This site also gets it as the vern_consent cookie."""

    consent_id: Annotated[str, Field(pattern="^[0-9a-f]{32}$")]
    granted: list[str]
    refused: list[str]
    revision: int
    decided_at: Annotated[str, Field(json_schema_extra=DATE_TIME)]
    expires_at: Annotated[str, Field(json_schema_extra=DATE_TIME)]
    cookie: str
    """The value of the vern_consent cookie; another site keeps it and sends it back."""
    max_age: int
    """Seconds the cookie lives."""
    domain: str = ""
    """The parent domain to set the cookie on (".example.no"), so that one choice covers the
    company's sites under it; "" for the site's own host alone."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class ConfigQuery(BaseModel):
    model_config = ConfigDict(
        strict=True, use_attribute_docstrings=True, json_schema_extra={"examples": [{"lang": "en"}]}
    )

    lang: Annotated[str, OneOf(*LANGUAGES)] = "nb"
    """The language of the texts."""
    cookie: str = ""
    """For a declared other site: its vern_consent cookie, to learn the choice it holds."""


class HeldChoice(BaseModel):
    consent_id: str
    granted: list[str]


class BannerConfig(BaseModel):
    """What the banner shows, and the choice this visitor holds (null if none, or it ran out)."""

    hash: str
    content: dict[str, Any]
    choice: HeldChoice | None
    policy_url: str
    version: int


class ConsentError(BaseModel):
    """Why a request was refused: a code for programs and a message for the visitor."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    error: Annotated[str, OneOf(*MESSAGES)]
    message: str
    """For the visitor, in the language of the request."""


def refusal(description: str) -> Answer:
    return Answer(description, {"application/json": ConsentError})


def unavailable(description: str) -> Answer:
    """503, with Retry-After when the database is down."""
    return Answer(description, {"application/json": ConsentError}, headers=RETRY_AFTER_HEADER)


CHOOSE = Operation(
    method="post",
    operation_id="chooseConsent",
    summary="Record a cookie choice",
    body={"application/json": ChoiceRequest},
    responses={
        200: Answer("The choice is recorded", {"application/json": ChoiceRecorded}),
        202: Answer(
            "The database is down for a moment: the choice is kept on this server and recorded with its own "
            "time once the database is back (docs/consent.md). The answer and the cookie are those of a "
            "recorded choice",
            {"application/json": ChoiceRecorded},
        ),
        400: refusal(
            f"Not UTF-8, not JSON, nested more than {MAX_DEPTH} deep, or not an object, a field of another "
            "type, a layer or language not offered, or no privacy policy is published yet"
        ),
        403: refusal("The request does not come from this site or a declared embedding site"),
        413: refusal("The request body is larger than 4 KB"),
        415: refusal("The request body is not application/json"),
        422: refusal("A choice or category not offered, or a consent revision that is not the current one"),
        429: refusal("Too many choices from this network in a minute"),
        503: unavailable("The database is down and this server could not keep the choice; nothing was recorded"),
    },
)
CONFIG = Operation(
    method="get",
    operation_id="consentConfig",
    summary="What the banner shows, for a page that renders it itself",
    query=ConfigQuery,
    responses={
        200: Answer("The banner's content and its hash", {"application/json": BannerConfig}),
        400: refusal("lang is not one of the languages offered"),
        403: refusal("Not a declared site"),
        503: unavailable("No privacy policy is published yet, or the database is down"),
    },
)


def preflight(operation_id: str) -> Operation:
    return openapi.preflight(operation_id, not_declared=refusal("Not a declared site"))
