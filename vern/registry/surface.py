"""What each app tells the rest of vern, declared in one place: its ``Surface``.

An app that holds or acts on personal data gives its ``AppConfig`` a ``surface()``
method that returns one ``Surface``; nothing else is registered anywhere, no
module global is reassigned at start-up, and the registry reads every app's
surface once per process::

    class RightsConfig(AppConfig):
        name = "vern.rights"

        def surface(self) -> Surface:
            from vern.rights.surface import SURFACE  # an app's modules load once its models have

            return SURFACE

The lower floors (accounts, mail, audit, retention, rights) ask this module, and
never import the apps above them. What a surface may say:

- ``holders``: ``holder(now)`` returns, per identifier kind (``email``, ``phone``,
  ``consent_id``), querysets of one column of the keys as stored (blind indexes,
  consent ids) whose data retention must keep for now (an open rights request, a
  restriction); the sweep uses them as subqueries;
- ``withdrawers``: ``withdrawer(keys)`` withdraws every consent the person with
  these stored keys gave to the app (cookie consent by consent id, a newsletter
  subscription) and returns how many it withdrew; ``keys`` names every stored form
  per kind (``StoredKeys``, as for the checks below), and any of them counts;
- ``restriction_checks`` and ``erasure_checks``: ``check(keys)`` is True when the
  person's processing is restricted, or when erasing them now is forbidden (a
  legal hold, Art. 17(3)(e)); ``keys`` names, per kind, every stored form the
  person is known by (``StoredKeys``: an email's blind index under each configured
  index key, while ``vern keys rotate`` is under way), and any of them counts;
- ``consent_id_readers``: ``reader(cookies)`` finds the id of the visitor's cookie
  choice when its signature holds (the privacy center sends it with a request);
- ``cookie_consent``: ``decide(category, cookies, gpc)`` is the consent id when the
  visitor's cookie choice allows that optional cookie category now, else None
  (the analytics beacon asks it); one app of the site gives it;
- ``index_forms``: ``forms()`` is None while one index key is configured; while several
  are (a ``vern keys rotate`` under way, or an old key kept to read), it is a function that
  takes stored blind indexes and returns them with the same people's indexes under every
  other configured key, so that a sweep matches a hold made under one key with rows stored
  under another; one app (the one that knows the keys) gives it;
- ``change_recipients``: ``recipients()`` yields (email address, language) of the people the
  app keeps in touch with, who are told of a significant change to the policy (P20): people
  whose enquiries are kept, confirmed newsletter subscribers;
- ``console_tiles``: ``tiles(user)`` adds the app's tiles to the staff console home;
- ``mail_withhold``: ``check(kind, to_index, about_index)`` is True when a mail must
  be held back (a restriction of processing, an objection to marketing);
- ``subscription_offers``: ``offer(details)`` takes an optional newsletter subscription
  ticked on another app's form (the contact and demo forms): ``details`` holds ``email``,
  ``name``, ``language``, ``form``, ``ip_shortened`` and ``prompt`` (the exact text the box
  showed); it starts the double opt-in, apart from the form's own purpose;
- ``subscription_prompts``: ``prompt(language)`` is the text of that optional box ("" when
  no newsletter is offered);
- ``chains``: the app's hash chains (``vern.audit.chain.HashChain``), so that
  retention prunes them as a prefix;
- ``declaration_checks``: ``check(declaration)`` returns ``(path, message)`` for each
  way a declaration about to be published does not fit the app's code (a cookie vern
  sets that the cookie table leaves out), as a ``vern.lib.wording.Wording`` so that the
  staff member publishing reads it in their language (or plain English text); publishing
  from the console or the command line refuses such a declaration, as ``vern check`` does
  for the file;
- ``goal_events``: the server events the app reports as goals reached (``{"demo_booked":
  "Demo booked"}``), so that staff can choose them for a goal; ``goal_recorders``:
  ``record(event, request)`` counts one such event (the analytics app gives it). An app
  reports one with ``reach_goal(event, request)``, after its own work is stored, without
  importing the app that counts it; a failure to count is logged and dropped (ADR 0020);
- ``consent_statistics``: ``statistics(start, end)`` is what the app that records cookie
  choices knows of the decisions of those days (``ConsentStatistics``); one app gives it;
- ``external_finders``: ``find(person)`` returns the person's rows in the company's other
  systems (``ExternalRows``: a table of another database, a webhook's answer); ``person``
  (``Person``) names the request and its plain identifiers, since another system stores
  them as they are; the access and portability packages add them to vern's own;
- ``external_erasers``: ``erase(person, dry_run)`` returns what erasing the person in the
  other systems does (``ExternalStep``); with ``dry_run`` it only counts, and the erasure
  preview shows those counts; otherwise it carries it out (at once, through the job queue,
  or as a task mailed to a processor);
- ``completion_blockers``: ``blockers(request_id)`` returns the reasons a rights request
  cannot yet be closed as complete (a failing connector, a processor's task unanswered);
- ``request_notes``: ``notes(request_id)`` returns lines about the request's steps in other
  systems, shown on the request's page;
- ``external_sweeps``: ``sweep(now, dry_run)`` removes (or with ``dry_run`` counts) the rows
  of other systems whose declared period has passed, per source, sparing held people;
- ``external_replays``: ``replay(keys)`` erases again, after a backup is restored, the rows of
  other systems whose identifier's blind index is one of ``keys`` (``(kind, key)`` pairs of the
  erasure journal); returns rows erased per source, 0 when nothing was there any more;
- ``external_correctables``: ``correctables(person)`` returns the person's rows in other systems
  whose fields may be corrected (``ExternalRows.rectifiable``), and the processors that correct
  by a mailed task (``ExternalRows.by_task``, no rows); ``external_rectifiers``:
  ``rectify(person, correction)`` corrects them (``ExternalCorrection``) and returns what it did
  (``ExternalStep``: rectified, queued, task or failed), or nothing for a source not its own;
- ``record_sections``: ``section(language)`` returns the app's registers for the record of
  processing activities (``vern ropa``, Art. 30): a ``RecordSection`` with a title, column
  labels and one row per entry (the breach register, the risk register);
- ``last_risk_review``: ``last_risk_review()`` is the date of the last review of the whole risk
  register (None before the first); one app (the one that keeps the register) gives it;
- ``processor_register``: ``register()`` is the processor register (``RegisteredProcessor``:
  the active processors, with their sub-processors, locations and transfer mechanisms), or None
  while the register is not in use; the policy's §6 and §8, the trust page and the Art. 30
  record are written from it instead of the declaration's list; one app gives it;
- ``rights_registrar``: ``register(intake)`` registers a rights request that came to another
  app (a mail in the support mailbox, ``RightsIntake``) in the request queue, or finds the one
  registered from the same source before, and says where it is (``RightsRegistration``); one
  app (the one that keeps the request queue) gives it, and other apps call
  ``register_rights_request``;
- ``due`` and ``rectify``, per registered model of the app: the function that says
  which rows are due under a rule with exceptions (``due(declaration, now)`` → Q),
  and the function that corrects a field where saving it is not enough
  (``rectify(row, field, value)``, when a blind index follows the field);
- ``on_removal``, per registered model of the app: ``follow(rows)`` is called with the rows
  a retention sweep or an erasure request is about to remove, in the same transaction, so
  that the app records what must go outside the database too (a mail in the support
  mailbox); it must only write rows (a durable job), never talk to another server.

The models themselves carry their ``Privacy`` class (``vern.registry.entries``);
``vern registry`` prints each app's models and surface together, and the system
check ``vern.registry.E004`` refuses a surface that does not fit its app.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

from django.apps import apps
from django.db import models, transaction
from django.db.models import Q, QuerySet

from vern.lib.wording import Wording

log = logging.getLogger(__name__)

Holder = Callable[[dt.datetime], Mapping[str, list[QuerySet[Any]]]]
Withdrawer = Callable[["StoredKeys"], int]
# Per identifier kind, every stored form of the person's key: a blind index under each
# configured index key (``vern.lib.keys.email_indexes``), a consent id as it is.
StoredKeys = Mapping[str, Sequence[str]]
PersonCheck = Callable[[StoredKeys], bool]
ConsentIdReader = Callable[[Mapping[str, str]], str | None]
CookieConsent = Callable[[str, Mapping[str, str], bool], str | None]
FormsOf = Callable[[Iterable[str]], set[str]]
IndexForms = Callable[[], FormsOf | None]
ChangeRecipients = Callable[[], Iterable[tuple[str, str]]]
WithholdCheck = Callable[[str, str, str], bool]
SubscriptionOffer = Callable[[Mapping[str, str]], object]
SubscriptionPrompt = Callable[[str], str]
DueQuery = Callable[[Any, dt.datetime], Q]
Rectifier = Callable[[Any, str, str], None]
RemovalFollower = Callable[[QuerySet[Any]], None]
# A declaration → each (path in the declaration, message) that does not fit the app's code; a
# ``Wording`` message reaches the staff member who publishes in their language.
DeclarationCheck = Callable[[Any], Sequence[tuple[tuple[int | str, ...], str | Wording]]]
# (the event's key, the request it happened in or None) → nothing; counts one goal reached.
GoalRecorder = Callable[[str, Any], None]


@dataclass(frozen=True)
class ConsentRate:
    """Decisions on one value (a category, a banner revision, a language) and how many accepted."""

    value: str
    decisions: int
    accepted: int

    @property
    def rate(self) -> float | None:
        return 100 * self.accepted / self.decisions if self.decisions else None


@dataclass(frozen=True)
class ConsentStatistics:
    """Cookie decisions of a period, as counts only: nothing in here names a visitor.

    ``decisions`` counts every recorded decision; ``accepted_any`` those that allowed at least
    one optional category; ``by_category`` has one ``ConsentRate`` per optional category (accepted:
    the category was allowed); ``by_revision`` and ``by_language`` count decisions that allowed
    any optional category, per banner revision and per language; ``gpc`` the decisions made
    by a browser that sent Global Privacy Control.
    """

    decisions: int = 0
    accepted_any: int = 0
    gpc: int = 0
    by_category: tuple[ConsentRate, ...] = ()
    by_revision: tuple[ConsentRate, ...] = ()
    by_language: tuple[ConsentRate, ...] = ()

    @property
    def rate(self) -> float | None:
        return 100 * self.accepted_any / self.decisions if self.decisions else None

    @property
    def gpc_share(self) -> float | None:
        return 100 * self.gpc / self.decisions if self.decisions else None


ConsentStatisticsSource = Callable[[dt.date, dt.date], ConsentStatistics]


@dataclass(frozen=True)
class Person:
    """Whom a rights request is about, as another system must be asked: plain identifiers."""

    request_id: int
    reference: str
    email: str = ""
    phone: str = ""
    language: str = "nb"


@dataclass(frozen=True)
class ExternalRows:
    """A person's rows in one source of another system (``moeteadm.users``), as JSON values."""

    source: str
    title: str
    purpose: str
    fields: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]
    portable: bool = False
    # Per kind (email, phone), the fields that hold the identifier the rows were found by: the
    # person's own, so the packages do not mask them as someone else's.
    contacts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The fields the declaration lets a privacy officer correct (Art. 16); none: read only.
    rectifiable: tuple[str, ...] = ()
    # A processor without an API: corrected by a task mailed to it, described in words.
    by_task: bool = False


