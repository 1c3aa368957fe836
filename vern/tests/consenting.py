"""A visitor's cookie choice through the real service, for the tests that follow one person across apps."""

from __future__ import annotations

from vern.consent.choice import Choice
from vern.consent.services import Decision, consent_decide


def cookie_choice(choice: str = "accept_all", *, previous: Choice | None = None) -> Decision:
    """The visitor answers the banner of the published policy (version 1) from 203.0.113.x."""
    return consent_decide(
        choice=choice,
        categories=[],
        revision=1,
        language="nb",
        layer="banner",
        page_path="/",
        origin="",
        ip_shortened="203.0.113.0",
        gpc=False,
        previous=previous,
    )
