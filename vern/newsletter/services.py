"""Subscribing (double opt-in), unsubscribing in one click, suppression, and sending mailings in paced batches.

Proof of every consent step goes into the ``newsletter`` hash chain with the exact text
shown (by hash, the text kept in ``ConsentText``), the language, the policy version, the
time, the form and a shortened IP address, as cookie consent does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from vern.accounts.models import User
from vern.audit.chain import HashChain
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version
from vern.jobs.services import job_enqueue_once
from vern.lib import ratelimit
from vern.lib.keys import digest, digests, email_index, email_indexes
from vern.lib.normalise import InvalidIdentifier, normalise_email
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.mail.services import BOUNCED, Rendered, mail_render
from vern.newsletter.models import ConsentProof, ConsentText, Delivery, Mailing, Subscription, Suppression
from vern.newsletter.selectors import confirmation_period, consent_text, suppressed, text_hash

log = logging.getLogger(__name__)

SEND_JOB = "newsletter.send"
REFUSALS_JOB = "newsletter.refusals"
FORMS = ("newsletter", "contact", "demo")
LANGUAGES = ("nb", "en")
TOKEN_BYTES = 32  # 256 bits
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# A name goes into no header, but it must be one readable line all the same.
UNREADABLE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\ufffd]")
MAX_NAME = 200
# The same address gets at most this many confirmation mails a day, whoever types it in.
MAILS_PER_ADDRESS = ratelimit.Limit("newsletter-address", limit=3, window_seconds=24 * 3600)

PROOF_CHAIN = HashChain(
    name="newsletter",
    model=ConsentProof,
    head_id=3,
    fields=(
        "subscriber",
        "created_at",
        "action",
        "text_hash",
        "language",
        "policy_version",
        "form",
        "topics",
        "ip_shortened",
    ),
    describe=lambda row: f"{row.action} {row.subscriber[:8]}",
)


class SubscriptionRefused(ValueError):
    """Nothing was stored or sent; ``code`` names why, for a message in the visitor's language."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def per_network() -> ratelimit.Limit:
    return ratelimit.Limit("newsletter-network", limit=settings.VERN_NEWSLETTER_RATE, window_seconds=3600)


def _manage_hash(token: str) -> str:
    # Unkeyed, like a rights request's status link: the links in mail already sent must keep
    # working after the index key rotates, and 256 random bits need no key against guessing.
    return hashlib.sha256(b"newsletter:manage:" + token.encode()).hexdigest()


def _new_tokens() -> tuple[str, str, str, str]:
    """A single-use confirmation token and its keyed hash; a lasting manage token and its hash."""
    confirm = secrets.token_urlsafe(TOKEN_BYTES)
    manage = secrets.token_urlsafe(TOKEN_BYTES)
    return confirm, digest(confirm, purpose="newsletter:confirm"), manage, _manage_hash(manage)


def _link(name: str, language: str, **kwargs: str) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs=kwargs)


def _prove(subscription: Subscription, action: str, *, ip_shortened: str = "", text: str = "") -> ConsentProof:
    row: ConsentProof = PROOF_CHAIN.append(
        ConsentProof(
            subscriber=_subscriber_id(subscription),
            created_at=timezone.now(),
            action=action,
            text_hash=text,
            language=subscription.language,
            policy_version=subscription.policy_version,
            form=subscription.form,
            topics=sorted(subscription.topics),
            ip_shortened=ip_shortened,
            email_index=subscription.email_index,
        )
    )
    return row


def _subscriber_id(subscription: Subscription) -> str:
    # A random id per subscription row, derived from nothing personal: the first half of its manage hash
    # would tie the proof to the link, so it is a digest of the row's number and creation time instead.
    return hashlib.sha256(f"{subscription.pk}:{subscription.created_at.isoformat()}".encode()).hexdigest()[:32]


def _store_text(declaration: Declaration, language: str, form: str) -> str:
    text = consent_text(declaration, language, form)
    digest_of_text = text_hash(text)
    ConsentText.objects.get_or_create(hash=digest_of_text, defaults={"language": language, "text": text})
    return digest_of_text


