"""Erasure (Art. 17, LAW.md R15, R16, P23): a preview, the erasure itself, and its replay after a restore.

The registry says, model by model, what an erasure does: ``delete`` the person's
rows (their parts go with them, by cascade), ``anonymise`` the named fields, or
``retain`` the rows under an Art. 17(3) ground. The person is found by the
stored keys of the request (``selectors.person_keys``), never by a hand-kept list:
while the request holds the address, its blind index under every configured index key
is among them, so that an erasure during ``vern keys rotate`` misses no row.

Before any data is touched, the keys go into the erasure journal: a database of
its own (``vern.rights.journal``, ``ERASURE_JOURNAL_URL``), because a restored
backup of vern's database brings back an older tombstone table too, and then
``Tombstone`` rows. ``replay_tombstones`` erases again, after a restore, what
the registry finds for every key of the journal.

Each model is erased in its own transaction, with a timeline event and an audit
row (counts only) in that transaction. A process that dies half-way leaves every
finished model finished; running the erasure again finds nothing where it already
was, finishes the rest, and the receipt adds up every step of the request.

The person's rights requests are kept (Art. 5(2)), without the address, phone
and free text (``forget_contact``). The request being answered keeps its address
until its answer mail is written; that mail is ephemeral (blanked once sent).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.durations import Duration
from vern.declaration.selectors import published_declaration
from vern.jobs.models import Job
from vern.jobs.services import job_enqueue_once
from vern.lib.days import OSLO
from vern.lib.logs import redact
from vern.registry import surface
from vern.registry.entries import Entry, parts_of
from vern.registry.erasure import part_rows, remove_rows
from vern.rights import selectors
from vern.rights.journal import journal_append
from vern.rights.models import CLOSED_STATUSES, OPEN_STATUSES, Download, Event, Request, Right, Tombstone
from vern.rights.services.steps import RequestRefused, mark_done

log = logging.getLogger(__name__)

REQUEST_LABEL = Request._meta.label
CONTACT_FIELDS = ("email", "phone", "details")


class Action(models.TextChoices):
    """What an erasure does to a model's rows, as the staff page names it."""

    DELETE = "delete", _("Deleted")
    ANONYMISE = "anonymise", _("Anonymised")
    RETAIN = "retain", _("Kept")
    CASCADE = "cascade", _("Deleted with the record it belongs to")
    KEPT_WITH = "kept_with", _("Kept with the record it belongs to")
    QUEUED = "queued", _("Asked of the other system, which erases and confirms")
    TASK = "task", _("Mailed to the processor as a task to find and erase")
    FAILED = "failed", _("Not reached: the other system failed")


@dataclass(frozen=True)
class Line:
    """One model in the preview: how many of the person's rows, and what happens to them."""

    label: str  # app_label.Model
    name: str  # the model's verbose name
    count: int
    action: str  # an Action value
    ground: str = ""  # for kept rows: the Art. 17(3) ground the model declares
    fields: tuple[str, ...] = ()  # for anonymised rows: the fields cleared
    part_of: str = ""  # for parts: the label of the model whose rows they belong to
    note: str = ""

    @property
    def action_text(self) -> str:
        return str(Action(self.action).label)

    @property
    def erased(self) -> bool:
        return self.action in (Action.DELETE, Action.ANONYMISE, Action.CASCADE)


@dataclass(frozen=True)
class Preview:
    """Every record an erasure would touch or keep, model by model, for the staff page.

    A legal hold on the person (Art. 17(3)(e)) forbids the erasure as a whole: ``on_hold``
    says so, and carrying it out is refused until the hold is released.
    """

    lines: tuple[Line, ...]
    keys: tuple[str, ...]  # the kinds of key the person was found by: email, phone, consent_id
    contact_cleared: int  # the person's rights requests whose address, phone and text are cleared
    on_hold: bool = False  # a legal hold forbids the erasure for now

    @property
    def erased(self) -> list[Line]:
        return [line for line in self.lines if line.erased]

    @property
    def kept(self) -> list[Line]:
        return [line for line in self.lines if not line.erased]

    @property
    def erased_count(self) -> int:
        return sum(line.count for line in self.erased)

    def count(self, label: str) -> int:
        return sum(line.count for line in self.lines if line.label == label)