@dataclass(frozen=True)
class ExternalCorrection:
    """A correction of the person's rows in one source of another system (Art. 16).

    ``changes`` maps each corrected field to its new value; ``expected`` is how many of the
    person's rows the officer saw there (the change is refused when the count differs);
    ``note`` describes the correction in words for a processor that gets a task.
    """

    source: str
    changes: Mapping[str, str] = field(default_factory=dict)
    expected: int = 0
    note: str = ""


@dataclass(frozen=True)
class ExternalStep:
    """What an erasure does, or would do, in one source: ``action`` is delete, anonymise, retain,
    queued (a webhook, through the job queue), task (mailed to a processor) or failed."""

    source: str
    title: str
    count: int
    action: str
    fields: tuple[str, ...] = ()
    note: str = ""


ExternalFinder = Callable[[Person], Sequence[ExternalRows]]
ExternalEraser = Callable[[Person, bool], Sequence[ExternalStep]]
RequestLines = Callable[[int], Sequence[str]]
ExternalSweep = Callable[[dt.datetime, bool], Mapping[str, int]]
ExternalReplay = Callable[[Collection[tuple[str, str]]], Mapping[str, int]]
ExternalRectifier = Callable[[Person, ExternalCorrection], Sequence[ExternalStep]]


@dataclass(frozen=True)
class RegisteredSubProcessor:
    """A processor's own processor, as the register keeps it."""

    name: str
    service: str
    countries: tuple[str, ...]


