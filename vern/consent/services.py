"""Recording a decision about cookies: checked, chained as proof, and turned into a cookie."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from vern.audit.chain import HashChain, Verification
from vern.consent import statistics
from vern.consent.choice import Choice, expires_at, forget_withdrawals, new_consent_id
from vern.consent.choice import warm as warm_choices
from vern.consent.content import banner_content, content_hash, snapshot_store
from vern.consent.models import ConsentEvent, Snapshot
from vern.declaration.models import PolicyVersion
from vern.declaration.selectors import declaration_of, last_known_version, latest_version
from vern.jobs import spool
from vern.jobs.spool import Spool, stamp, unstamp
from vern.lib.days import local_day
from vern.lib.outage import REPORTER, is_outage

CONSENT_CHAIN = HashChain(
    name="consent",
    model=ConsentEvent,
    head_id=2,
    fields=(
        "consent_id",
        "created_at",
        "expires_at",
        "action",
        "granted",
        "refused",
        "policy_version",
        "consent_revision",
        "snapshot_id",
        "language",
        "layer",
        "page_path",
        "origin",
        "ip_shortened",
        "gpc",
    ),
    describe=lambda event: f"{event.action} {event.consent_id[:8]}",
)
CHOICES = ("accept_all", "reject_all", "custom")
LANGUAGES = ("nb", "en")
# Where a visitor's decision can be made. "rights" is the withdrawal a rights request writes
# (consent_withdraw_by_id), which no request from a page may pose as.
DECISION_LAYERS = (
    ConsentEvent.Layer.BANNER.value,
    ConsentEvent.Layer.SETTINGS.value,
    ConsentEvent.Layer.API.value,
    ConsentEvent.Layer.EMBED.value,
)


class ConsentRefused(ValueError):
    """The decision cannot be recorded; ``code`` names why, for a message in the visitor's language."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Decision:
    event: ConsentEvent
    choice: Choice
    expires_at: dt.datetime
    withdrawn: frozenset[str]  # categories that were granted before and are refused now
    refused: frozenset[str]
    pending: bool = False  # made while the database was down: kept in the spool, stored when it is back


