"""The retention engine: every registered model's rule, compiled from the declaration, and enforced.

For each model in the personal-data registry, the declaration's rule gives the
period and the model's ``Privacy`` gives the clock field (or a function that
knows the rule's exceptions, like an enquiry that became a customer). A row is
due when its period has passed; it is kept while a legal hold covers it (a hold
on the person, found through the model's identifiers, or on the row itself).

A sweep removes what is due in batches, each in its own transaction, so that it
never holds the write lock for long and can be killed at any point: the next
sweep recomputes what is due and finishes, and nothing is removed early because
"due" is always computed afresh from the clock. Rows of a hash chain (the audit
log, the consent proof) go only as a prefix, so the rest still verifies.
Removal follows the model's erasure mode through the routine an erasure request
uses too (``vern.registry.erasure.remove_rows``): ``anonymise`` clears the named
fields and deletes the row's parts, anything else deletes the row (with its
parts, by cascade).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from vern.audit.chain import ChainBroken, HashChain, chain_of
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record, chain_prune
from vern.declaration.durations import Duration
from vern.declaration.schema import Declaration, RetentionRule
from vern.lib import partitions
from vern.registry import surface
from vern.registry.entries import Entry, entries, indexed, parts_of
from vern.registry.erasure import pending, remove_rows
from vern.registry.surface import FormsOf
from vern.retention.models import Hold

CLOCK_TOLERANCE = dt.timedelta(minutes=5)
DEFAULT_BATCH_SIZE = 500  # rows per batch, where the size is not named and does not follow the time
PARTITIONED_BATCH_SIZE = 5_000  # the least batch on a day-partitioned table (see sweep_one)
# On SQLite (``BatchPace``): the longest a batch should hold the write lock, the pause after it,
# and the bounds of its size.
BATCH_SECONDS = 0.05
BATCH_PAUSE = 0.03
MIN_BATCH_SIZE = 100
MAX_BATCH_SIZE = 50_000
log = logging.getLogger("vern.retention")


class SweepRefused(RuntimeError):
    """A sweep cannot know what is due, so it removes nothing."""


class ClockDisagreement(SweepRefused):
    """The application's clock and the database's differ: a sweep would not know what is due."""


@dataclass(frozen=True)
class Compiled:
    entry: Entry
    rule: RetentionRule
    period: Duration | None  # None: kept until an event (e.g. unsubscribing), not for a time
    chain: HashChain | None

    @property
    def label(self) -> str:
        return self.entry.label

    @property
    def model(self) -> type[models.Model]:
        return self.entry.model

    def due(self, declaration: Declaration, now: dt.datetime) -> Q | None:
        """The rows due for removal at ``now``, before holds; None if the rule has no period."""
        if self.period is None:
            return None
        custom = self.entry.due_query(declaration, now)
        if custom is not None:
            return custom
        return Q(**{f"{self.entry.clock}__lte": self.period.before(now)})

    def not_yet_removed(self) -> Q:
        """For anonymising models: rows that still hold something to clear."""
        return pending(self.entry)


def compile_rules(declaration: Declaration) -> list[Compiled]:
    """Every registered model with its rule; one without a rule is left out (``unenforceable`` names it)."""
    compiled = []
    for entry in entries():
        rule = declaration.rule(entry.retention)
        if rule is None:
            continue
        period = Duration.parse(rule.period) if rule.period else None
        compiled.append(Compiled(entry=entry, rule=rule, period=period, chain=chain_of(entry.model)))
    return compiled


def unenforceable(declaration: Declaration) -> dict[str, str]:
    """Registered models that a sweep under this declaration cannot handle, and why.

    The system check reads the declaration file; the sweep obeys the published version,
    so it asks again: a model left out here is reported, never silently kept.
    """
    from vern.retention.checks import retention_problems

    return {error.obj._meta.label: error.msg for error in retention_problems(declaration)}


def database_now() -> dt.datetime:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT now()")
            value = cursor.fetchone()[0]
        else:
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            value = dt.datetime.fromisoformat(cursor.fetchone()[0]).replace(tzinfo=dt.UTC)
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def safe_now() -> dt.datetime:
    """The earlier of the application's and the database's clock; refused if they disagree.

    A clock that jumped forward would make rows look due before their time: two clocks
    that must agree, and the earlier of them, keep a single wrong clock from deleting early.
    """
    app, database = timezone.now(), database_now()
    if abs(app - database) > CLOCK_TOLERANCE:
        raise ClockDisagreement(
            f"the application's clock and the database's differ by {abs(app - database)}; nothing is removed "
            "until they agree (check NTP on both hosts)"
        )
    return min(app, database)


# Identifier kinds stored as blind indexes, whose stored form depends on the index key.
INDEXED_KINDS = ("email", "phone")


def held(compiled: Compiled, now: dt.datetime, forms: FormsOf | None = None) -> Q:
    """Rows that an active hold keeps: on the person (by any identifier field) or on the row.

    Besides legal holds, the apps that registered a holder keep people's data: an open rights
    request or a restriction holds every row found by the person's keys.

    With ``forms`` (``vern.registry.surface.index_forms``: while more than one index key is
    configured) a hold under one key keeps the rows stored under another: the held blind
    indexes are read and each is matched in every form the person has. Without it the stored
    forms are compared as they are, by subqueries.
    """
    active = Hold.objects.filter(released_at__isnull=True, ends_at__gt=now)
    people: Any = active.exclude(subject_key="").values("subject_key")
    holders: dict[str, list[Any]] = dict(surface.held_keys(now))  # per kind, subqueries of one column
    if forms is not None:
        people = sorted(forms(people.values_list("subject_key", flat=True)))
        holders = {
            kind: [sorted(forms(value for query in subqueries for row in query for value in row.values()))]
            if kind in INDEXED_KINDS
            else subqueries
            for kind, subqueries in holders.items()
        }
    condition = Q(pk__in=[])
    for fields in compiled.entry.identifiers.values():
        for name in fields:
            condition |= Q(**{f"{name}__in": people})
    # Open rights requests and restrictions, by any identifier the model is found by (LAW.md §3.6, R17).
    for kind, subqueries in holders.items():
        for name in compiled.entry.identifiers.get(kind, ()):
            for keys in subqueries:
                condition |= Q(**{f"{name}__in": keys})
    records = list(active.filter(record_model=compiled.label).values_list("record_pk", flat=True))
    if records:
        pk_field = compiled.model._meta.pk
        condition |= Q(pk__in=[pk_field.to_python(pk) for pk in records])
    return condition


@dataclass(frozen=True)
class RulePlan:
    compiled: Compiled
    due: int  # removable now
    held: int  # due, but kept by a hold
    waiting: int  # due, but behind a kept row of a chain (chains are removed as a prefix only)
    oldest: dt.datetime | None  # the earliest clock among the removable rows


def plan(declaration: Declaration, now: dt.datetime) -> list[RulePlan]:
    plans = []
    forms = surface.index_forms()
    for compiled in compile_rules(declaration):
        due = compiled.due(declaration, now)
        if due is None:
            plans.append(RulePlan(compiled, 0, 0, 0, None))
            continue
        rows = compiled.model._default_manager.filter(due).filter(compiled.not_yet_removed())
        keep = held(compiled, now, forms)
        if compiled.chain is not None:
            through = _chain_through(compiled, due, keep)
            removable = rows.filter(seq__gt=compiled.chain.floor(), seq__lte=through)
            held_count = rows.filter(keep).count()
            waiting = rows.filter(seq__gt=through).exclude(keep).count()
        else:
            removable = rows.exclude(keep)
            held_count = rows.filter(keep).count()
            waiting = 0
        oldest = removable.aggregate(first=Min(compiled.entry.clock))["first"]
        plans.append(RulePlan(compiled, removable.count(), held_count, waiting, oldest))
    return plans


def _chain_through(compiled: Compiled, due: Q, keep: Q, *, upto: int | None = None) -> int:
    """The last row of the removable prefix: just before the first row that is kept.

    With ``upto``, only the rows up to that number are looked at (the next range of a sweep),
    so that each range reads its own rows and not the rest of the chain again.
    """
    assert compiled.chain is not None
    rows = compiled.model._default_manager.filter(seq__gt=compiled.chain.floor())
    if upto is not None:
        rows = rows.filter(seq__lte=upto)
    first_kept = rows.filter(~due | keep).order_by("seq").values_list("seq", flat=True).first()
    if first_kept is not None:
        return int(first_kept) - 1
    last = rows.aggregate(last=Max("seq"))["last"]
    if last is None and upto is not None:
        # No row in the range: rows are missing there, or the chain ends. Look further, so that
        # the prune finds the gap and says so instead of stopping without a word.
        return _chain_through(compiled, due, keep)
    return int(last or compiled.chain.floor())


class BatchPace:
    """How many rows the next batch removes, and the pause before it.

    On SQLite a batch holds the database's one write lock for its whole transaction, and a
    writer that waits for it only looks again after growing sleeps (SQLite's busy handler:
    1, 2, 5, 10, 15, 20, 25, 25, 25, 50 … ms). So, unless the caller fixes the size, it
    follows the time: it doubles while a batch takes under half of ``BATCH_SECONDS`` and
    halves when one takes longer, whatever a row costs to remove; and after each batch the
    sweep pauses ``BATCH_PAUSE``, longer than those sleeps up to 25 ms, so that a writer
    that waited gets its turn instead of losing the lock to the next batch again. On
    PostgreSQL a batch locks only its own rows: the size stays where it starts, with no pause.
    """

    def __init__(self, fixed: int | None, *, least: int = 0) -> None:
        self.sqlite = connection.vendor == "sqlite"
        self.adapts = fixed is None and self.sqlite
        self.size = max(fixed or DEFAULT_BATCH_SIZE, least)

    def took(self, seconds: float) -> None:
        """After a batch that held its transaction ``seconds``: set the next size, and let waiting writers in."""
        if self.sqlite:
            time.sleep(BATCH_PAUSE)
        if not self.adapts:
            return
        if seconds < BATCH_SECONDS / 2:
            self.size = min(self.size * 2, MAX_BATCH_SIZE)
        elif seconds > BATCH_SECONDS:
            self.size = max(self.size // 2, MIN_BATCH_SIZE)


def sweep_one(
    compiled: Compiled,
    declaration: Declaration,
    now: dt.datetime,
    *,
    batch_size: int | None,
    actor: Actor,
    forms: FormsOf | None | EllipsisType = ...,
) -> dict[str, int]:
    """Remove what is due for one model, a batch per transaction; returns rows removed per model.

    Each batch writes its own audit row (counts only) in its transaction, so that even a
    sweep killed half-way leaves a keyed record of every row it removed. Holds are read
    afresh for every batch: one placed while a sweep runs protects from the next batch on.
    ``batch_size`` fixes the rows per batch; without it the size follows ``BatchPace``.
    ``forms`` is ``surface.index_forms()``, read once by a sweep of every rule (a scan of the
    stored plain values while several index keys are configured); when not given it is read here.
    """
    due = compiled.due(declaration, now)
    if due is None:
        return {}
    if forms is ...:
        forms = surface.index_forms()
    if compiled.chain is not None:
        return _prune_chain(compiled, declaration, now, batch_size, actor, forms)
    partitioned = partitions.is_partitioned(compiled.model)
    removed: dict[str, int] = _drop_whole_days(compiled, now, actor, forms) if partitioned else {}
    # What is left on a partitioned table is mostly the cutoff's own day. Each batch is still one
    # short transaction, and the inserts into today's partition do not wait on it, so a larger
    # batch only saves round trips; the smaller default is for tables whose writers it would hold up.
    pace = BatchPace(batch_size, least=PARTITIONED_BATCH_SIZE if partitioned else 0)
    while True:
        started = time.monotonic()
        with transaction.atomic():
            counts = _remove_batch(compiled, due, now, pace.size, forms)
            if not counts:
                return removed
            audit_record(
                action=AuditEvent.RETENTION_REMOVED,
                actor=actor,
                object_type="retention.rule",
                object_id=compiled.rule.id,
                data={"removed": counts, "as_of": now.isoformat()},
            )
        pace.took(time.monotonic() - started)
        for label, n in counts.items():
            removed[label] = removed.get(label, 0) + n


def _removable(compiled: Compiled, due: Q, now: dt.datetime, forms: FormsOf | None) -> Any:
    manager: Any = compiled.model._default_manager
    return manager.filter(due).filter(compiled.not_yet_removed()).exclude(held(compiled, now, forms))


def _oldest_first(compiled: Compiled) -> tuple[str, ...]:
    """The order a batch takes rows in: along the clock's index where the rule is the plain clock
    rule and the clock is indexed (the walk stops after a batch), else by key."""
    entry = compiled.entry
    return (entry.clock, "pk") if not entry.due and indexed(compiled.model, entry.clock) else ("pk",)


def _remove_batch(compiled: Compiled, due: Q, now: dt.datetime, size: int, forms: FormsOf | None) -> dict[str, int]:
    """One batch, chosen in the database: the oldest removable rows, at most ``size`` of them.

    The rows are chosen by a subquery of the statement that removes them, so no list of keys
    travels for a model without parts (a batch of tens of thousands stays within SQLite's and
    PostgreSQL's limits on parameters; Django removes parts by key, in chunks) and nothing is
    decrypted. On PostgreSQL the subquery locks its rows and skips those another sweep has
    locked, so two sweeps at once share the work; on SQLite the batch holds the database's only
    write lock. The due condition is also on the outer statement: on a partitioned table it
    limits the removal to the due days.
    """
    chosen = _removable(compiled, due, now, forms).order_by(*_oldest_first(compiled))
    if connection.features.has_select_for_update_skip_locked:
        chosen = chosen.select_for_update(skip_locked=True, of=("self",))
    manager: Any = compiled.model._default_manager
    # Removed by the same routine as an erasure request: anonymised with its parts deleted, or deleted.
    return remove_rows(compiled.entry, manager.filter(due).filter(pk__in=chosen.values("pk")[:size])).counts()


def _holding_models(compiled: Compiled, now: dt.datetime) -> list[type[models.Model]]:
    """The tables whose rows decide what ``held`` keeps of this model: legal holds, and the
    registered holders' tables (open rights requests, restrictions) for its identifiers."""
    found: list[type[models.Model]] = [Hold]
    for kind, subqueries in surface.held_keys(now).items():
        if kind in compiled.entry.identifiers:
            found += [query.model for query in subqueries if query.model not in found]
    return sorted(found, key=lambda model: model._meta.label)  # one order, so two sweeps cannot deadlock


def _drop_whole_days(compiled: Compiled, now: dt.datetime, actor: Actor, forms: FormsOf | None) -> dict[str, int]:
    """On PostgreSQL, drop the day partitions of a partitioned table that are due as a whole.

    A partition goes only if every row in it is due (its day ended before the cutoff) and
    no hold keeps any of them; otherwise its rows are left to the batched delete, which
    spares the held ones. Each dropped day writes its audit row of counts.

    The exact count for that audit row is taken before the hold table is locked, so that
    the lock lasts only for the look at the holds and the drop. That is safe for a day that
    ended at least ``CLOCK_TOLERANCE`` before now: rows are written with the time they
    happen, by clocks that agree with ours within that tolerance, so none can still arrive
    in it. A day closer to now (only under a period shorter than the tolerance) is counted
    at the drop instead.
    """
    entry = compiled.entry
    if compiled.period is None or entry.due or entry.erasure != "delete" or parts_of(entry):
        return {}
    clock = entry.clock
    settled = now - CLOCK_TOLERANCE
    removed = 0
    for name, day in partitions.whole_days_before(compiled.model, compiled.period.before(now)):
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
        count: int | None = None
        if end <= settled:
            count = partitions.count_rows(compiled.model, name)
            if count is None:  # already dropped, by a sweep running at the same time
                continue
        day_rows = compiled.model._default_manager.filter(**{f"{clock}__gte": start, f"{clock}__lt": end})
        try:
            with transaction.atomic():
                # No hold may be placed, nor a request opened that would hold these rows,
                # between the look below and the drop.
                for holding in _holding_models(compiled, now):
                    partitions.lock_table_against_writes(holding)
                if day_rows.filter(held(compiled, now, forms)).exists():
                    continue  # the batched delete takes the rest of this day, and spares the held rows
                count = partitions.drop_partition(compiled.model, name, rows=count)
                audit_record(
                    action=AuditEvent.RETENTION_REMOVED,
                    actor=actor,
                    object_type="retention.rule",
                    object_id=compiled.rule.id,
                    data={"removed": {compiled.label: count}, "as_of": now.isoformat(), "partition": str(day)},
                )
        except OperationalError as exc:  # the lock was not had in time (a long reader): next night
            log.warning("retention: %s not dropped now (%s); batched delete instead", name, type(exc).__name__)
            continue
        removed += count
    return {compiled.label: removed} if removed else {}


def _prune_chain(
    compiled: Compiled,
    declaration: Declaration,
    now: dt.datetime,
    batch_size: int | None,
    actor: Actor,
    forms: FormsOf | None,
) -> dict[str, int]:
    """Remove a chain's due prefix, a range at a time; each range leaves the record verify needs.

    A range is checked and removed in one transaction, paced like any batch (``BatchPace``).
    """
    chain = compiled.chain
    assert chain is not None
    due = compiled.due(declaration, now)
    assert due is not None
    pace = BatchPace(batch_size)
    removed = 0
    while True:
        floor = chain.floor()
        # Holds are read again for every range.
        through = _chain_through(compiled, due, held(compiled, now, forms), upto=floor + pace.size)
        if through <= floor:
            break
        started = time.monotonic()
        removed += chain_prune(chain, through_seq=through, actor=actor)
        if chain.floor() <= floor:
            raise ChainBroken(f"the {chain.name} chain's start did not move; verify the chain")
        pace.took(time.monotonic() - started)
    return {compiled.label: removed} if removed else {}
