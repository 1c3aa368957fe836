"""An enquiry that is a rights request, registered in the request queue in one click (docs/mailbox.md).

A mail to the support mailbox that asks for access, erasure and the like is a rights request
with a deadline, not an enquiry to answer. The enquiry's page guesses which right from its
words (``vern.lib.inbound.guess_rights``: a guess only) and staff who handle requests confirm
it: the request is registered through the Surface (``register_rights_request``; this app does
not import the rights app) from the enquiry's address, language and text, received when the
mail arrived, and the enquiry is closed with a link to it, so it is not answered twice.

The mail's From header proves nothing about who wrote it: the request is registered as not
yet verified, so the rights app sends its confirmation link to the address, as for any request
staff register without checking the person themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.audit.events import AuditEvent
from vern.audit.services import Actor
from vern.enquiries.models import Enquiry
from vern.enquiries.services import EnquiryRefused, enquiry_audit
from vern.lib.inbound import guess_rights
from vern.registry import surface

# The rights staff can choose, in the declaration's order (the rights app's ids; checked there).
RIGHTS = ("access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent")


@dataclass(frozen=True)
class RightsGuess:
    """What the enquiry's words seem to ask for: ``looks_like`` when any mail or the message
    names a right; ``rights`` the ones to pre-select (empty: staff choose)."""

    looks_like: bool
    rights: tuple[str, ...]


def enquiry_rights_guess(enquiry: Enquiry) -> RightsGuess:
    """The guess for the enquiry's page: from its mails' subjects and texts, else its message."""
    mails = list(enquiry.mails.order_by("received_at", "pk"))
    texts = [(mail.subject, mail.text) for mail in mails] or [("", enquiry.message)]
    found: set[str] = set()
    for subject, text in texts:
        found.update(guess_rights(subject, text))
    flagged = any(mail.asks_for_rights for mail in mails)
    return RightsGuess(looks_like=flagged or bool(found), rights=tuple(r for r in RIGHTS if r in found))


def _channel(enquiry: Enquiry) -> str:
    """How the request arrived, in the rights app's words: a phone call, else in writing by email
    (a form on the site is an electronic message too; the privacy center is the rights app's own)."""
    return "phone" if enquiry.channel == Enquiry.Channel.PHONE else "email"


def _asking(enquiry: Enquiry) -> tuple[dt.datetime, str]:
    """When the request came and its words: in a mail thread, the first mail that asks for a right
    (else the latest mail), not the thread's first question, which may be months older; without
    mails, the enquiry itself."""
    mails = enquiry.mails.order_by("received_at", "pk")
    mail = mails.filter(asks_for_rights=True).first() or mails.last()
    if mail is None:
        return enquiry.received_at, enquiry.message
    return mail.received_at, mail.text


def _details(enquiry: Enquiry, text: str) -> str:
    """The request's text: who wrote (the request has no name field) and what they asked."""
    who = enquiry.name + (f" ({enquiry.organisation})" if enquiry.organisation else "")
    return f"{who}\n\n{text}".strip()


@transaction.atomic
def enquiry_to_rights_request(*, staff: User, enquiry: Enquiry, rights: list[str]) -> surface.RightsRegistration:
    """Register the enquiry as a rights request in the queue (or find the one registered before),
    close the enquiry with a link to it, and audit it; idempotent.

    Raises ``EnquiryRefused`` ("capability") for staff who may not register requests, and
    ``surface.RightsRefused`` with the rights app's reason (no email address, no policy …)."""
    if not staff.can(Capability.HANDLE_REQUESTS):
        raise EnquiryRefused("capability")
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    received_at, text = _asking(locked)
    registration = surface.register_rights_request(
        surface.RightsIntake(
            staff=staff,
            rights=tuple(rights),
            channel=_channel(locked),
            # The deadline runs from when the mail arrived, not from the click.
            received_at=received_at,
            source="enquiry",
            source_id=locked.pk,
            source_url=reverse("enquiries_staff:detail", kwargs={"pk": locked.pk}),
            email=locked.email,
            phone=locked.phone,
            details=_details(locked, text),
            language=locked.language,
        )
    )
    if locked.rights_request_id != registration.request_id:
        was = locked.state
        locked.rights_request_id = registration.request_id
        locked.rights_registered_at = timezone.now()
        locked.state = Enquiry.State.CLOSED
        locked.save(update_fields=["rights_request_id", "rights_registered_at", "state"])
        enquiry_audit(
            AuditEvent.ENQUIRY_TO_RIGHTS,
            locked,
            actor=Actor.staff(staff),
            data={
                "request": registration.request_id,
                "rights": list(rights),
                "created": registration.created,
                "from": was,
            },
        )
    return registration
