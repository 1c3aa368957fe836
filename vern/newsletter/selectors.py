"""Reading the newsletter: what a form shows, who is suppressed, what retention may take, mailing counts."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version, retention_body
from vern.lib.keys import email_indexes
from vern.mail.models import OutboxMessage
from vern.newsletter.models import Delivery, Mailing, Subscription, Suppression
from vern.registry.surface import Tile

RULE = "newsletter"
PURPOSE = "newsletter"
MARKETING_KIND = "newsletter"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def consent_text(declaration: Declaration, language: str, form: str) -> str:
    """Exactly what a person is asked, in ``language``: the sentence they agree to and what follows from it.

    The same function gives the newsletter page's text and the optional box on the contact and demo
    forms (``form``), so the proof's hash names the very words shown.
    """
    controller = declaration.controller.name
    purpose = declaration.purpose(PURPOSE)
    rule = declaration.rule(RULE)
    with translation.override(language):
        ask = _(
            "Yes, send me the newsletter from %(controller)s by email. I can unsubscribe with one click in every email."
        ) % {"controller": controller}
        if form != "newsletter":
            return ask + " " + _("Optional: your enquiry is answered whether you tick this or not.")
        parts = [ask]
        parts.append(
            _(
                "%(controller)s uses your email address and name only to send the newsletter; "
                "the legal basis is your consent."
            )
            % {"controller": controller}
        )
        if rule is not None:
            parts.append(_("We keep them %(retention)s.") % {"retention": retention_body(rule, language)})
        if purpose is not None and purpose.withdrawal is not None:
            parts.append(purpose.withdrawal.get(language))
        return " ".join(parts)


def form_prompt(language: str) -> str:
    """The text of the optional box on the contact and demo forms ("" without a published policy)."""
    version = latest_version()
    if version is None:
        return ""
    return consent_text(declaration_of(version), language, "enquiry")


def suppressed(email: str) -> bool:
    """Whether the address is on the suppression list, under any configured index key."""
    return Suppression.objects.filter(email_index__in=email_indexes(email)).exists()


# Mail that a suppressed address never gets: mailings, and the notice of a policy change sent to
# the people vern keeps in touch with (issue 16: "respecting suppression").
SUPPRESSED_KINDS = (MARKETING_KIND, "policy_changed")


def mail_withheld(kind: str, to_index: str, about_index: str) -> bool:
    """The mail app's withhold check: no mailing, nor policy notice, to a suppressed address."""
    return kind in SUPPRESSED_KINDS and bool(to_index) and Suppression.objects.filter(email_index=to_index).exists()


def change_recipients() -> Iterator[tuple[str, str]]:
    """Confirmed subscribers, in the language they chose: told of a significant policy change (P20)."""
    rows = Subscription.objects.filter(status=Subscription.Status.CONFIRMED).order_by("pk")
    for email, language in rows.values_list("email", "language").iterator(chunk_size=500):
        if email:
            yield email, language


def confirmation_period(declaration: Declaration) -> Duration:
    return Duration.parse(declaration.newsletter.confirmation_period)


def due_subscriptions(declaration: Declaration, now: dt.datetime) -> Q:
    """Retention's question for subscriptions: ended ones after the declared margin, and
    unconfirmed ones whose link has expired (they were never consent)."""
    rule = declaration.rule(RULE)
    ended = Q(status=Subscription.Status.ENDED)
    if rule is not None and rule.period:
        ended &= Q(ended_at__lte=Duration.parse(rule.period).before(now))
    lapsed = Q(status=Subscription.Status.PENDING, confirm_expires_at__lte=now)
    return ended | lapsed


@dataclass(frozen=True)
class Counts:
    recipients: int
    queued: int
    sent: int
    failed: int
    skipped: int
    unsubscribed: int


def mailing_counts(mailing: Mailing) -> Counts:
    """Per mailing: sent, failed (refused or given up), skipped (suppressed, restricted, objecting), unsubscribed."""
    deliveries = Delivery.objects.filter(mailing=mailing)
    outbox = OutboxMessage.objects.filter(
        pk__in=deliveries.filter(outbox_id__isnull=False).values("outbox_id")
    ).values_list("status", flat=True)
    statuses = list(outbox)
    # Suppressed before queueing, or written as withheld by the outbox (restricted, objecting): both skipped.
    skipped = deliveries.filter(status=Delivery.Status.SKIPPED).count()
    return Counts(
        recipients=deliveries.count(),
        queued=statuses.count(OutboxMessage.Status.QUEUED) + statuses.count(OutboxMessage.Status.SENDING),
        sent=statuses.count(OutboxMessage.Status.SENT),
        failed=statuses.count(OutboxMessage.Status.FAILED),
        skipped=skipped,
        # Read afresh: the one-click POSTs count it while the page holds an older copy.
        unsubscribed=Mailing.objects.filter(pk=mailing.pk).values_list("unsubscribed", flat=True).first() or 0,
    )


def audience(mailing: Mailing) -> Q:
    """Confirmed subscribers of the mailing's topic."""
    return Q(status=Subscription.Status.CONFIRMED, topics__contains=[mailing.topic])


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.SEND_NEWSLETTER):
        return []
    confirmed = Subscription.objects.filter(status=Subscription.Status.CONFIRMED).count()
    return [
        Tile(
            _("Newsletter"),
            _("Write mailings in Bokmål and English, test them, and send them to confirmed subscribers."),
            reverse("newsletter_staff:mailings"),
            confirmed,
        )
    ]