@dataclass(frozen=True)
class RegisteredProcessor:
    """One active processor of the register, as the pages and the Art. 30 record need it.

    ``service`` holds the text per language (``{"nb": …, "en": …}``); ``transfer_mechanism`` is
    ``"adequacy"`` or ``"scc"`` (with ``scc_module`` 1-4), or None when every location is in the EEA."""

    id: str
    name: str
    service: Mapping[str, str]
    countries: tuple[str, ...]
    transfer_mechanism: str | None
    scc_module: int | None
    purposes: tuple[str, ...]
    data_categories: tuple[str, ...]
    agreement_date: dt.date | None
    next_review: dt.date | None
    sub_processors: tuple[RegisteredSubProcessor, ...] = ()


ProcessorRegister = Callable[[], Sequence[RegisteredProcessor] | None]


@dataclass(frozen=True)
class RightsIntake:
    """A rights request that came to another app, as staff confirmed it there.

    ``source`` and ``source_id`` name where it came from (``"enquiry"``, the enquiry's id): one
    source registers one request, however often it is sent. ``received_at`` is when it arrived
    (the deadline runs from then); ``staff`` is the member who confirmed it (a ``User``)."""

    staff: Any
    rights: tuple[str, ...]
    channel: str
    received_at: dt.datetime
    source: str
    source_id: int
    email: str = ""
    phone: str = ""
    details: str = ""
    language: str = "nb"
    source_url: str = ""