def consent_decide(
    *,
    choice: str,
    categories: list[str],
    revision: int | None,
    language: str,
    layer: str,
    page_path: str,
    origin: str,
    ip_shortened: str,
    gpc: bool,
    previous: Choice | None,
    lapsed: bool = False,
    shown_version: int | None = None,
) -> Decision:
    """Record one decision and return the cookie that carries it; nothing is written if anything is wrong.

    ``previous`` is the choice the visitor's cookie held; with ``lapsed`` it had run out
    (its lifetime, or a new consent revision), and an ``expire`` event is written first.

    While the database is down the decision is made against the version this process read
    last, kept in the consent spool and stored once the database answers, with its own time
    (``Decision.pending``). Without a version read before, or with a full spool, the
    database's error is raised: the caller answers 503.
    """
    try:
        current = latest_version()
    except Exception as exc:
        current = last_known_version()
        if current is None or not is_outage(exc):
            raise
    if current is None:
        raise ConsentRefused("unpublished", "no privacy policy is published yet")
    if revision != current.consent_revision:
        raise ConsentRefused("revision", "the banner was for another version of the policy; reload and choose again")
    # The proof records the version whose texts the visitor saw: an older one is fine as
    # long as it asked the same question (same consent revision).
    version: PolicyVersion | None = current
    if shown_version is not None and shown_version != current.number:
        version = PolicyVersion.objects.filter(number=shown_version, consent_revision=current.consent_revision).first()
    if version is None:
        raise ConsentRefused("revision", "the banner was for another version of the policy; reload and choose again")
    declaration = declaration_of(version)
    if choice not in CHOICES:
        raise ConsentRefused("choice", f"choice must be one of {', '.join(CHOICES)}")
    if layer not in DECISION_LAYERS or language not in LANGUAGES:
        raise ConsentRefused("request", "layer or language is not valid")
    optional = [c.id for c in declaration.cookies.categories if c.consent_required]
    unknown = sorted(set(categories) - set(optional))
    if unknown:
        raise ConsentRefused("category", f"not optional cookie categories: {', '.join(unknown)}")
    if choice == "accept_all":
        wanted = set(optional)
    elif choice == "reject_all":
        wanted = set()
    else:
        wanted = set(categories)
    gpc_refused = set(declaration.cookies.gpc_refuses) if gpc else set()
    granted = frozenset(c for c in optional if c in wanted and c not in gpc_refused)
    refused = frozenset(optional) - granted
    before = previous.granted if previous is not None and not lapsed else frozenset()
    withdrawn = frozenset(before & refused)
    action = ConsentEvent.Action.WITHDRAW if withdrawn else choice
    decided = timezone.now()
    now = decided.replace(microsecond=0)
    until = expires_at(declaration, now)
    digest, content = banner_content(version, language)
    consent_id = previous.consent_id if previous is not None else new_consent_id()
    common = {
        "consent_id": consent_id,
        "created_at": now,
        "policy_version": version.number,
        "consent_revision": version.consent_revision,
        "language": language,
        "layer": layer,
        "page_path": page_path[:300],
        "origin": origin[:200],
        "ip_shortened": ip_shortened,
        "gpc": gpc,
    }
    events: list[ConsentEvent] = []
    if lapsed and previous is not None:
        events.append(
            ConsentEvent(
                **common, expires_at=now, action=ConsentEvent.Action.EXPIRE, granted=[], refused=sorted(optional)
            )
        )
    overruled = sorted(wanted & gpc_refused)
    if overruled:
        # The visitor asked for these, but the browser's GPC signal refuses them: record
        # that refusal as what it is (C16), so the proof never shows it as consent.
        events.append(
            ConsentEvent(**common, expires_at=until, action=ConsentEvent.Action.GPC, granted=[], refused=overruled)
        )
    events.append(
        ConsentEvent(**common, expires_at=until, action=action, granted=sorted(granted), refused=sorted(refused))
    )
    cookie = Choice(
        consent_id=consent_id, revision=version.consent_revision, granted=granted, decided_at=int(now.timestamp())
    )
    pending = False
    try:
        with transaction.atomic():
            snapshot = snapshot_store(digest, content)
            for event in events:
                event.snapshot = snapshot
                CONSENT_CHAIN.append(event)
            if timezone.now() - now > statistics.LATE:
                # It waited for the chain so long that its day may have been counted meanwhile.
                statistics.mark_to_count_again([local_day(now)])
    except Exception as exc:
        if not is_outage(exc):
            raise
        REPORTER.seen(exc, "a consent choice")
        kept = SPOOL.append([_spooled(decided, digest, version.number, language, events)])
        if not kept:
            raise  # the spool is full: nothing is recorded, and the visitor is asked to try again
        pending = True
    return Decision(
        event=events[-1], choice=cookie, expires_at=until, withdrawn=withdrawn, refused=refused, pending=pending
    )


def consent_warm() -> None:
    """Read now what a choice needs (the published version, its declaration and banner texts, the
    withdrawals): at start-up, before the web workers fork, so each can take a choice during an
    outage even if it had no request before."""
    version = latest_version()
    if version is None:
        return
    declaration_of(version)
    for language in LANGUAGES:
        banner_content(version, language)
    warm_choices(timezone.now())


# -- decisions made while the database was down ---------------------------------------------

_EVENT_FIELDS = (
    "consent_id",
    "action",
    "granted",
    "refused",
    "policy_version",
    "consent_revision",
    "language",
    "layer",
    "page_path",
    "origin",
    "ip_shortened",
    "gpc",
)


def _spooled(
    decided: dt.datetime, digest: str, version: int, language: str, events: list[ConsentEvent]
) -> dict[str, Any]:
    """A decision as a spool record: exactly the events that would have been written, with their times."""
    return {
        "t": stamp(decided),
        "snapshot": digest,
        "version": version,
        "language": language,
        "events": [
            {
                **{name: getattr(event, name) for name in _EVENT_FIELDS},
                "created_at": stamp(event.created_at),
                "expires_at": stamp(event.expires_at),
            }
            for event in events
        ],
    }


