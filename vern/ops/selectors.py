from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# What each kind of mail is, as the outbox names it to staff (the kind itself is a code).
MAIL_KINDS = {
    "enquiry_received": gettext_lazy("Receipt for an enquiry"),
    "enquiry_notification": gettext_lazy("New enquiry, to staff"),
    "enquiry_reply": gettext_lazy("Answer to an enquiry"),
    "subscription_confirm": gettext_lazy("Confirmation of a newsletter subscription"),
    "newsletter": gettext_lazy("Newsletter"),
    "rights_confirm": gettext_lazy("Rights request: confirm the address"),
    "rights_reminder": gettext_lazy("Rights request: reminder"),
    "rights_message": gettext_lazy("Rights request: message from staff"),
    "rights_extended": gettext_lazy("Rights request: deadline extended"),
    "rights_answered": gettext_lazy("Rights request: answered"),
    "rights_refused": gettext_lazy("Rights request: refused"),
    "rights_download_ready": gettext_lazy("Rights request: download link"),
    "rights_restriction_ending": gettext_lazy("Restriction about to end"),
    "policy_changed": gettext_lazy("Privacy policy changed"),
    "connector_task": gettext_lazy("Task for a processor: find and erase a person"),
    "connector_rectification_task": gettext_lazy("Task for a processor: correct a person's data"),
    "staff_scan_findings": gettext_lazy("Cookie scan: new findings"),
    "analytics_report": gettext_lazy("Statistics: weekly report"),
    "staff_breach_alert": gettext_lazy("Breach: alert to staff"),
    "staff_review_due": gettext_lazy("Risk register: review due"),
    "breach_notice": gettext_lazy("Breach: notice to the people affected"),
    "staff_processor_reviews": gettext_lazy("Processor reviews overdue"),
    "processor_changes_confirm": gettext_lazy("Changes of sub-processors: confirmation link"),
    "processor_changes_notice": gettext_lazy("Changes of sub-processors: notice"),
    "staff_invitation": gettext_lazy("Staff account: invitation"),
    "staff_password_reset": gettext_lazy("Staff account: new password"),
    "staff_role_grant": gettext_lazy("Staff account: role to approve"),
    "staff_second_factor_reset": gettext_lazy("Staff account: second factor reset"),
    "staff_passkey_added": gettext_lazy("Staff account: passkey added"),
    "staff_recovery_code_used": gettext_lazy("Staff account: recovery code used"),
}


@dataclass(frozen=True)
class OutboxRow:
    message: OutboxMessage
    recipient: str

    @property
    def kind(self) -> str:
        """The kind of mail in words; a kind added since without a name shows as it is."""
        return str(MAIL_KINDS.get(self.message.kind, self.message.kind))


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


