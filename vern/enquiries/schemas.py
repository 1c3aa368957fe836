"""The enquiry API's requests and answers as pydantic models, and its error codes.

``api.py`` validates each request with these models and builds each JSON answer
with them; ``/api/openapi.json`` is generated from the same models and the
operations below. The models check what the API itself decides (an object of
strings, the kind and the language); what each field may hold is checked by the
enquiry form shared with this site's own pages (``forms.EnquiryForm``), which
answers 422 "invalid" with a message per field, so the field descriptions here
are built from that form's own limits.
"""

from __future__ import annotations

from typing import Annotated, Literal, cast

from django import forms
from pydantic import BaseModel, ConfigDict, Field

from vern.enquiries.forms import EnquiryForm
from vern.enquiries.intake import PROBLEMS
from vern.enquiries.models import Enquiry
from vern.enquiries.tokens import MAX_AGE_SECONDS, MIN_FILL_SECONDS
from vern.lib import openapi
from vern.lib.bodies import MAX_DEPTH
from vern.lib.openapi import RETRY_AFTER_HEADER, Answer, OneOf, Operation

KINDS = tuple(Enquiry.Kind.values)
LANGUAGES = ("nb", "en")
# The refusals the API itself gives, before the form is checked, with their status.
API_PROBLEMS = {"origin": 403, "too_large": 413, "media_type": 415, "request": 400}
ERROR_CODES = tuple(dict.fromkeys([*API_PROBLEMS, *PROBLEMS]))
_FIELDS = EnquiryForm.base_fields
_TIMES = ", ".join(Enquiry.TimeOfDay.values)


def _at_most(name: str) -> str:
    return f"At most {cast(forms.CharField, _FIELDS[name]).max_length} characters."


class EnquiryRequest(BaseModel):
    """An enquiry or a demo booking, as JSON (enquiry.js) or a plain form post.

    Every value is a string; null counts as left out, and so do fields not named
    here. The values are checked as on this site's own form, which refuses a
    wrong one with 422 "invalid" and a message per field in the language asked
    for (a plain form post gets the form page again, with 400).
    """

    model_config = ConfigDict(
        strict=True,
        extra="allow",
        use_attribute_docstrings=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "contact",
                    "lang": "en",
                    "name": "Kari Nordmann",
                    "email": "kari@example.no",
                    "organisation": "Bergen kommune",
                    "message": "What does it cost for a council of 67 members?",
                    "token": "(from GET /api/enquiries/form)",
                },
                {
                    "kind": "demo",
                    "name": "Ola Hansen",
                    "email": "ola@example.no",
                    "phone": "+47 41 23 45 67",
                    "organisation": "Fjord kommune",
                    "preferred_date": "2027-03-15",
                    "preferred_time": "morning",
                    "token": "(from GET /api/enquiries/form)",
                },
            ]
        },
    )
    __pydantic_extra__: dict[str, str | None] = Field(init=False)

    kind: Annotated[str, OneOf(*KINDS)]
    """contact: a question; demo: a demo booking."""
    name: str | None = Field(description=_at_most("name"))
    email: str | None = Field(description="An email address. " + _at_most("email"))
    organisation: str | None = Field(description="The company or municipality. " + _at_most("organisation"))
    token: str | None = Field(
        description=f"From GET /api/enquiries/form: used once, at least {MIN_FILL_SECONDS} s and at most "
        f"{MAX_AGE_SECONDS // 3600} hours old. A missing, wrong, used or stale one is refused with 422."
    )
    lang: Annotated[str, OneOf(*LANGUAGES)] | None = None
    """The language of the answer and its messages; nb when left out."""
    phone: str | None = Field(default=None, description="Required for a demo. " + _at_most("phone"))
    message: str | None = Field(default=None, description="Required for contact. " + _at_most("message"))
    preferred_date: str | None = Field(
        default=None,
        description="Demo only: a weekday after today and within six months, as 2027-03-15 or 15.03.2027.",
    )
    preferred_time: str | None = Field(default=None, description=f"Demo only: one of {_TIMES}; any when left out.")
    website: str | None = Field(default=None, description="The honeypot: leave it out or empty. " + _at_most("website"))


class Received(BaseModel):
    status: Literal["received"] = "received"
    kind: Annotated[str, OneOf(*KINDS)]
    message: str
    """The thanks, for the visitor, in the language asked for."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class FormQuery(BaseModel):
    model_config = ConfigDict(
        strict=True, use_attribute_docstrings=True, json_schema_extra={"examples": [{"kind": "demo", "lang": "en"}]}
    )

    kind: Annotated[str, OneOf(*KINDS)] = "contact"
    """The form the token is for."""
    lang: Annotated[str, OneOf(*LANGUAGES)] = "nb"
    """The language of the notice."""


class FormConfig(BaseModel):
    token: str
    """Send it back with the enquiry."""
    min_seconds: int | float
    """How long after the token was issued the enquiry may be sent."""
    notice: dict[str, str]
    """What the form must show beside its button (Art. 13): texts and the addresses of the policy."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class EnquiryError(BaseModel):
    """Why a request was refused: a code for programs and a message for the visitor."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    error: Annotated[str, OneOf(*ERROR_CODES)]
    message: str
    """For the visitor, in the language asked for."""
    fields: dict[str, list[str]] = Field(default_factory=dict)
    """With error "invalid": the messages for each field (left out otherwise)."""


PAGE = {"type": "string"}  # a plain form post is answered with this site's form page


def refusal(description: str, *, page: bool = False, retry: bool = False) -> Answer:
    return Answer(
        description,
        {"application/json": EnquiryError, **({"text/html": PAGE} if page else {})},
        headers=RETRY_AFTER_HEADER if retry else {},
    )


SUBMIT = Operation(
    method="post",
    operation_id="submitEnquiry",
    summary="Send an enquiry or a demo booking",
    body={
        "application/json": EnquiryRequest,
        "application/x-www-form-urlencoded": EnquiryRequest,
        "multipart/form-data": EnquiryRequest,
    },
    responses={
        200: Answer("The same form (token) was sent before; nothing new is stored", {"application/json": Received}),
        201: Answer("Stored", {"application/json": Received}),
        303: Answer(
            "A plain form post was stored: on to the thank-you page",
            headers={"Location": {"required": True, "schema": {"type": "string"}}},
        ),
        400: refusal(
            f"Not JSON (or not UTF-8, or nested more than {MAX_DEPTH} deep) or a form, not strings, or a kind "
            "or language not offered; for a plain form post with a problem, the form page with what is wrong",
            page=True,
        ),
        403: refusal("Not this site or a declared embedding site"),
        413: refusal("The body is larger than 64 KB"),
        415: refusal("Neither JSON nor a form"),
        422: refusal("A field is wrong (see fields), or the token is missing, wrong, used, stale or too fresh"),
        429: refusal("Too many enquiries from this network or for this address in an hour", page=True),
        503: refusal(
            "No privacy policy allows enquiries now, or the database is down (error unavailable, with "
            "Retry-After); nothing was stored",
            page=True,
            retry=True,
        ),
    },
)
FORM = Operation(
    method="get",
    operation_id="enquiryForm",
    summary="A one-time token and the privacy notice a form must show",
    query=FormQuery,
    responses={
        200: Answer("Token and notice", {"application/json": FormConfig}),
        400: refusal("kind or lang is not one of the values offered"),
        403: refusal("Not a declared site"),
        503: refusal("No privacy policy is published yet, or the database is down (with Retry-After)", retry=True),
    },
)


def preflight(operation_id: str) -> Operation:
    return openapi.preflight(operation_id, not_declared=refusal("Not a declared site"))
