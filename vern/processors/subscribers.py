"""Mail about changes of sub-processors, to people who asked for it with double opt-in.

The same pattern as the newsletter (docs/newsletter.md): a subscription exists only once the
single-use link in the first mail is used; every notice carries a link that ends it; an
unconfirmed one lapses, an ended one is deleted after the newsletter's retention period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration
from vern.lib import ratelimit
from vern.lib.keys import digest, digests, email_index, email_indexes
from vern.lib.normalise import normalise_email
from vern.mail import emails
from vern.processors.models import ChangeSubscriber, SubProcessorChange

CONFIRM_FOR = dt.timedelta(days=7)
TOKEN_BYTES = 32
RULE = "newsletter"


class SubscriberRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # "throttled", "used"


def per_network() -> ratelimit.Limit:
    return ratelimit.Limit("processor-changes-network", limit=settings.VERN_NEWSLETTER_RATE, window_seconds=3600)


def _manage_hash(token: str) -> str:
    return hashlib.sha256(b"processors:manage:" + token.encode()).hexdigest()


def _link(name: str, language: str, token: str) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs={"token": token})


def change_subscribe(*, email: str, language: str, ip_shortened: str) -> None:
    """Start the double opt-in: a pending subscription and the mail with its single-use link.

    An address that is already confirmed gets nothing, and the answer is the same, so the form
    does not tell whether an address subscribes."""
    if not ratelimit.hit(per_network(), ip_shortened or "unknown"):
        raise SubscriberRefused("throttled")
    address = normalise_email(email)
    now = timezone.now()
    with transaction.atomic():
        found = ChangeSubscriber.objects.select_for_update().filter(email_index__in=email_indexes(address)).first()
        if found is not None and found.status == ChangeSubscriber.Status.CONFIRMED:
            return
        confirm = secrets.token_urlsafe(TOKEN_BYTES)
        manage = secrets.token_urlsafe(TOKEN_BYTES)
        row = found or ChangeSubscriber(email=address, email_index=email_index(address))
        row.language = language
        row.status = ChangeSubscriber.Status.PENDING
        row.confirm_hash = digest(confirm, purpose="processors:confirm")
        row.confirm_expires_at = now + CONFIRM_FOR
        row.manage_hash = _manage_hash(manage)
        row.manage_token = manage
        row.created_at = now
        row.ended_at = None
        row.save()
        emails.processor_changes_confirm(
            to=address, language=language, link=_link("processors:confirm", language, confirm)
        )


def pending_by_token(token: str) -> ChangeSubscriber | None:
    return ChangeSubscriber.objects.filter(
        confirm_hash__in=digests(token, purpose="processors:confirm"),
        status=ChangeSubscriber.Status.PENDING,
        confirm_expires_at__gt=timezone.now(),
    ).first()


def change_subscription_confirm(token: str) -> ChangeSubscriber:
    """The person used the link: the subscription is confirmed, and the link works no more."""
    with transaction.atomic():
        found = pending_by_token(token)
        if found is None:
            raise SubscriberRefused("used")
        found.status = ChangeSubscriber.Status.CONFIRMED
        found.confirmed_at = timezone.now()
        found.confirm_hash = ""
        found.save(update_fields=["status", "confirmed_at", "confirm_hash"])
        audit_record(
            action=AuditEvent.PROCESSOR_CHANGES_SUBSCRIBED,
            actor=Actor.visitor(),
            object_type="processors.changesubscriber",
            object_id=found.pk,
            subject_key=found.email_index,
        )
    return found


def change_unsubscribe(token: str) -> bool:
    """End the subscription whose notices carry this link; False when there is none to end."""
    with transaction.atomic():
        found = ChangeSubscriber.objects.select_for_update().filter(manage_hash=_manage_hash(token)).first()
        if found is None or found.status == ChangeSubscriber.Status.ENDED:
            return False
        found.status = ChangeSubscriber.Status.ENDED
        found.ended_at = timezone.now()
        found.save(update_fields=["status", "ended_at"])
        audit_record(
            action=AuditEvent.PROCESSOR_CHANGES_UNSUBSCRIBED,
            actor=Actor.visitor(),
            object_type="processors.changesubscriber",
            object_id=found.pk,
            subject_key=found.email_index,
        )
    return True


def notify(change: SubProcessorChange) -> int:
    """Queue the notice of ``change`` to every confirmed subscriber, in the caller's transaction."""
    sent = 0
    for row in ChangeSubscriber.objects.filter(status=ChangeSubscriber.Status.CONFIRMED).order_by("pk"):
        emails.processor_changes_notice(
            to=row.email,
            language=row.language,
            added=change.kind == SubProcessorChange.Kind.ADDED,
            name=change.name,
            processor=change.processor.name,
            countries=", ".join(change.countries),
            announced=change.announced_on,
            deadline=change.objection_deadline,
            page=settings.VERN_PUBLIC_URL + reverse("processors:trust"),
            unsubscribe_link=_link("processors:unsubscribe", row.language, row.manage_token),
        )
        sent += 1
    return sent


def due_subscribers(declaration: Declaration, now: dt.datetime) -> Q:
    """Retention's question: ended ones after the newsletter rule's period, unconfirmed ones once their link lapsed."""
    rule = declaration.rule(RULE)
    ended = Q(status=ChangeSubscriber.Status.ENDED)
    if rule is not None and rule.period:
        ended &= Q(ended_at__lte=Duration.parse(rule.period).before(now))
    return ended | Q(status=ChangeSubscriber.Status.PENDING, confirm_expires_at__lte=now)


def withdraw_for_rights_request(keys: Mapping[str, Sequence[str]]) -> int:
    """A rights request that withdraws consent ends the person's subscription to these notices."""
    indexes = list(keys.get("email", ()))
    if not indexes:
        return 0
    now = timezone.now()
    return ChangeSubscriber.objects.filter(
        email_index__in=indexes, status__in=[ChangeSubscriber.Status.PENDING, ChangeSubscriber.Status.CONFIRMED]
    ).update(status=ChangeSubscriber.Status.ENDED, ended_at=now, confirm_hash="")