def clean_name(name: str) -> str:
    name = name.strip()
    if len(name) > MAX_NAME or UNREADABLE.search(name):
        raise SubscriptionRefused("name", "the name must be one readable line")
    return name


def subscribe(
    *,
    email: str,
    name: str,
    language: str,
    form: str,
    ip_shortened: str,
    topics: list[str] | None = None,
    shown_text: str | None = None,
) -> Subscription | None:
    """Ask for a subscription: a pending row, its proof, and the confirmation mail; nothing is sent to it.

    A confirmed subscriber is left as they are (nothing tells a stranger whether the address is
    subscribed). ``shown_text``, when given, must be the text this version shows on ``form``.
    Returns the subscription, or None when nothing was done.
    """
    if form not in FORMS or language not in LANGUAGES:
        raise SubscriptionRefused("request", "form or language is not valid")
    name = clean_name(name)
    try:
        address = normalise_email(email)
    except InvalidIdentifier:
        raise SubscriptionRefused("email", "not an email address") from None
    version = latest_version()
    if version is None:
        raise SubscriptionRefused("unpublished", "no privacy policy is published yet")
    declaration = declaration_of(version)
    if shown_text is not None and shown_text != consent_text(declaration, language, form):
        raise SubscriptionRefused("text", "the form showed another text; reload the page")
    wanted = [t.id for t in declaration.newsletter.topics]
    if topics is not None:
        unknown = set(topics) - set(wanted)
        if unknown or not topics:
            raise SubscriptionRefused("topics", "choose at least one of the topics offered")
        wanted = [t for t in wanted if t in topics]
    if not ratelimit.hit(per_network(), ip_shortened or "unknown"):
        raise SubscriptionRefused("throttled", "too many subscriptions from this network")
    now = timezone.now()
    with transaction.atomic():
        existing = (
            Subscription.objects.select_for_update()
            .filter(email_index__in=email_indexes(address))
            .order_by("pk")
            .first()
        )
        if existing is not None and existing.status == Subscription.Status.CONFIRMED:
            return None
        if not ratelimit.hit(MAILS_PER_ADDRESS, email_index(address)):
            return None  # someone keeps typing this address: no more mail to it today
        confirm, confirm_hash, manage, manage_hash = _new_tokens()
        subscription = existing or Subscription(created_at=now, manage_token=manage, manage_hash=manage_hash)
        subscription.email = address
        subscription.email_index = email_index(address)
        subscription.name = name
        subscription.language = language
        subscription.topics = wanted
        subscription.status = Subscription.Status.PENDING
        subscription.form = form
        subscription.confirm_hash = confirm_hash
        subscription.confirm_expires_at = confirmation_period(declaration).after(now)
        subscription.text_hash = _store_text(declaration, language, form)
        subscription.policy_version = version.number
        subscription.confirmed_at = None
        subscription.hard_failures = 0
        # An ended subscription stays ended (and suppressed) until this one is confirmed.
        subscription.save()
        _prove(subscription, ConsentProof.Action.REQUESTED, ip_shortened=ip_shortened, text=subscription.text_hash)
        emails.subscription_confirm(
            to=address,
            language=language,
            link=_link("newsletter:confirm", language, token=confirm),
            expires_text=Duration.parse(declaration.newsletter.confirmation_period).text(language).lower(),
        )
    return subscription


def subscription_offer(details: Mapping[str, str]) -> object:
    """The registry's offer from the contact and demo forms: the ticked box starts a double opt-in.

    A refusal (a flood from the network, an address that cannot be subscribed) must not
    touch the enquiry it came with, so it is logged by its code only and dropped."""
    try:
        return subscribe(
            email=details["email"],
            name=details.get("name", ""),
            language=details.get("language", "nb"),
            form=details.get("form", "contact"),
            ip_shortened=details.get("ip_shortened", ""),
            shown_text=details.get("prompt"),
        )
    except SubscriptionRefused as exc:
        log.info("a newsletter box ticked on a form was not taken: %s", exc.code)
        return None