@dataclass(frozen=True)
class RightsRegistration:
    """Where the request registered from a ``RightsIntake`` is: its id and the console's address
    of it; ``created`` is False when that source had registered it before (a second click)."""

    request_id: int
    url: str
    created: bool
    awaiting_confirmation: bool


class RightsRefused(ValueError):
    """The request cannot be registered (``code``: no app keeps requests, a bad address …)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


RightsRegistrar = Callable[[RightsIntake], RightsRegistration]
LastRiskReview = Callable[[], dt.date | None]


@dataclass(frozen=True)
class Tile:
    """One tool on the staff console home: its title, a line about it, where it is, and a count."""

    title: str
    text: str
    url: str
    count: int | None = None
    alert: bool = False


@dataclass(frozen=True)
class RecordSection:
    """One register for the record of processing (Art. 30): its key, title, column labels and rows."""

    key: str
    title: str
    columns: tuple[tuple[str, str], ...]  # (key in each row, label in the reader's language)
    rows: tuple[Mapping[str, str], ...]


RecordSections = Callable[[str], Sequence[RecordSection]]
TileSource = Callable[[Any], Sequence[Tile]]  # called with the staff member (vern.accounts.models.User)


class Chain(Protocol):
    """What the registry needs of a hash chain (``vern.audit.chain.HashChain``)."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> type[models.Model]: ...


@dataclass(frozen=True)
class Surface:
    """Everything one app tells the rest of vern; every member is optional."""

    holders: tuple[Holder, ...] = ()
    withdrawers: tuple[Withdrawer, ...] = ()
    restriction_checks: tuple[PersonCheck, ...] = ()
    erasure_checks: tuple[PersonCheck, ...] = ()
    consent_id_readers: tuple[ConsentIdReader, ...] = ()
    cookie_consent: CookieConsent | None = None
    index_forms: IndexForms | None = None
    change_recipients: tuple[ChangeRecipients, ...] = ()
    console_tiles: tuple[TileSource, ...] = ()
    mail_withhold: tuple[WithholdCheck, ...] = ()
    subscription_offers: tuple[SubscriptionOffer, ...] = ()
    subscription_prompts: tuple[SubscriptionPrompt, ...] = ()
    chains: tuple[Chain, ...] = ()
    declaration_checks: tuple[DeclarationCheck, ...] = ()
    goal_events: Mapping[str, Any] = field(default_factory=dict)  # key → label (a lazy translation)
    goal_recorders: tuple[GoalRecorder, ...] = ()
    consent_statistics: ConsentStatisticsSource | None = None
    external_finders: tuple[ExternalFinder, ...] = ()
    external_erasers: tuple[ExternalEraser, ...] = ()
    completion_blockers: tuple[RequestLines, ...] = ()
    request_notes: tuple[RequestLines, ...] = ()
    external_sweeps: tuple[ExternalSweep, ...] = ()
    external_replays: tuple[ExternalReplay, ...] = ()
    external_correctables: tuple[ExternalFinder, ...] = ()
    external_rectifiers: tuple[ExternalRectifier, ...] = ()
    record_sections: tuple[RecordSections, ...] = ()
    last_risk_review: LastRiskReview | None = None
    processor_register: ProcessorRegister | None = None
    rights_registrar: RightsRegistrar | None = None
    due: Mapping[type[models.Model], DueQuery] = field(default_factory=dict)
    rectify: Mapping[type[models.Model], Rectifier] = field(default_factory=dict)
    on_removal: Mapping[type[models.Model], RemovalFollower] = field(default_factory=dict)

    def members(self) -> Iterator[tuple[str, Any]]:
        """Each member the app gave, by name, for listing and checking."""
        for member in fields(self):
            value = getattr(self, member.name)
            if value:
                yield member.name, value