@dataclass(frozen=True)
class Receipt:
    """What an erasure did: counts per model and the grounds of what was kept; no identifier."""

    deleted: dict[str, int]
    anonymised: dict[str, int]
    kept: dict[str, str]  # label → the Art. 17(3) ground
    contact_cleared: int
    keys: tuple[str, ...]
    # The day by which the last backup that may still hold the person is deleted (R16); None
    # when the published declaration names no backup period.
    backups_gone_by: dt.date | None = None

    @property
    def removed(self) -> int:
        return sum(self.deleted.values()) + sum(self.anonymised.values())

    def data(self) -> dict[str, Any]:
        return {
            "deleted": self.deleted,
            "anonymised": self.anonymised,
            "kept": self.kept,
            "contact_cleared": self.contact_cleared,
            "keys": list(self.keys),
            "backups_gone_by": self.backups_gone_by.isoformat() if self.backups_gone_by else None,
        }


def backups_gone_by(erased_at: dt.datetime) -> dt.date | None:
    """The day by which no backup holds a person erased at ``erased_at`` (R16, LAW.md).

    The last backup that may hold them was made before the erasure, and is deleted by the first
    nightly run (03:30 Oslo time) after it is older than the declared backup period: by the day
    after the period ends, counted on Oslo's calendar.
    """
    declaration = published_declaration()
    if declaration is None or not declaration.security.backup_period:
        return None
    ends = Duration.parse(declaration.security.backup_period).after(erased_at)
    return ends.astimezone(OSLO).date() + dt.timedelta(days=1)


# ------------------------------------------------------------------ preview