def pending_by_token(token: str) -> Subscription | None:
    """The pending subscription a confirmation token opens, if it is still good."""
    if not TOKEN.fullmatch(token):
        return None
    found = Subscription.objects.filter(
        confirm_hash__in=digests(token, purpose="newsletter:confirm"), status=Subscription.Status.PENDING
    ).first()
    if found is None or found.confirm_expires_at <= timezone.now():
        return None
    return found


def confirm(token: str, *, ip_shortened: str) -> Subscription:
    """Use a confirmation link: the subscription exists from now on. A used or expired link changes nothing."""
    if not TOKEN.fullmatch(token):
        raise SubscriptionRefused("used", "this link is not valid")
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update()
            .filter(confirm_hash__in=digests(token, purpose="newsletter:confirm"))
            .first()
        )
        if subscription is None or subscription.status != Subscription.Status.PENDING:
            raise SubscriptionRefused("used", "this link has been used already, or is not valid")
        if subscription.confirm_expires_at <= timezone.now():
            raise SubscriptionRefused("expired", "this link has expired")
        subscription.status = Subscription.Status.CONFIRMED
        subscription.confirmed_at = timezone.now()
        subscription.confirm_hash = ""
        subscription.ended_at = None
        subscription.save(update_fields=["status", "confirmed_at", "confirm_hash", "ended_at"])
        # A new, confirmed consent is the only thing that lifts a suppression.
        Suppression.objects.filter(email_index__in=email_indexes(subscription.email)).delete()
        _prove(subscription, ConsentProof.Action.CONFIRMED, ip_shortened=ip_shortened, text=subscription.text_hash)
    return subscription


def by_manage_token(token: str) -> Subscription | None:
    if not TOKEN.fullmatch(token):
        return None
    return Subscription.objects.filter(manage_hash=_manage_hash(token)).first()


def _suppress(subscription: Subscription, reason: str) -> None:
    Suppression.objects.get_or_create(email_index=subscription.email_index, defaults={"reason": reason})


def _end(subscription: Subscription, action: str, reason: str, *, ip_shortened: str = "") -> bool:
    """End a subscription and suppress its address, in the caller's transaction; False if it had ended."""
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.status == Subscription.Status.ENDED:
        _suppress(locked, reason)
        return False
    locked.status = Subscription.Status.ENDED
    locked.ended_at = timezone.now()
    locked.confirm_hash = ""
    locked.save(update_fields=["status", "ended_at", "confirm_hash"])
    _suppress(locked, reason)
    _prove(locked, action, ip_shortened=ip_shortened)
    subscription.status, subscription.ended_at = locked.status, locked.ended_at
    return True


def unsubscribe(subscription: Subscription, *, mailing_id: int | None = None, ip_shortened: str = "") -> bool:
    """Unsubscribe at once (a link, or the one-click POST of RFC 8058); True the first time.

    The mailing the link came in counts the unsubscription, once, and only if it went to this subscription.
    """
    with transaction.atomic():
        ended = _end(
            subscription,
            ConsentProof.Action.UNSUBSCRIBED,
            Suppression.Reason.UNSUBSCRIBED,
            ip_shortened=ip_shortened,
        )
        if ended and mailing_id is not None:
            if Delivery.objects.filter(mailing_id=mailing_id, subscription=subscription).exists():
                Mailing.objects.filter(pk=mailing_id).update(unsubscribed=F("unsubscribed") + 1)
    return ended


def preferences_update(subscription: Subscription, *, topics: list[str], language: str) -> Subscription:
    version = latest_version()
    declaration = declaration_of(version) if version is not None else None
    offered = [t.id for t in declaration.newsletter.topics] if declaration is not None else []
    if language not in LANGUAGES:
        raise SubscriptionRefused("request", "language is not valid")
    if not topics or set(topics) - set(offered):
        raise SubscriptionRefused("topics", "choose at least one of the topics offered")
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.status != Subscription.Status.CONFIRMED:
            raise SubscriptionRefused("ended", "the subscription has ended")
        subscription.topics = [t for t in offered if t in topics]
        subscription.language = language
        subscription.save(update_fields=["topics", "language"])
        _prove(subscription, ConsentProof.Action.PREFERENCES)
    return subscription


