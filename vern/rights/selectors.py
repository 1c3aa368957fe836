"""Reading rights requests: the queue, the person's records through the registry, and what they hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability, Role
from vern.accounts.selectors import active_holders
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration
from vern.lib.days import local_day
from vern.lib.keys import email_indexes, phone_indexes
from vern.lib.normalise import InvalidIdentifier
from vern.registry import selectors as registry_selectors
from vern.registry.entries import Entry
from vern.registry.surface import Person, Tile
from vern.rights.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Download,
    Request,
    Restriction,
    Suppression,
    Tombstone,
)


def due_for_deletion(declaration: Declaration, now: dt.datetime) -> Q:
    """Requests are kept for the rule's period after they were closed (answered, refused or lapsed)."""
    rule = declaration.rule("rights_requests")
    if rule is None or not rule.period:
        return Q(pk__in=[])
    return Q(status__in=CLOSED_STATUSES, closed_at__lte=Duration.parse(rule.period).before(now))


def due_restrictions(declaration: Declaration, now: dt.datetime) -> Q:
    """A restriction is kept for the rule's period after it was lifted; never while it holds."""
    rule = declaration.rule("rights_requests")
    if rule is None or not rule.period:
        return Q(pk__in=[])
    return Q(lifted_at__lte=Duration.parse(rule.period).before(now))


def held_subject_keys(now: dt.datetime) -> dict[str, list[QuerySet[Any]]]:
    """Whose data retention must keep: people with an open request (so the answer is complete,
    LAW.md §3.6) or a restriction (Art. 18), by each key the request gives."""
    # A request answered by itself still waits for its copy to be fetched: the package is built when
    # its link is opened, so the data it covers is held until then (or until the link expires).
    waiting = Download.objects.filter(downloaded_at__isnull=True, expires_at__gt=now).values("request")
    open_requests = Request.objects.filter(Q(status__in=OPEN_STATUSES) | Q(pk__in=waiting))
    restricted = Restriction.objects.filter(lifted_at__isnull=True).values("subject_key")
    return {
        "email": [open_requests.exclude(email_index="").values("email_index"), restricted],
        "phone": [open_requests.filter(phone_verified=True).exclude(phone_index="").values("phone_index"), restricted],
        "consent_id": [open_requests.exclude(consent_id="").values("consent_id")],
    }


def restricted(keys: Mapping[str, Sequence[str]]) -> bool:
    """The registry's restriction check: an active restriction on any of the email's or the phone's indexes."""
    candidates = [key for kind, forms in keys.items() if kind in ("email", "phone") for key in forms if key]
    return bool(candidates) and Restriction.objects.filter(subject_key__in=candidates, lifted_at__isnull=True).exists()


# Mail that is always sent: about the person's own requests, and to staff.
ALWAYS_SENT = ("rights_", "staff_")
# Marketing, and what an objection to it also stops: the notice of a policy change (issue 16).
MARKETING = ("newsletter", "policy_changed")


def mail_withheld(kind: str, to_index: str, about_index: str) -> bool:
    """The mail app's withhold check: nothing to or about a restricted person (Art. 18) except about
    their requests; no marketing to an address that objected to it (Art. 21(3))."""
    if kind.startswith(ALWAYS_SENT):
        return False
    keys = [key for key in (to_index, about_index) if key]
    if not keys:
        return False
    if kind.startswith(MARKETING) and Suppression.objects.filter(subject_key__in=keys).exists():
        return True
    return Restriction.objects.filter(subject_key__in=keys, lifted_at__isnull=True).exists()


# Per identifier kind, every stored form the person is found by (``vern.registry.surface.StoredKeys``).
PersonKeys = dict[str, tuple[str, ...]]


def _forms(stored: str, plain: str, indexes: Callable[[str], list[str]]) -> tuple[str, ...]:
    """The index stored on a request and, while the request still holds the plain value, that
    value's index under every configured index key; without repeats, the stored one first."""
    found = [stored] if stored else []
    if plain:
        try:
            found.extend(indexes(plain))
        except InvalidIdentifier:  # validated at intake; the stored index still finds the person
            pass
    return tuple(dict.fromkeys(found))


def person_keys(request: Request) -> PersonKeys:
    """The stored keys a request finds the person by: the email it was confirmed through, the phone
    once staff verified it, and the consent id of the visitor's cookie.

    While ``vern keys rotate`` recomputes the blind indexes, the index stored on the request may be
    under one index key and some of the person's rows under another. So, while the request still
    holds the address (and the verified phone; both are cleared by an erasure), its index under
    every configured index key is one of the person's keys too: any of them finds a row, a hold or
    a restriction, and an erasure journals them all.
    """
    keys: PersonKeys = {"email": _forms(request.email_index, request.email, email_indexes)}
    if request.phone_verified:
        keys["phone"] = _forms(request.phone_index, request.phone, phone_indexes)
    if request.consent_id:
        keys["consent_id"] = (request.consent_id,)
    return {kind: forms for kind, forms in keys.items() if forms}


