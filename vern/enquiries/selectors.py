"""Reading enquiries: the inbox, when each will be deleted, and what a form tells the visitor."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability, roles_granting
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration, RetentionRule
from vern.declaration.selectors import BASIS_LABELS, retention_body
from vern.enquiries.mailbox import error_text, skipped_deletion_at
from vern.enquiries.models import PURPOSE, Enquiry, MailboxDeletion, MailboxMessage, MailboxStatus, SearchTerm
from vern.enquiries.search import query_digest_sets
from vern.enquiries.services import BASIS
from vern.lib.keys import email_indexes, phone_indexes
from vern.lib.normalise import InvalidIdentifier
from vern.registry.surface import Tile

SOON = dt.timedelta(days=30)
FILTERS = ("all", "new", "open", "customer", "due")
STATES = ("any", *Enquiry.State.values)
OWNERS = ("anyone", "mine", "unassigned")


ENQUIRY_RULE = "enquiries"


@dataclass(frozen=True)
class Retention:
    """The two rules an enquiry can be under (P11): the enquiry rule, and the rule its
    ``becomes_customer`` exception leads to, as durations (None if a rule has no period)."""

    enquiries: Duration | None
    customers: Duration | None
    customer_rule: str | None = None

    @classmethod
    def of(cls, declaration: Declaration | None) -> Retention:
        def period(rule: RetentionRule | None) -> Duration | None:
            return Duration.parse(rule.period) if rule is not None and rule.period else None

        if declaration is None:
            return cls(None, None)
        rule = declaration.rule(ENQUIRY_RULE)
        customer_rule = next((e.then for e in rule.exceptions if e.when == "becomes_customer"), None) if rule else None
        return cls(period(rule), period(declaration.rule(customer_rule) if customer_rule else None), customer_rule)

    def rule_of(self, enquiry: Enquiry) -> str:
        return (self.customer_rule or ENQUIRY_RULE) if enquiry.is_customer else ENQUIRY_RULE

    def deletion_at(self, enquiry: Enquiry) -> dt.datetime | None:
        """When the enquiry is due for deletion; None while the person is a customer (P11)."""
        if enquiry.status == Enquiry.Status.CUSTOMER:
            if enquiry.relationship_ended_at is None or self.customers is None:
                return None
            return self.customers.after(enquiry.relationship_ended_at)
        return self.enquiries.after(enquiry.last_contact_at) if self.enquiries else None

    def due_by(self, moment: dt.datetime) -> Q:
        """Enquiries whose deletion date is at or before ``moment`` (never one that is not yet due)."""
        condition = Q(pk__in=[])
        if self.enquiries is not None:
            condition |= ~Q(status=Enquiry.Status.CUSTOMER) & Q(last_contact_at__lte=self.enquiries.before(moment))
        if self.customers is not None:
            condition |= Q(status=Enquiry.Status.CUSTOMER, relationship_ended_at__lte=self.customers.before(moment))
        return condition


def due_for_deletion(declaration: Declaration, now: dt.datetime) -> Q:
    """The registry's answer to "which enquiries are due at ``now``" (``due`` in the app's surface): the
    retention sweep asks this, so that customers are never taken by the 24-month rule."""
    return Retention.of(declaration).due_by(now)


def search(query: str) -> Q:
    """An email or phone number finds by blind index; other words find names and organisations.

    Every configured index key is asked (the current one and those still being rotated away
    from), so no enquiry goes missing while ``vern keys rotate`` recomputes the indexes.
    """
    text = query.strip()
    if "@" in text:
        try:
            return Q(email_index__in=email_indexes(text))
        except InvalidIdentifier:
            return Q(pk__in=[])
    if text and sum(ch.isdigit() for ch in text) >= 6 and all(ch.isdigit() or ch in "+ -()" for ch in text):
        try:
            return Q(phone_index__in=phone_indexes(text))
        except InvalidIdentifier:
            return Q(pk__in=[])
    condition = Q()
    for terms in query_digest_sets(text):
        condition &= Q(pk__in=SearchTerm.objects.filter(digest__in=terms).values("enquiry_id"))
    return condition


def inbox(
    *,
    status: str,
    query: str,
    retention: Retention,
    state: str = "any",
    owner: str = "anyone",
    staff: User | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Enquiry]:
    """The enquiries a filter shows: by relationship (``status``), by work (``state``: open,
    answered, closed) and by owner ("mine" for ``staff``, "unassigned"), and by search."""
    rows = (
        Enquiry.objects.select_related("owner")
        # A mail whose words seem to ask for a right, not yet registered as a rights request:
        # marked in the list, so that it is not left to wait like an enquiry (docs/mailbox.md).
        .annotate(looks_like_rights=Exists(MailboxMessage.objects.filter(enquiry=OuterRef("pk"), asks_for_rights=True)))
        .order_by("-received_at", "-pk")
    )
    if status in ("new", "open", "customer"):
        rows = rows.filter(status=status)
    elif status == "due":
        rows = rows.filter(retention.due_by((now or timezone.now()) + SOON))
    if state in Enquiry.State.values:
        rows = rows.filter(state=state)
    if owner == "mine" and staff is not None:
        rows = rows.filter(owner=staff)
    elif owner == "unassigned":
        rows = rows.filter(owner__isnull=True)
    if query.strip():
        rows = rows.filter(search(query))
    return rows


def assignable_staff() -> QuerySet[User]:
    """The active staff members an enquiry can be given to: those whose roles let them work enquiries."""
    roles = [role.value for role in roles_granting(Capability.WORK_ENQUIRIES)]
    return User.objects.filter(is_active=True, role_grants__role__in=roles).distinct().order_by("name", "pk")


def counts(retention: Retention) -> dict[str, int]:
    by_status = dict.fromkeys(("new", "open", "customer"), 0)
    for row in Enquiry.objects.values("status").annotate(n=Count("pk")).order_by():
        by_status[row["status"]] = row["n"]
    return {
        **by_status,
        "all": sum(by_status.values()),
        "due": Enquiry.objects.filter(retention.due_by(timezone.now() + SOON)).count(),
    }


def collection_notice(declaration: Declaration, kind: str, language: str) -> dict[str, str]:
    """What the form says beside its button (Art. 13 at the point of collection)."""
    purpose = declaration.purpose(PURPOSE)
    rule = declaration.rule(ENQUIRY_RULE)
    basis = BASIS[Enquiry.Kind(kind)]
    policy = reverse("declaration:policy")
    if kind == Enquiry.Kind.DEMO:
        collected = _(
            "your name, email address, phone number, company or municipality, the time you prefer and what you write"
        )
        why = _("to arrange the demo you ask for, a step before a possible agreement")
    else:
        collected = _("your name, email address, phone number if you give it, company or municipality and your message")
        why = _("to answer your enquiry and follow it up")
    notice = {
        "collected": collected,
        "why": why,
        "purpose": purpose.name.get(language) if purpose else "",
        "basis": BASIS_LABELS[basis][language],
        "retention": retention_body(rule, language) if rule else "",
        "objection": _("You may object to this at any time.") if basis == "f" else "",
        "controller": declaration.controller.name,
        "policy_url": policy,
        "purposes_url": policy + "#purposes",
        "retention_url": policy + "#retention",
        "rights_url": reverse("rights:center"),  # the privacy center, where the rights are used
        "policy_link_text": _("Read the privacy policy"),
    }
    # The same sentences the form page shows, in one string for a site that embeds the form.
    sentences = [
        _("%(controller)s uses %(collected)s %(why)s.") % notice,
        _("Legal basis: %(basis)s.") % notice,
        notice["objection"],
        _("We keep them %(retention)s.") % notice if notice["retention"] else "",
    ]
    notice["summary"] = " ".join(sentence for sentence in sentences if sentence)
    return notice


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.WORK_ENQUIRIES):
        return []
    new = Enquiry.objects.filter(status=Enquiry.Status.NEW).count()
    return [
        Tile(
            _("Enquiries"),
            _("New enquiries and demo bookings, contacts and customers."),
            reverse("enquiries_staff:inbox") + ("?status=new" if new else ""),
            new,
            alert=new > 0,
        )
    ]


def change_recipients() -> Iterator[tuple[str, str]]:
    """Everyone whose enquiry is still kept, in the language they wrote in: they are told of a
    significant change to the policy (P20). The declaration app mails each address once."""
    rows = Enquiry.objects.exclude(email_index="").order_by("pk").values_list("email", "language")
    for email, language in rows.iterator(chunk_size=500):
        if email:
            yield email, language


@dataclass(frozen=True)
class MailboxHealth:
    """What the inbox page says of the support mailbox."""

    last_success_at: dt.datetime | None
    last_error: str
    last_error_at: dt.datetime | None
    taken: int
    skipped: int
    deletions_waiting: int
    deletion_error: str
    skipped_waiting: int = 0
    skipped_days: int = 30
    # The day the oldest message in the skipped folder is deleted (None when the folder is empty).
    skipped_next_deletion: dt.date | None = None

    @property
    def failing(self) -> bool:
        return bool(self.last_error) or bool(self.deletion_error)

    @property
    def last_error_text(self) -> str:
        return error_text(self.last_error) if self.last_error else ""

    @property
    def deletion_error_text(self) -> str:
        return error_text(self.deletion_error) if self.deletion_error else ""


def mailbox_health() -> MailboxHealth | None:
    """The mailbox's last successful reading and last error; None when no mailbox is configured."""
    if not settings.IMAP_URL:
        return None
    status = MailboxStatus.objects.order_by("pk").first()
    waiting = MailboxDeletion.objects.count()
    error = (
        MailboxDeletion.objects.exclude(last_error="")
        .order_by("-attempts")
        .values_list("last_error", flat=True)
        .first()
    )
    return MailboxHealth(
        last_success_at=status.last_success_at if status else None,
        last_error=status.last_error if status else "",
        last_error_at=status.last_error_at if status else None,
        taken=status.taken if status else 0,
        skipped=status.skipped if status else 0,
        deletions_waiting=waiting,
        deletion_error=error or "",
        skipped_waiting=status.skipped_waiting if status else 0,
        skipped_days=settings.VERN_MAILBOX_SKIPPED_DAYS,
        skipped_next_deletion=(
            skipped_deletion_at(status.skipped_oldest_at) if status and status.skipped_oldest_at else None
        ),
    )