def withdraw_for_rights_request(keys: Mapping[str, Sequence[str]]) -> int:
    """The registry's withdrawer: a rights request that withdraws consent unsubscribes, and suppresses.
    Every stored form of the address counts (a subscription not yet recomputed by a key rotation)."""
    forms = [key for key in keys.get("email", ()) if key]
    if not forms:
        return 0
    withdrawn = 0
    with transaction.atomic():
        for subscription in Subscription.objects.filter(email_index__in=forms).exclude(
            status=Subscription.Status.ENDED
        ):
            withdrawn += _end(subscription, ConsentProof.Action.WITHDRAWN, Suppression.Reason.WITHDRAWN)
    return withdrawn


# ------------------------------------------------------------------ mailings


def _links(subscription: Subscription, mailing: Mailing) -> tuple[str, str]:
    """The subscriber's one-click unsubscribe address (with the mailing, to count it) and preference page."""
    manage = subscription.manage_token
    language = subscription.language
    unsubscribe = _link("newsletter:unsubscribe", language, token=manage) + f"?m={mailing.pk}"
    return unsubscribe, _link("newsletter:preferences", language, token=manage)


def mailing_texts(mailing: Mailing, language: str) -> tuple[str, str]:
    return (mailing.subject_en, mailing.body_en) if language == "en" else (mailing.subject_nb, mailing.body_nb)


def _audit(action: AuditEvent, staff: User, mailing: Mailing) -> None:
    audit_record(action=action, actor=Actor.staff(staff), object_type="newsletter.mailing", object_id=mailing.pk)


def mailing_create(*, staff: User, topic: str, subject_nb: str, subject_en: str, body_nb: str, body_en: str) -> Mailing:
    with transaction.atomic():
        mailing = Mailing.objects.create(
            topic=topic,
            subject_nb=subject_nb,
            subject_en=subject_en,
            body_nb=body_nb,
            body_en=body_en,
            created_by=staff,
        )
        _audit(AuditEvent.NEWSLETTER_MAILING_CREATED, staff, mailing)
    return mailing


def mailing_preview(mailing: Mailing, language: str) -> Rendered:
    """The mail as a subscriber gets it, with example links."""
    subject, body = mailing_texts(mailing, language)
    example = _link("newsletter:subscribe", language)
    return mail_render(
        kind="newsletter",
        language=language,
        context={"subject": subject, "body": body, "unsubscribe_link": example, "preferences_link": example},
    )


def mailing_test_send(mailing: Mailing, *, staff: User) -> OutboxMessage:
    """The mailing in both languages' first (the staff member's own), to the staff member's own address."""
    language = staff.language if staff.language in LANGUAGES else "nb"
    subject, body = mailing_texts(mailing, language)
    example = _link("newsletter:subscribe", language)
    with transaction.atomic():
        message = emails.newsletter(
            to=staff.email,
            language=language,
            subject=subject,
            body=body,
            unsubscribe_link=example,
            preferences_link=example,
            one_click=False,
        )
        _audit(AuditEvent.NEWSLETTER_MAILING_TESTED, staff, mailing)
    return message


def mailing_start(mailing: Mailing, *, staff: User) -> Mailing:
    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if mailing.status != Mailing.Status.DRAFT:
            raise SubscriptionRefused("started", "this mailing has been sent already")
        mailing.status = Mailing.Status.SENDING
        mailing.started_at = timezone.now()
        mailing.save(update_fields=["status", "started_at"])
        job_enqueue_once(SEND_JOB, key=f"{SEND_JOB}:{mailing.pk}", payload={"mailing": mailing.pk})
        _audit(AuditEvent.NEWSLETTER_MAILING_STARTED, staff, mailing)
    return mailing


