"""One path from a submitted form to an enquiry, shared by this site's pages and the API.

It checks the form, the spam defences (honeypot, one-time token with a minimum
fill time) and hands a clean ``Intake`` to the service. Anything refused stores
nothing; the outcome says why, for a message in the visitor's language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import DatabaseError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vern.declaration.schema import Declaration
from vern.enquiries import tokens
from vern.enquiries.forms import EnquiryForm
from vern.enquiries.services import EnquiryRefused, Intake, Received, enquiry_submit
from vern.lib.bodies import refuse_oversized
from vern.lib.ip import client_ip_shortened
from vern.registry import surface

# The goals this app reports (vern.registry.surface.reach_goal), by the kind of form sent.
GOAL_EVENTS = {"contact": "enquiry_sent", "demo": "demo_booked"}
GOAL_LABELS = {"enquiry_sent": gettext_lazy("Enquiry sent"), "demo_booked": gettext_lazy("Demo booked")}

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # 5,000 characters of any script, percent-encoded, fit with room to spare


# Why a submitted form is refused, with the HTTP status that says so.
PROBLEMS = {
    "invalid": 422,
    "honeypot": 422,
    "too_fast": 422,
    "expired": 422,
    "token": 422,
    "throttled": 429,
    "unpublished": 503,
    "basis": 503,
    "unavailable": 503,
    "too_large": 413,
    "origin": 403,
}


@dataclass(frozen=True)
class Outcome:
    received: Received | None = None
    problem: str = ""  # "" when received

    @property
    def status(self) -> int:
        return PROBLEMS[self.problem] if self.problem else 201


def problem_message(problem: str, declaration: Declaration | None) -> str:
    contact = declaration.controller.email if declaration is not None else ""
    messages = {
        "invalid": _("Some of the details need another look; see the notes by the fields."),
        "honeypot": _("The form looked as if it was filled in automatically. Check your details and send it again."),
        "too_fast": _("The form was sent very quickly after the page opened. Check your details and send it again."),
        "expired": _("The form was open for a long time. What you wrote is kept; send it again."),
        "token": _("The form could not be checked. What you wrote is kept; send it again."),
        "throttled": _(
            "We have received many enquiries from your network or address in the last hour. "
            "Try again later, or write to us at %(email)s."
        ),
        "unpublished": _("We cannot take enquiries through this form just now. Write to us at %(email)s."),
        "basis": _("We cannot take enquiries through this form just now. Write to us at %(email)s."),
        "unavailable": _(
            "Something went wrong on our side, and nothing was saved. "
            "Try again in a few minutes, or write to us at %(email)s."
        ),
        "too_large": _("The enquiry is too long. A message may have at most 5,000 characters."),
        "origin": _("Send the form from our own pages."),
    }
    return messages[problem] % {"email": contact}


def body_too_large(request: HttpRequest) -> bool:
    """Whether the form's body is larger than ``MAX_BODY``; then it is read and thrown away unparsed.

    Read, so that the client sees the 413 instead of a connection reset (``vern.lib.bodies``).
    """
    return refuse_oversized(request, MAX_BODY)


def take(request: HttpRequest, form: EnquiryForm, *, kind: str, channel: str, language: str) -> Outcome:
    """Check and store one submitted form."""
    valid = form.is_valid()
    if form.honeypot_filled:
        return Outcome(problem="honeypot")
    try:
        token = tokens.check(str(form.data.get("token", "")), kind)
    except tokens.TokenProblem as exc:
        return Outcome(problem="token" if exc.code == "invalid" else exc.code)
    if not valid:
        return Outcome(problem="invalid")
    data = form.cleaned_data
    intake = Intake(
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        organisation=data["organisation"],
        message=data["message"],
        preferred_date=data.get("preferred_date"),
        preferred_time=data.get("preferred_time", ""),
    )
    try:
        received = enquiry_submit(
            kind=kind,
            channel=channel,
            intake=intake,
            language=language,
            submission_key=token.submission_key,
            network=client_ip_shortened(request),
        )
    except EnquiryRefused as exc:
        return Outcome(problem=exc.code)
    except DatabaseError as exc:
        # Nothing was written (one transaction); the error's text may quote values, so it is not logged.
        log.error("an enquiry could not be stored: %s", type(exc).__name__)
        return Outcome(problem="unavailable")
    if received.created:  # counted as a goal by whichever app counts them (ADR 0020); a form sent twice once
        surface.reach_goal(GOAL_EVENTS[kind], request)
    return Outcome(received=received)