def person_of(request: Request) -> Person:
    """Whom the request is about, as the company's other systems are asked (plain identifiers): the
    address it was confirmed through, and the phone once staff verified it (as ``person_keys``)."""
    return Person(
        request_id=request.pk,
        reference=f"R-{request.pk}",
        email=request.email or "",
        phone=request.phone if request.phone_verified else "",
        language=request.language,
    )


def contact_keys(request: Request) -> list[str]:
    """Every stored form of the request's email and phone (verified or not): the restriction in force
    on either is shown on the request, as ``active_restriction`` always did."""
    forms = list(_forms(request.email_index, request.email, email_indexes))
    forms += _forms(request.phone_index, request.phone, phone_indexes)
    return list(dict.fromkeys(forms))


@dataclass(frozen=True)
class Found:
    entry: Entry
    records: QuerySet[models.Model]
    count: int


def records_by_keys(keys: Mapping[str, Sequence[str]], *, counted: bool = True) -> list[Found]:
    """Every registered model's rows for these stored keys (the registry's indexed lookups), with
    counts; a row matches any stored form of a kind."""
    return [
        Found(entry=item.entry, records=item.records, count=item.records.count() if counted else -1)
        for item in registry_selectors.records_by_keys(keys)
    ]


def discover(request: Request) -> list[Found]:
    """The person's records in every registered model (the request's own rows among them)."""
    return records_by_keys(person_keys(request))


def queue(*, view: str = "open", now: dt.datetime | None = None) -> QuerySet[Request]:
    """The request queue: open ones by due date (overdue first), or those waiting, or closed."""
    now = now or timezone.now()
    requests = Request.objects.select_related("assigned_to")
    if view == "overdue":
        today = local_day(now)
        return (
            requests.filter(status__in=OPEN_STATUSES)
            .filter(Q(extended_to__isnull=True, due_on__lt=today) | Q(extended_to__lt=today))
            .order_by(Coalesce("extended_to", "due_on"), "pk")
        )
    if view == "awaiting":
        return requests.filter(status=Request.Status.AWAITING_CONFIRMATION).order_by("-received_at")
    if view == "closed":
        return requests.filter(status__in=CLOSED_STATUSES).order_by("-closed_at", "-pk")
    return requests.filter(status__in=OPEN_STATUSES).order_by(Coalesce("extended_to", "due_on"), "pk")


def active_restriction(request: Request) -> Restriction | None:
    """The restriction in force on the email's or the phone's index of the request (under any
    configured index key while the request holds them), if any."""
    keys = contact_keys(request)
    if not keys:
        return None
    return Restriction.objects.filter(subject_key__in=keys, lifted_at__isnull=True).order_by("pk").first()


def pending_download(request: Request) -> Download | None:
    """A copy this same request offers (access and erasure asked together) that waits to be opened.

    Erasing now would empty it (it is built when opened), so the erasure waits until it is
    downloaded or has expired. A link of an earlier request gives way: the erasure ends it."""
    return (
        Download.objects.filter(request=request, downloaded_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("expires_at")
        .last()
    )


def privacy_officers() -> list[User]:
    return active_holders(Role.PRIVACY_OFFICER)


def overdue_count(now: dt.datetime | None = None) -> int:
    return queue(view="overdue", now=now).count()


def erasure_backups_gone_by(request: Request) -> dt.date | None:
    """The day the request's erasure receipt names for its backups (R16); None before the erasure."""
    event = request.events.filter(kind="erased").order_by("-at", "-pk").first()
    text = (event.data or {}).get("backups_gone_by") if event is not None else None
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def tombstones() -> QuerySet[Tombstone]:
    return Tombstone.objects.order_by("pk")


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.HANDLE_REQUESTS):
        return []
    open_count = Request.objects.filter(status__in=OPEN_STATUSES).count()
    overdue = overdue_count()
    text = (
        _("%(count)s overdue: answer them first.") % {"count": overdue}
        if overdue
        else _("Requests about access, erasure and the other rights, by due date.")
    )
    return [Tile(_("Rights requests"), text, reverse("rights_staff:queue"), open_count, alert=bool(overdue))]


# ------------------------------------------------------------------ the person's status page

# What the person was told in writing, by timeline event: these and nothing else reach the status page.
STATUS_MESSAGES = ("message", "extended", "answered", "refused")


@dataclass(frozen=True)
class StatusMessage:
    at: dt.datetime
    kind: str
    text: str


def request_by_status_token(token: str) -> Request | None:
    """The request a status link belongs to, or None for a link that is malformed, forged, or whose
    request retention has deleted."""
    from vern.rights.services.tokens import status_hash, status_token_valid

    if not status_token_valid(token):
        return None
    return Request.objects.filter(status_hash=status_hash(token)).first()


def status_messages(request: Request) -> list[StatusMessage]:
    """What staff wrote to the person about the request, oldest first: messages, the reasons for an
    extension, the answer or the justification of a refusal. Internal notes are never among them."""
    events = request.events.filter(kind__in=STATUS_MESSAGES).order_by("at", "pk")
    return [StatusMessage(at=event.at, kind=event.kind, text=event.note) for event in events if event.note]