def consent_store_spooled(records: list[dict[str, Any]]) -> None:
    """Write decisions kept during an outage into the proof, in the drain's transaction, with their
    original times. The texts shown are the snapshot the decision names; if that was never stored,
    it is built again from its version and must give the same hash. The days they belong to are
    counted again for the statistics (``statistics.mark_to_count_again``)."""
    late: set[dt.date] = set()
    for record in records:
        snapshot = Snapshot.objects.filter(hash=record["snapshot"]).first()
        if snapshot is None:
            version = PolicyVersion.objects.get(number=record["version"])
            digest, content = banner_content(version, record["language"])
            if digest != record["snapshot"]:
                raise ValueError("the texts of a spooled consent decision cannot be found again")
            snapshot = snapshot_store(digest, content)
        for fields in record["events"]:
            created_at = unstamp(fields["created_at"])
            if ConsentEvent.objects.filter(
                consent_id=fields["consent_id"], created_at=created_at, action=fields["action"]
            ).exists():
                # Stored already: the connection broke while the database committed it, after
                # the process had given up on it and kept it here.
                continue
            CONSENT_CHAIN.append(
                ConsentEvent(
                    **{name: fields[name] for name in _EVENT_FIELDS},
                    created_at=created_at,
                    expires_at=unstamp(fields["expires_at"]),
                    snapshot=snapshot,
                )
            )
            late.add(local_day(created_at))
    if late:
        statistics.mark_to_count_again(late)


# A decision is about 700 bytes as a line: some 20,000 decisions.
SPOOL_BYTES = 16 * 1024 * 1024
SPOOL = spool.register(Spool("consent", store=consent_store_spooled, max_bytes=SPOOL_BYTES, durable=True))


def consent_verify() -> Verification:
    """The chain of events, and that each snapshot still holds the texts its hash names."""
    result = CONSENT_CHAIN.verify()
    problems = list(result.problems)
    for snapshot in Snapshot.objects.all().iterator():
        if content_hash(snapshot.content) != snapshot.hash:
            problems.append(f"the texts shown under {snapshot.hash[:12]} were changed after they were stored")
    return Verification(rows=result.rows, problems=problems)


def consent_withdraw_by_id(consent_id: str) -> int:
    """Withdraw what a consent id still grants, on the person's rights request: 1 if there was any.

    The proof gains a ``withdraw`` event made by the request (layer ``rights``), with the
    version and language of the choice it ends; a choice that grants nothing, or has run
    out, needs no withdrawal. The visitor's browser still holds its cookie: from the next
    request on (within 30 seconds in other processes) the cookie allows nothing, its
    optional cookies are expired, and the banner asks again (``choice.withdrawn_by_request``).
    """
    with transaction.atomic():
        latest = ConsentEvent.objects.filter(consent_id=consent_id).order_by("-seq").first()
        now = timezone.now().replace(microsecond=0)
        if latest is None or not latest.granted or latest.expires_at <= now:
            return 0
        version = PolicyVersion.objects.get(number=latest.policy_version)
        CONSENT_CHAIN.append(
            ConsentEvent(
                consent_id=consent_id,
                created_at=now,
                expires_at=expires_at(declaration_of(version), now),
                action=ConsentEvent.Action.WITHDRAW,
                granted=[],
                refused=sorted(set(latest.granted) | set(latest.refused)),
                policy_version=latest.policy_version,
                consent_revision=latest.consent_revision,
                snapshot_id=latest.snapshot_id,
                language=latest.language,
                layer=ConsentEvent.Layer.RIGHTS,
                page_path="",
                origin="",
                ip_shortened="",
                gpc=False,
            )
        )
        # Read afresh by the next request: once now, and once more when the record is committed,
        # in case a request in between read the withdrawals before it was.
        forget_withdrawals()
        transaction.on_commit(forget_withdrawals)
    return 1


def withdraw_for_rights_request(keys: Mapping[str, Sequence[str]]) -> int:
    """The registry's withdrawer: cookie consent is found by consent id only."""
    return sum(consent_withdraw_by_id(consent_id) for consent_id in keys.get("consent_id", ()) if consent_id)
