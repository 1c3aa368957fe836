from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.audit.models import Entry
from vern.jobs.models import Job
from vern.lib.normalise import mask_email
from vern.mail.models import OutboxMessage


def cache_answers() -> bool:
    """Whether the shared cache (Redis with ``REDIS_URL``) stores and returns a value now."""
    try:
        cache.set("vern:healthz", "1", timeout=5)
        return bool(cache.get("vern:healthz") == "1")
    except Exception:  # the cache's client raises its own errors (redis.ConnectionError, timeouts)
        return False


def job_counts() -> dict[str, int]:
    rows = Job.objects.values("status").annotate(n=Count("pk"))
    counts = {status: 0 for status in Job.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


def jobs_needing_attention() -> QuerySet[Job]:
    return Job.objects.filter(Q(status=Job.Status.FAILED) | Q(attempts__gt=1) | Q(status=Job.Status.RUNNING)).order_by(
        "-status", "-pk"
    )[:200]


def recent_jobs() -> QuerySet[Job]:
    return Job.objects.order_by("-pk")[:50]


@dataclass(frozen=True)
class OutboxRow:
    message: OutboxMessage
    recipient: str


def outbox_rows(*, status: str | None) -> list[OutboxRow]:
    """Mail metadata with the recipient masked: enough to tell messages apart, not to read them."""
    messages = OutboxMessage.objects.order_by("-pk").defer("subject", "body_text", "body_html")
    if status:
        messages = messages.filter(status=status)
    return [OutboxRow(message=m, recipient=mask_email(m.to_address)) for m in messages[:200]]


def outbox_counts() -> dict[str, int]:
    rows = OutboxMessage.objects.values("status").annotate(n=Count("pk"))
    counts = {status: 0 for status in OutboxMessage.Status.values}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class AuditRow:
    entry: Entry
    actor: str
    details: str


def _describe(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_describe(item) for item in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_describe(item)}" for key, item in value.items())
    if value is True or value is False:
        return "yes" if value else "no"
    return str(value)


def audit_rows(*, before: int | None, limit: int, action: str | None = None) -> list[AuditRow]:
    """A page of the log, newest first, with staff actors named (two queries in all);
    only the rows of one kind of event when ``action`` is given."""
    entries = Entry.objects.order_by("-seq")
    if before:
        entries = entries.filter(seq__lt=before)
    if action:
        entries = entries.filter(action=action)
    page = list(entries[:limit])
    staff_ids = {e.actor_id for e in page if e.actor_kind == Entry.ActorKind.STAFF and e.actor_id}
    names = dict(User.objects.filter(pk__in=staff_ids).values_list("pk", "name"))
    labels = {
        Entry.ActorKind.SYSTEM: _("system"),
        Entry.ActorKind.CLI: _("command line"),
        Entry.ActorKind.VISITOR: _("visitor"),
    }
    rows = []
    for entry in page:
        if entry.actor_kind == Entry.ActorKind.STAFF and entry.actor_id is not None:
            actor = f"{names.get(entry.actor_id, _('staff'))} #{entry.actor_id}"
        else:
            actor = str(labels.get(Entry.ActorKind(entry.actor_kind), entry.actor_kind))
        rows.append(AuditRow(entry=entry, actor=actor, details=_describe(entry.data) if entry.data else ""))
    return rows