# The names of the details audit entries carry (``Entry.data``), as staff read them.
DETAIL_KEYS = {
    "automatic": gettext_lazy("automatic"),
    "aware_at": gettext_lazy("aware since"),
    "authority": gettext_lazy("Datatilsynet"),
    "criteria": gettext_lazy("criteria"),
    "fields_changed": gettext_lazy("fields changed"),
    "format": gettext_lazy("format"),
    "hours": gettext_lazy("hours"),
    "impact": gettext_lazy("impact"),
    "late": gettext_lazy("after 72 hours"),
    "likelihood": gettext_lazy("likelihood"),
    "list_items": gettext_lazy("items of Datatilsynet's list"),
    "next_review": gettext_lazy("next review"),
    "not_found": gettext_lazy("not found"),
    "occurred_at": gettext_lazy("happened"),
    "outcome": gettext_lazy("outcome"),
    "owner": gettext_lazy("owner"),
    "people": gettext_lazy("people affected"),
    "people_approx": gettext_lazy("people (approximately)"),
    "records_approx": gettext_lazy("records (approximately)"),
    "register_due": gettext_lazy("review of the register due"),
    "report": gettext_lazy("report number"),
    "residual_impact": gettext_lazy("impact after the measures"),
    "residual_likelihood": gettext_lazy("likelihood after the measures"),
    "reviewed": gettext_lazy("reviewed"),
    "risks": gettext_lazy("risks"),
    "sent": gettext_lazy("sent"),
    "special_categories": gettext_lazy("special categories"),
    "stage": gettext_lazy("stage"),
    "submitted_at": gettext_lazy("sent on"),
    "basis": gettext_lazy("legal basis"),
    "channel": gettext_lazy("channel"),
    "clock_moved": gettext_lazy("clock moved"),
    "consent_revision": gettext_lazy("consent revision"),
    "decision": gettext_lazy("decision"),
    "done": gettext_lazy("carried out"),
    "ended_at": gettext_lazy("ended"),
    "ends_at": gettext_lazy("ends"),
    "error": gettext_lazy("error"),
    "expires_at": gettext_lazy("expires"),
    "extended_to": gettext_lazy("extended to"),
    "filter": gettext_lazy("filter"),
    "grant": gettext_lazy("role request"),
    "ground": gettext_lazy("ground"),
    "happened_at": gettext_lazy("when"),
    "hash": gettext_lazy("checksum"),
    "holds_shown": gettext_lazy("legal holds shown"),
    "kind": gettext_lazy("kind"),
    "method": gettext_lazy("method"),
    "n": gettext_lazy("number"),
    "new": gettext_lazy("new"),
    "old": gettext_lazy("old"),
    "on": gettext_lazy("on"),
    "package": gettext_lazy("package"),
    "page": gettext_lazy("page"),
    "password_set": gettext_lazy("password set"),
    "period": gettext_lazy("period"),
    "policy_version": gettext_lazy("policy version"),
    "reason": gettext_lazy("reason"),
    "record_model": gettext_lazy("kind of record"),
    "removed": gettext_lazy("removed"),
    "right": gettext_lazy("right"),
    "rights": gettext_lazy("rights"),
    "role": gettext_lazy("role"),
    "roles": gettext_lazy("roles"),
    "searched": gettext_lazy("searched"),
    "second_factor": gettext_lazy("second factor"),
    "shown": gettext_lazy("shown"),
    "sign_in": gettext_lazy("sign-in"),
    "significant": gettext_lazy("significant change"),
    "step": gettext_lazy("step"),
    # the processor register
    "changed": gettext_lazy("changed"),
    "key": gettext_lazy("short name"),
    "added": gettext_lazy("added"),
    "agreement_date": gettext_lazy("date of the agreement"),
    "agreement_file": gettext_lazy("agreement document"),
    "agreement_note": gettext_lazy("about the agreement"),
    "countries": gettext_lazy("locations"),
    "data_categories": gettext_lazy("kinds of data"),
    "name": gettext_lazy("name"),
    "objection_deadline": gettext_lazy("objections by"),
    "processors": gettext_lazy("processors"),
    "purposes": gettext_lazy("purposes"),
    "scc_module": gettext_lazy("module of the clauses"),
    "service_en": gettext_lazy("service in English"),
    "service_nb": gettext_lazy("service in Norwegian"),
    "status": gettext_lazy("status"),
    "subscribers_told": gettext_lazy("subscribers told"),
    "transfer_assessment": gettext_lazy("transfer assessment"),
    "transfer_mechanism": gettext_lazy("transfer mechanism"),
}


def _vocabulary() -> dict[str, str]:
    """Every value a model field offers as a choice (a role, a right, a channel...), with its label."""
    from django.apps import apps

    from vern.rights.models import Right

    words: dict[str, str] = {value: str(label) for value, label in Right.choices}  # a list of rights has no field
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and ("_" in value or value in DETAIL_VALUES):
                    words.setdefault(value, str(label))
    for value, label in DETAIL_WORDS.items():
        words.setdefault(value, str(label))
    return words


# Values of details that are no model's choices: which page of a request was opened, which list.
DETAIL_WORDS = {
    "detail": gettext_lazy("the request"),
    "answer": gettext_lazy("answer"),
    "refuse": gettext_lazy("refusal"),
    "rectify": gettext_lazy("rectification"),
    "all": gettext_lazy("all"),
}

# Values that are ordinary words in English as well as codes: shown in words only when a choice names them.
DETAIL_VALUES = {"access", "erasure", "rectification", "restriction", "objection", "portability", "email", "phone"}
DETAIL_VALUES |= {"form", "contact", "demo", "excessive", "unfounded", "identity", "exempt", "totp", "recovery"}
DETAIL_VALUES |= {"passkey", "admin", "sales", "meeting"}
DETAIL_VALUES |= {"undecided", "notify", "initial", "final", "required"}  # the security registers' choices


def _describe(value: object, words: dict[str, str]) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_describe(item, words) for item in value) or "–"
    if isinstance(value, dict):
        # By key, so every database shows one order (PostgreSQL's jsonb keeps its own, not the written one).
        return "; ".join(
            f"{DETAIL_KEYS.get(str(key), str(key).replace('_', ' '))}: {_describe(item, words)}"
            for key, item in sorted(value.items())
        )
    if value is True or value is False:
        return _("yes") if value else _("no")
    if isinstance(value, str):
        return words.get(value) or _moment(value) or value
    return str(value)


def _moment(value: str) -> str:
    """An ISO date or time, as the reader's language writes one; "" for anything else."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+([+-]\d{2}:\d{2}|Z)?)?", value):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if len(value) == 10:
        return formats.date_format(moment.date(), "SHORT_DATE_FORMAT")
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")


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
    words = _vocabulary()
    for entry in page:
        if entry.actor_kind == Entry.ActorKind.STAFF and entry.actor_id is not None:
            actor = f"{names.get(entry.actor_id, _('staff'))} #{entry.actor_id}"
        else:
            actor = str(labels.get(Entry.ActorKind(entry.actor_kind), entry.actor_kind))
        rows.append(AuditRow(entry=entry, actor=actor, details=_describe(entry.data, words) if entry.data else ""))
    return rows