def _verbose(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def _person_requests(request: Request) -> QuerySet[Request]:
    """The person's requests that hold their address or phone: found by the email's index, and
    by the phone's once it was verified (a consent id alone may be another person's browser);
    by every stored form of each (``selectors.person_keys``)."""
    keys = selectors.person_keys(request)
    condition = Q(pk=request.pk)
    if keys.get("email"):
        condition |= Q(email_index__in=keys["email"])
    if keys.get("phone"):
        condition |= Q(phone_index__in=keys["phone"])
    return Request.objects.filter(condition)


def erasure_preview(request: Request) -> Preview:
    """Per registered model: how many of the person's rows go (deleted, anonymised, or with the
    record they belong to) and how many stay, with the ground for keeping them."""
    lines: list[Line] = []
    for found in selectors.discover(request):
        entry = found.entry
        if not found.count:
            continue
        note = ""
        if entry.label == REQUEST_LABEL:
            note = str(_("Their email address, phone number and details are cleared; the record of the request stays."))
        lines.append(
            Line(
                label=entry.label,
                name=_verbose(entry.model),
                count=found.count,
                action=entry.erasure,
                ground=entry.retain_reason if entry.erasure == "retain" else "",
                fields=entry.anonymise if entry.erasure == "anonymise" else (),
                note=note,
            )
        )
        for part in parts_of(entry):
            count = part_rows(part, found.records).count()
            if count:
                kept = entry.erasure == "retain"
                lines.append(
                    Line(
                        label=part.label,
                        name=_verbose(part.model),
                        count=count,
                        action=Action.KEPT_WITH if kept else Action.CASCADE,
                        ground=entry.retain_reason if kept else "",
                        part_of=entry.label,
                    )
                )
    # The company's other systems: their dry run counts what the erasure would change there.
    for step in surface.external_erase(selectors.person_of(request), dry_run=True):
        if step.count or step.action in (Action.QUEUED, Action.TASK, Action.FAILED):
            lines.append(
                Line(
                    label=step.source,
                    name=step.title,
                    count=step.count,
                    action=step.action,
                    fields=step.fields,
                    note=step.note,
                )
            )
    person = selectors.person_keys(request)
    contact_cleared = _person_requests(request).filter(contact_erased_at__isnull=True).count()
    on_hold = surface.erasure_forbidden(person)
    return Preview(lines=tuple(lines), keys=tuple(person), contact_cleared=contact_cleared, on_hold=on_hold)


# ------------------------------------------------------------------ the journal


def _journal_write(request: Request, keys: selectors.PersonKeys, now: dt.datetime) -> None:
    """Record the keys before touching any data: in the journal first, then as tombstones.

    Every stored form of every key is a (kind, key) pair of its own: an email's blind index
    under each configured index key, so that a replay after a restore finds the person's rows
    under whichever key they were stored when the backup was made. Only pairs without a
    tombstone yet are written, so a rerun adds nothing; a pair in the journal but not in the
    table (the process died between the two) is written again.
    """
    pairs = sorted({(kind, key) for kind, forms in keys.items() for key in forms})
    existing = set(Tombstone.objects.filter(key__in=[key for _, key in pairs]).values_list("kind", "key"))
    new = [(kind, key) for kind, key in pairs if (kind, key) not in existing]
    if not new:
        return
    journal_append(new, now)
    with transaction.atomic():
        Tombstone.objects.bulk_create(
            Tombstone(kind=kind, key=key, request=request, erased_at=now) for kind, key in new
        )


# ------------------------------------------------------------------ erasing, a model at a time


def erase_model(
    entry: Entry,
    records: QuerySet[Any],
    *,
    request: Request | None,
    actor: Actor,
    subject_key: str,
    action: AuditEvent,
) -> tuple[dict[str, int], dict[str, int]]:
    """One model, in one transaction, with its timeline event and audit row of counts."""
    with transaction.atomic():
        # The same routine as a retention sweep, so a request and a sweep leave the same row.
        removed = remove_rows(entry, records)
        deleted, anonymised = removed.deleted, removed.anonymised
        if removed:
            data = {"model": entry.label, "deleted": deleted, "anonymised": anonymised}
            if request is not None:
                Event.objects.create(request=request, kind="erasure_step", data=data)
            audit_record(
                action=action,
                actor=actor,
                object_type="rights.request" if request is not None else "rights.tombstone",
                object_id=request.pk if request is not None else "",
                subject_key=subject_key,
                data=data,
            )
    return deleted, anonymised


def forget_contact(request: Request, *, keep_this_one: bool = False) -> int:
    """Clear the email, phone and details of the person's rights requests that are closed, and of
    this one (they keep the keyed indexes and ``contact_erased_at``); returns how many were cleared.

    With ``keep_this_one`` the given request keeps its address, for the answer still to be
    written; call ``forget_contact(request)`` once that mail is in the outbox.
    """
    # The person's other requests that are still open (or await confirmation) keep theirs until
    # each closes, which mails the answer (ephemerally) and then forgets it: ``steps.erased``
    # counts this erasure for them too. One that lapses unconfirmed is cleared by the lapse.
    rows = (
        _person_requests(request)
        .filter(contact_erased_at__isnull=True)
        .exclude(~Q(status__in=CLOSED_STATUSES) & ~Q(pk=request.pk))
    )
    if keep_this_one:
        rows = rows.exclude(pk=request.pk)
    now = timezone.now()
    # A correction's old and new values may be the address itself (an email corrected); other
    # texts staff wrote keep their words, with any address or number in them redacted.
    Event.objects.filter(request__in=rows, kind="rectified").update(note="")
    for event in Event.objects.filter(request__in=rows).only("pk", "note"):
        if event.note and redact(event.note) != event.note:
            Event.objects.filter(pk=event.pk).update(note=redact(event.note))
    for row in rows.only("pk", "outcome", "extension_reason"):
        texts = {"outcome": redact(row.outcome), "extension_reason": redact(row.extension_reason)}
        if texts != {"outcome": row.outcome, "extension_reason": row.extension_reason}:
            Request.objects.filter(pk=row.pk).update(**texts)
    cleared = rows.update(email="", phone="", details="", contact_erased_at=now)
    if not keep_this_one:
        request.email = request.phone = request.details = ""
        request.contact_erased_at = request.contact_erased_at or now
    return cleared


def _sum_steps(request: Request) -> tuple[dict[str, int], dict[str, int], int]:
    """Every erasure step of the request, added up: a resumed erasure counts its first run too.

    Returns rows deleted and anonymised per model, and how many requests lost their contact details.
    """
    deleted: dict[str, int] = {}
    anonymised: dict[str, int] = {}
    contact_cleared = 0
    for data in (
        Event.objects.filter(request=request, kind="erasure_step").order_by("pk").values_list("data", flat=True)
    ):
        for target, counts in ((deleted, data.get("deleted") or {}), (anonymised, data.get("anonymised") or {})):
            for label, n in counts.items():
                target[label] = target.get(label, 0) + int(n)
        contact_cleared += int(data.get("contact_cleared") or 0)
    return dict(sorted(deleted.items())), dict(sorted(anonymised.items())), contact_cleared


CLAIM_FOR = dt.timedelta(minutes=10)
ERASE_JOB = "rights.erase"


def _erasable_keys(request: Request) -> selectors.PersonKeys:
    """The person's keys, once every check that an erasure may go ahead now has passed."""
    if request.status not in OPEN_STATUSES:
        raise RequestRefused("closed", "only an open request can be carried out")
    if Right.ERASURE not in request.rights:
        raise RequestRefused("right", "the request does not ask for erasure")
    if Right.ERASURE in request.done:
        raise RequestRefused("done", "the erasure has already been carried out")
    keys = selectors.person_keys(request)
    if not keys:
        raise RequestRefused("no_keys", "the request gives nothing to find the person by")
    if surface.erasure_forbidden(keys):
        raise RequestRefused("legal_hold", "a legal hold keeps this person's data; release it or refuse the erasure")
    if selectors.pending_download(request) is not None:
        raise RequestRefused("download_pending", "a copy of the data waits to be downloaded")
    return keys


def erasure_queue(*, request: Request, staff: User) -> Request:
    """Hand a confirmed erasure to the worker, which carries it out (``erasure_run_queued``).

    The checks run now, so that staff are told at once what stands in the way; the worker
    runs them again. However long the erasure takes, no web request waits for it, and every
    app server's erasures are carried out, and journaled, by the workers.
    """
    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        _erasable_keys(request)
        if erasure_queued(request) is not None:  # waiting, or running (a running job's key is free again)
            raise RequestRefused("busy", "the erasure is being carried out")
        queued = job_enqueue_once(
            ERASE_JOB, key=f"{ERASE_JOB}:{request.pk}", payload={"request_id": request.pk, "staff_id": staff.pk}
        )
        if queued is None:
            raise RequestRefused("busy", "the erasure is being carried out")
        Event.objects.create(request=request, kind="erasure_queued", actor=staff)
    return request


def _erase_job(request: Request) -> Job | None:
    """The newest job that carries out this request's erasure."""
    return Job.objects.filter(name=ERASE_JOB, payload__request_id=request.pk).order_by("-pk").first()


def erasure_queued(request: Request) -> Event | None:
    """The queueing of the request's erasure, while the worker has not yet finished, refused or given it up."""
    queued = request.events.filter(kind="erasure_queued").order_by("-at", "-pk").first()
    if queued is None or request.events.filter(kind__in=("erased", "erasure_refused"), pk__gt=queued.pk).exists():
        return None
    job = _erase_job(request)
    if job is not None and job.status == Job.Status.FAILED:
        return None  # the worker gave up: staff may carry it out again (``erasure_failed`` says so)
    return queued


def erasure_failed(request: Request) -> bool:
    """Whether the worker gave up the request's last queued erasure, which therefore did not happen."""
    if Right.ERASURE in request.done:
        return False
    job = _erase_job(request)
    return job is not None and job.status == Job.Status.FAILED


def erasure_run_queued(*, request_id: int, staff_id: int | None) -> Receipt | None:
    """The worker's side of ``erasure_queue``: carry the erasure out, once.

    An erasure already carried out is not run again (the job may run twice after a crash). One
    that the checks now refuse (a legal hold placed since, the request closed) is not carried out,
    and the timeline says why. One still being carried out by a run that died raises, so the
    job is retried once that run's claim has expired.
    """
    request = Request.objects.filter(pk=request_id).first()
    if request is None or Right.ERASURE in request.done:
        return None
    staff = User.objects.filter(pk=staff_id).first() if staff_id is not None else None
    actor = Actor.staff(staff) if staff is not None else Actor.system()
    try:
        return erasure_carry_out(request=request, staff=staff, actor=actor)
    except RequestRefused as refusal:
        if refusal.code == "busy":
            raise
        Event.objects.create(request=request, kind="erasure_refused", actor=staff, data={"code": refusal.code})
        log.warning("erasure of request %s not carried out: %s", request.pk, refusal.code)
        return None


def erasure_carry_out(*, request: Request, staff: User | None, actor: Actor) -> Receipt:
    """Erase the person's data as every registered model declares; safe to run again.

    The journal is written first (the journal database, then tombstones). Then each model is erased in its
    own transaction. The person's other rights requests lose their contact details; this
    one keeps its address until its answer is queued (``request_answer`` clears it then).
    The receipt (counts and grounds, no identifier) goes on the request's timeline.
    """
    given = request
    now = timezone.now()
    with transaction.atomic():
        # Claimed under the request's lock: a second click, or a second officer, waits and is refused
        # while the first runs; a run that died is taken over once its claim is old.
        request = Request.objects.select_for_update().get(pk=request.pk)
        keys = _erasable_keys(request)
        if Event.objects.filter(request=request, kind="erasure_claimed", at__gt=now - CLAIM_FOR).exists():
            raise RequestRefused("busy", "the erasure is being carried out")
        claim = Event.objects.create(request=request, kind="erasure_claimed", actor=staff)
    try:
        return _carry_out(given, request, keys, staff=staff, actor=actor, now=now, claim=claim)
    except BaseException:
        Event.objects.filter(pk=claim.pk).delete()  # a failed run leaves the way open for the next one
        raise


def _carry_out(
    given: Request,
    request: Request,
    keys: selectors.PersonKeys,
    *,
    staff: User | None,
    actor: Actor,
    now: dt.datetime,
    claim: Event,
) -> Receipt:
    subject_key = request.subject_key
    _journal_write(request, keys, now)
    # Links of the person's earlier requests would now hand out an empty copy: they end here.
    Download.objects.filter(
        request__in=_person_requests(request), downloaded_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)

    kept: dict[str, str] = {}
    for found in selectors.records_by_keys(keys, counted=False):
        entry = found.entry
        if entry.erasure == "retain":
            kept[entry.label] = entry.retain_reason
            for part in parts_of(entry):
                kept[part.label] = entry.retain_reason
            continue
        erase_model(
            entry, found.records, request=request, actor=actor, subject_key=subject_key, action=AuditEvent.RIGHTS_ERASED
        )
        # Still at work: the claim is renewed after each model, so a long erasure is never taken over.
        Event.objects.filter(pk=claim.pk).update(at=timezone.now())

    # The company's other systems (their connectors, through the registry's surface): an SQL
    # database is erased at once, a webhook through the job queue, a processor by a mailed task.
    for step in surface.external_erase(selectors.person_of(request), dry_run=False):
        if step.action == Action.RETAIN:
            kept[step.source] = str(_("Kept by the other system"))
        elif step.count and step.action in (Action.DELETE, Action.ANONYMISE):
            counts = {step.source: step.count}
            data: dict[str, Any] = {
                "model": step.source,
                "deleted": counts if step.action == Action.DELETE else {},
                "anonymised": counts if step.action == Action.ANONYMISE else {},
            }
            with transaction.atomic():
                Event.objects.create(request=request, kind="erasure_step", data=data)
                audit_record(
                    action=AuditEvent.RIGHTS_ERASED,
                    actor=actor,
                    object_type="rights.request",
                    object_id=request.pk,
                    subject_key=subject_key,
                    data=data,
                )
    Event.objects.filter(pk=claim.pk).update(at=timezone.now())

    with transaction.atomic():
        request = Request.objects.select_for_update().get(pk=request.pk)
        cleared = forget_contact(request, keep_this_one=True)
        if cleared:
            data = {"model": REQUEST_LABEL, "contact_cleared": cleared}
            Event.objects.create(request=request, kind="erasure_step", data=data)
            audit_record(
                action=AuditEvent.RIGHTS_ERASED,
                actor=actor,
                object_type="rights.request",
                object_id=request.pk,
                subject_key=subject_key,
                data=data,
            )
        deleted, anonymised, contact_cleared = _sum_steps(request)
        receipt = Receipt(
            deleted=deleted,
            anonymised=anonymised,
            kept=dict(sorted(kept.items())),
            contact_cleared=contact_cleared,
            keys=tuple(sorted(keys)),
            backups_gone_by=backups_gone_by(now),
        )
        Event.objects.create(request=request, kind="erased", actor=staff, data=receipt.data())
        mark_done(request, Right.ERASURE, actor=actor, staff=staff, removed=deleted, anonymised=anonymised)
    given.done = request.done
    log.info("erasure of request %s: %d rows removed or anonymised", request.pk, receipt.removed)
    return receipt