def _deliver_one(mailing: Mailing, subscription: Subscription) -> None:
    """Queue the mailing for one subscriber, in one transaction with the record that it was queued."""
    with transaction.atomic():
        delivery, created = Delivery.objects.get_or_create(
            mailing=mailing, subscription=subscription, defaults={"status": Delivery.Status.QUEUED}
        )
        if not created:
            return  # queued by a run that was stopped after this recipient: never twice
        if suppressed(subscription.email):
            delivery.status = Delivery.Status.SKIPPED
            delivery.save(update_fields=["status"])
            return
        subject, body = mailing_texts(mailing, subscription.language)
        unsubscribe_link, preferences_link = _links(subscription, mailing)
        message = emails.newsletter(
            to=subscription.email,
            language=subscription.language,
            subject=subject,
            body=body,
            unsubscribe_link=unsubscribe_link,
            preferences_link=preferences_link,
        )
        # A restricted or objecting person's mail is written as withheld and never sent.
        delivery.status = (
            Delivery.Status.SKIPPED if message.status == OutboxMessage.Status.WITHHELD else Delivery.Status.QUEUED
        )
        delivery.outbox_id = message.pk
        delivery.save(update_fields=["status", "outbox_id"])


def mailing_send_batch(mailing_id: int) -> int:
    """Queue the next batch of a mailing; the next batch is a job of its own, paced. Returns how many.

    Idempotent per recipient: a run killed half-way left a Delivery row for each recipient it
    queued (committed with the mail), and the next run skips them.
    """
    mailing = Mailing.objects.get(pk=mailing_id)
    if mailing.status != Mailing.Status.SENDING:
        return 0
    # Without the NULLs an erasure leaves behind: NOT IN over a NULL would exclude everyone.
    done = Delivery.objects.filter(mailing=mailing, subscription__isnull=False).values("subscription_id")
    candidates = Subscription.objects.filter(status=Subscription.Status.CONFIRMED).exclude(pk__in=done).order_by("pk")
    size = settings.VERN_NEWSLETTER_BATCH_SIZE
    handled = 0
    more = False
    for subscription in candidates.iterator(chunk_size=500):
        if mailing.topic not in subscription.topics:
            continue
        if handled == size:
            more = True
            break
        _deliver_one(mailing, subscription)
        handled += 1
    if more:
        job_enqueue_once(
            SEND_JOB,
            key=f"{SEND_JOB}:{mailing.pk}",
            payload={"mailing": mailing.pk},
            run_after=timezone.now() + dt.timedelta(seconds=settings.VERN_NEWSLETTER_BATCH_SECONDS),
        )
    else:
        Mailing.objects.filter(pk=mailing.pk, status=Mailing.Status.SENDING).update(
            status=Mailing.Status.SENT, finished_at=timezone.now()
        )
    return handled


# What the outbox records when the receiving server refused the message for good (a 5xx), or a
# delivery status notification read from the support mailbox reported a permanent failure.
_REFUSED = ("SMTPRecipientsRefused", "SMTPDataError", BOUNCED)


def refusals_count() -> int:
    """Count permanent refusals of mailings per subscriber; suppress after the declared number. Returns how many
    subscriptions were suppressed."""
    version = latest_version()
    if version is None:
        return 0
    limit = declaration_of(version).newsletter.hard_failure_limit
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).values("pk")
    suppressed_now = 0
    for delivery in Delivery.objects.filter(failure_counted=False, outbox_id__in=failed).select_related("subscription"):
        with transaction.atomic():
            if not Delivery.objects.filter(pk=delivery.pk, failure_counted=False).update(failure_counted=True):
                continue
            error = (
                OutboxMessage.objects.filter(pk=delivery.outbox_id or 0).values_list("last_error", flat=True).first()
            )
            subscription = delivery.subscription
            if subscription is None or not (error or "").startswith(_REFUSED):
                continue
            Subscription.objects.filter(pk=subscription.pk).update(hard_failures=F("hard_failures") + 1)
            subscription.refresh_from_db(fields=["hard_failures", "status"])
            if subscription.hard_failures >= limit and _end(
                subscription, ConsentProof.Action.SUPPRESSED, Suppression.Reason.REFUSED
            ):
                suppressed_now += 1
    return suppressed_now
