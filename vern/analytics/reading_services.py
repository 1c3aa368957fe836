"""Staff writes about reading the statistics: goals, statistics API tokens, the weekly report opt-in.

Each takes keyword-only arguments, runs in a transaction and leaves an audit row (names and ids,
never a token).
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from vern.accounts.models import User
from vern.analytics import goals
from vern.analytics.reading_models import Goal, ReportRecipient, StatsToken
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.lib.days import local_day

TOKEN_PREFIX = "vst_"  # noqa: S105 (a prefix, not a secret) vern statistics token: recognisable in a leaked log or a secret scanner


def token_digest(token: str) -> str:
    """SHA-256 of the token: it is 32 random bytes, so a plain hash is enough to keep it unguessable."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def goal_create(*, actor: User, name: str, kind: str, match: str) -> Goal:
    goal = Goal.objects.create(name=name, kind=kind, match=match)
    if kind == Goal.Kind.PAGE:
        # Its conversion rates added up for the days the statistics hold, now rather than at the next hourly
        # run; after the commit, so that a month of rows is not read while holding SQLite's write lock.
        transaction.on_commit(lambda: goals.refresh_page_reach(local_day(timezone.now())))
    audit_record(
        action=AuditEvent.ANALYTICS_GOAL_CREATED,
        actor=Actor.staff(actor),
        object_type="analytics.goal",
        object_id=goal.pk,
        # A page pattern or a click's name is worth keeping; a server event is named by the goal's name
        # (its key reads as a code).
        data={"name": name, "kind": kind, **({"match": match} if kind != Goal.Kind.SERVER else {})},
    )
    return goal


@transaction.atomic
def goal_delete(*, actor: User, goal: Goal) -> None:
    audit_record(
        action=AuditEvent.ANALYTICS_GOAL_DELETED,
        actor=Actor.staff(actor),
        object_type="analytics.goal",
        object_id=goal.pk,
        data={"name": goal.name},
    )
    goal.delete()


@transaction.atomic
def stats_token_create(*, actor: User, name: str) -> tuple[StatsToken, str]:
    """A new token for the staff member; returns the row and the token itself, which is never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = StatsToken.objects.create(user=actor, name=name, digest=token_digest(token), prefix=token[:10])
    audit_record(
        action=AuditEvent.ANALYTICS_TOKEN_CREATED,
        actor=Actor.staff(actor),
        object_type="analytics.statstoken",
        object_id=row.pk,
        data={"name": name, "prefix": row.prefix},
    )
    return row, token


@transaction.atomic
def stats_token_revoke(*, actor: User, token: StatsToken) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action=AuditEvent.ANALYTICS_TOKEN_REVOKED,
        actor=Actor.staff(actor),
        object_type="analytics.statstoken",
        object_id=token.pk,
        data={"name": token.name, "prefix": token.prefix},
    )


@transaction.atomic
def report_subscribe(*, actor: User, on: bool) -> None:
    """Ask for the weekly report (``on``) or stop it; asking twice changes nothing."""
    if on:
        _, created = ReportRecipient.objects.get_or_create(user=actor)
        if created:
            audit_record(
                action=AuditEvent.ANALYTICS_REPORT_SUBSCRIBED,
                actor=Actor.staff(actor),
                object_type="accounts.user",
                object_id=actor.pk,
            )
    elif ReportRecipient.objects.filter(user=actor).delete()[0]:
        audit_record(
            action=AuditEvent.ANALYTICS_REPORT_UNSUBSCRIBED,
            actor=Actor.staff(actor),
            object_type="accounts.user",
            object_id=actor.pk,
        )