@dataclass(frozen=True)
class Declared:
    """One app's surface, with the app it belongs to."""

    app_label: str
    surface: Surface


@functools.cache
def declared() -> tuple[Declared, ...]:
    """Every installed app's surface, in the order of INSTALLED_APPS; read once per process."""
    found = []
    for config in apps.get_app_configs():
        method = getattr(config, "surface", None)
        if callable(method):
            surface = method()
            if isinstance(surface, Surface):
                found.append(Declared(app_label=config.label, surface=surface))
            else:
                raise TypeError(f"{config.name}'s AppConfig.surface() must return a Surface, not {type(surface)!r}")
    return tuple(found)


def surfaces() -> Iterator[Surface]:
    for item in declared():
        yield item.surface


def forget() -> None:
    """Read the surfaces afresh (``vern.registry.entries.forget`` calls this when INSTALLED_APPS change)."""
    declared.cache_clear()
    _cookie_consent.cache_clear()
    _consent_statistics.cache_clear()


# ------------------------------------------------------------------ what the lower floors ask


def stored_forms(keys: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Per kind, the non-empty stored forms of ``keys`` (one key, or several), without repeats, in order."""
    forms: dict[str, tuple[str, ...]] = {}
    for kind, given in keys.items():
        found = tuple(dict.fromkeys(key for key in ((given,) if isinstance(given, str) else given) if key))
        if found:
            forms[kind] = found
    return forms


def held_keys(now: dt.datetime) -> dict[str, list[QuerySet[Any]]]:
    """Per identifier kind, the subqueries of keys whose data must be kept at ``now``."""
    merged: dict[str, list[QuerySet[Any]]] = {}
    for surface in surfaces():
        for holder in surface.holders:
            for kind, querysets in holder(now).items():
                merged.setdefault(kind, []).extend(querysets)
    return merged


def withdraw_consents(keys: Mapping[str, str | Sequence[str]]) -> int:
    """Withdraw every consent the person with these stored keys gave (one key per kind, or every
    stored form of it, as during an index key rotation); how many were withdrawn."""
    present = stored_forms(keys)
    return sum(withdrawer(present) for surface in surfaces() for withdrawer in surface.withdrawers)


def is_restricted(keys: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether the processing of this person's data is restricted; keys as stored (blind indexes),
    one per kind or several (the index under each configured key)."""
    present = stored_forms(keys)
    return bool(present) and any(check(present) for surface in surfaces() for check in surface.restriction_checks)


def erasure_forbidden(keys: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether a legal hold (or another declared reason) forbids erasing this person now; a hold
    under any stored form of any of the person's keys counts."""
    present = stored_forms(keys)
    return bool(present) and any(check(present) for surface in surfaces() for check in surface.erasure_checks)


def consent_id_from(cookies: Mapping[str, str]) -> str:
    """The consent id a visitor's cookies carry, checked by the app that set it; "" when there is none."""
    for surface in surfaces():
        for reader in surface.consent_id_readers:
            found = reader(cookies)
            if found:
                return found
    return ""


@functools.cache
def _cookie_consent() -> CookieConsent | None:
    given = [surface.cookie_consent for surface in surfaces() if surface.cookie_consent is not None]
    return given[0] if given else None


def cookie_consent(category: str, cookies: Mapping[str, str], gpc: bool) -> str | None:
    """The consent id when the visitor's choice allows ``category`` now; None without an app that decides."""
    decide = _cookie_consent()
    return decide(category, cookies, gpc) if decide is not None else None


def index_forms() -> FormsOf | None:
    """Stored blind indexes with their people's forms under every other configured index key;
    None while only one key is configured (or no app knows the keys): a stored index is then
    the only form. Each call reads the stored plain values afresh (a scan while it is not None)."""
    given = [surface.index_forms for surface in surfaces() if surface.index_forms is not None]
    return given[0]() if given else None


def change_recipients() -> Iterator[tuple[str, str]]:
    """(email address, language) of everyone to tell of a significant policy change; repeats possible."""
    for surface in surfaces():
        for recipients in surface.change_recipients:
            yield from recipients()


def console_tiles(user: Any) -> list[Tile]:
    """Every app's tiles for this staff member, in the order of INSTALLED_APPS."""
    return [tile for surface in surfaces() for source in surface.console_tiles for tile in source(user)]


def mail_withheld(kind: str, to_index: str, about_index: str) -> bool:
    """Whether a mail of ``kind`` to ``to_index`` (about ``about_index``) must be held back."""
    return any(check(kind, to_index, about_index) for surface in surfaces() for check in surface.mail_withhold)


def subscription_prompt(language: str) -> str:
    """The text of the optional newsletter box on other apps' forms; "" when no app offers one."""
    for surface in surfaces():
        for prompt in surface.subscription_prompts:
            text = prompt(language)
            if text:
                return text
    return ""


def subscription_offer(details: Mapping[str, str]) -> None:
    """Hand a ticked newsletter box to the app that takes subscriptions (double opt-in follows).

    The enquiry it came with is already stored: whatever goes wrong with the subscription must
    not turn the form's answer into an error (the visitor would send the enquiry again), so a
    failure is logged by its kind only, never with the address, and dropped."""
    for surface in surfaces():
        for offer in surface.subscription_offers:
            try:
                with transaction.atomic():
                    offer(details)
            except Exception as exc:  # a separate consent: its failure never touches the enquiry
                log.warning("a newsletter box ticked on a form was dropped: %s", type(exc).__name__)


def chain_of(model: type[models.Model]) -> Chain | None:
    """The hash chain whose rows ``model`` holds, if an app declared one."""
    for surface in surfaces():
        for chain in surface.chains:
            if chain.model is model:
                return chain
    return None


def due_of(model: type[models.Model]) -> DueQuery | None:
    for surface in surfaces():
        if model in surface.due:
            return surface.due[model]
    return None


def rectifier_of(model: type[models.Model]) -> Rectifier | None:
    for surface in surfaces():
        if model in surface.rectify:
            return surface.rectify[model]
    return None


def removing(model: type[models.Model], rows: QuerySet[Any]) -> None:
    """Tell the app of ``model`` that ``rows`` are about to be removed (its ``on_removal``), if it asked."""
    for surface in surfaces():
        follow = surface.on_removal.get(model)
        if follow is not None:
            follow(rows)


def declaration_code_problems(declaration: Any) -> list[tuple[tuple[int | str, ...], str | Wording]]:
    """What each app's code says of a declaration about to be published (its ``declaration_checks``)."""
    return [problem for surface in surfaces() for check in surface.declaration_checks for problem in check(declaration)]


def goal_events() -> dict[str, Any]:
    """Every server event an app reports as a goal, by key, with its label."""
    return {key: label for surface in surfaces() for key, label in surface.goal_events.items()}


def reach_goal(event: str, request: Any = None) -> None:
    """Tell the app that counts goals that ``event`` happened now (in ``request``, if given).

    Called after the reporting app's own work is stored; counting must never turn that work's
    answer into an error, so a failure is logged by its kind only and dropped."""
    for surface in surfaces():
        for record in surface.goal_recorders:
            try:
                if transaction.get_connection().in_atomic_block:
                    # Inside the caller's transaction: a savepoint, so a failed count leaves it usable.
                    with transaction.atomic():
                        record(event, request)
                else:
                    # Not one transaction around it all: on SQLite that would hold the write lock
                    # while the recorder reads; a recorder makes its own writes atomic.
                    record(event, request)
            except Exception as exc:  # a count, never worth failing the visitor's request for
                log.warning("a goal reached (%s) was not counted: %s", event, type(exc).__name__)


@functools.cache
def _consent_statistics() -> ConsentStatisticsSource | None:
    given = [surface.consent_statistics for surface in surfaces() if surface.consent_statistics is not None]
    return given[0] if given else None


def consent_statistics(start: dt.date, end: dt.date) -> ConsentStatistics | None:
    """The cookie decisions of the days from ``start`` to ``end``; None without an app that records them."""
    source = _consent_statistics()
    return source(start, end) if source is not None else None


def external_rows(person: Person) -> list[ExternalRows]:
    """The person's rows in the company's other systems, per source (empty sources left out)."""
    return [rows for surface in surfaces() for find in surface.external_finders for rows in find(person) if rows.rows]


def external_erase(person: Person, *, dry_run: bool) -> list[ExternalStep]:
    """Erase the person in the company's other systems (or, with ``dry_run``, count what would go)."""
    return [step for surface in surfaces() for erase in surface.external_erasers for step in erase(person, dry_run)]


def completion_blockers(request_id: int) -> list[str]:
    """Why the request cannot be closed as complete yet; empty when nothing stands in the way."""
    return [line for surface in surfaces() for blockers in surface.completion_blockers for line in blockers(request_id)]


def request_notes(request_id: int) -> list[str]:
    """What other systems did or were asked for this request, for its page."""
    return [line for surface in surfaces() for notes in surface.request_notes for line in notes(request_id)]


def external_sweep(now: dt.datetime, *, dry_run: bool) -> dict[str, int]:
    """Remove (or count) the rows of other systems past their declared period, per source."""
    merged: dict[str, int] = {}
    for surface in surfaces():
        for sweep in surface.external_sweeps:
            for source, n in sweep(now, dry_run).items():
                merged[source] = merged.get(source, 0) + n
    return merged


def external_replay(keys: Collection[tuple[str, str]]) -> dict[str, int]:
    """After a restore: erase again in other systems the rows of the journal's ``keys``, per source."""
    merged: dict[str, int] = {}
    for surface in surfaces():
        for replay in surface.external_replays:
            for source, n in replay(keys).items():
                merged[source] = merged.get(source, 0) + n
    return merged


def external_correctables(person: Person) -> list[ExternalRows]:
    """The person's rows in other systems that may be corrected, and processors corrected by a task."""
    return [rows for surface in surfaces() for find in surface.external_correctables for rows in find(person)]


def external_rectify(person: Person, correction: ExternalCorrection) -> list[ExternalStep]:
    """Correct the person's rows in one source of another system; what was done (empty: no such source)."""
    return [
        step
        for surface in surfaces()
        for rectify in surface.external_rectifiers
        for step in rectify(person, correction)
    ]


def record_sections(language: str) -> list[RecordSection]:
    """Every app's registers for the record of processing activities, in the order of INSTALLED_APPS."""
    return [section for surface in surfaces() for source in surface.record_sections for section in source(language)]


def processor_register() -> Sequence[RegisteredProcessor] | None:
    """The active processors of the register, or None while no app keeps one (or it is not in use):
    the declaration's own list of processors then stands."""
    for surface in surfaces():
        if surface.processor_register is not None:
            return surface.processor_register()
    return None


def last_risk_review() -> dt.date | None:
    """The date of the last review of the whole risk register; None when no app keeps one, or before the first."""
    for surface in surfaces():
        if surface.last_risk_review is not None:
            return surface.last_risk_review()
    return None


def rights_registrar() -> RightsRegistrar | None:
    """The app that registers rights requests, if one is installed."""
    for surface in surfaces():
        if surface.rights_registrar is not None:
            return surface.rights_registrar
    return None


def register_rights_request(intake: RightsIntake) -> RightsRegistration:
    """Register a rights request in the queue from another app's intake (or find the one its
    source registered before); raises ``RightsRefused`` with the registrar's reason."""
    register = rights_registrar()
    if register is None:
        raise RightsRefused("unavailable")
    return register(intake)
