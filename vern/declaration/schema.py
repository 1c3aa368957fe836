"""The shape of a privacy declaration (pydantic v2).

Unknown keys are errors, every text a visitor reads has a Norwegian Bokmål
(``nb``) and an English (``en``) version, and ids that other parts refer to
(purposes, data categories, cookie categories, processors, retention rules)
are checked for existence in ``vern.declaration.rules``, which also carries the
checks that span several sections (the Art. 13 checklist and the like).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from vern.declaration.durations import Duration

LegalBasis = Literal["a", "b", "c", "d", "e", "f"]
LEGAL_BASIS_ARTICLE = {
    "a": "6(1)(a)",
    "b": "6(1)(b)",
    "c": "6(1)(c)",
    "d": "6(1)(d)",
    "e": "6(1)(e)",
    "f": "6(1)(f)",
}
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", max_length=254)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")]
Line = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


def _duration(text: str) -> str:
    Duration.parse(text)
    return text


def _cookie_duration(text: str) -> str:
    Duration.parse(text, allow_session=True)
    return text


PeriodText = Annotated[str, AfterValidator(_duration)]
CookieDurationText = Annotated[str, AfterValidator(_cookie_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(Strict):
    """A text in Norwegian Bokmål and English."""

    nb: Line
    en: Line

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nb


class Controller(Strict):
    name: Line
    org_number: Annotated[str, StringConstraints(pattern=r"^\d{3} \d{3} \d{3}$")]
    email: Email
    website: Url
    address: Text | None = None
    dpo: Text | None = None
    dpo_email: Email | None = None
    laws: Text


class Policy(Strict):
    title: Text
    lead: Text
    scope: Text
    related_page: Text | None = None
    changes: Text
    notify_significant_changes: Text
    # How long every page shows the notice of a significant change (P20).
    notice_days: int = Field(default=30, ge=1, le=366)


class Collected(Strict):
    provided_intro: Text
    provided: list[Text] = Field(min_length=1)
    automatic_intro: Text
    automatic: list[Text] = Field(min_length=1)


class DataCategory(Strict):
    id: Identifier
    name: Text
    personal: bool = True


class DataSubject(Strict):
    id: Identifier
    name: Text


class Purpose(Strict):
    id: Identifier
    name: Text
    data_summary: Text
    data_categories: list[Identifier] = Field(min_length=1)
    data_subjects: list[Identifier] = Field(min_length=1)
    legal_bases: list[LegalBasis] = Field(min_length=1)
    basis_explanation: Text | None = None
    legitimate_interest: Text | None = None
    withdrawal: Text | None = None
    requirement: Text
    source: Text
    recipients: list[Identifier] = Field(default_factory=list)


class CookieCategory(Strict):
    id: Identifier
    name: Text
    description: Text
    consent_required: bool


class Cookie(Strict):
    # A trailing * names a family of cookies by prefix, e.g. "_ga_*".
    name: Annotated[str, StringConstraints(pattern=r"^[!#$%&'+\-.^_`|~0-9A-Za-z]{1,80}\*?$")]
    # Set for a cookie that lives on a parent domain (".kaukus.no"), so it can be expired there.
    domain: Annotated[str, StringConstraints(pattern=r"^\.?[a-z0-9.-]+$")] | None = None
    provider: Line
    category: Identifier
    duration: CookieDurationText
    purpose: Text
    party: Literal["first", "third"]
    set_by: Literal["vern", "other"] = "other"


class Banner(Strict):
    """The consent banner's own texts; without them vern uses its built-in wording."""

    title: Text
    text: Text


class Tag(Strict):
    """A third-party tag vern's banner loads only after consent to its category, and tells the
    visitor's choice in the tag's own consent signal (Google Consent Mode v2, Clarity's consent API)."""

    kind: Literal["google", "clarity"]
    # A Google tag id (G-…, GT-…, AW-…) or a Clarity project id.
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")]
    category: Identifier


class Cookies(Strict):
    intro: Text
    managing_consent: Text
    consent_lifetime: PeriodText = "6 months"
    categories: list[CookieCategory] = Field(min_length=1)
    cookies: list[Cookie]
    banner: Banner | None = None
    # Categories that a browser's Global Privacy Control signal refuses (C16).
    gpc_refuses: list[Identifier] = Field(default_factory=lambda: ["marketing"])
    # Set when a Google tag is used: Consent Mode v2 starts with everything denied (C15).
    # A declared Google tag (``tags``) sets it too.
    google_consent_mode: bool = False
    # Third-party tags loaded only after consent to their category.
    tags: list[Tag] = Field(default_factory=list)
    # Other sites of the same company that embed this banner (CORS for the consent API).
    embedding_origins: list[Url] = Field(default_factory=list)


class Enquiries(Strict):
    """How the contact and demo forms behave, where the policy leaves it to the controller."""

    # No longer honoured (issue 21): the email that tells staff of a new enquiry only says that one
    # came and links to the console, whatever this says, since a copy in a mailbox would escape the
    # retention rule and the rights of the person. Still accepted, so older declarations load.
    notification_includes_content: bool = False
    # Other sites of the same company that embed the forms (CORS for the enquiry API).
    embedding_origins: list[Url] = Field(default_factory=list)


class Topic(Strict):
    """One subject a subscriber may choose to receive mailings about."""

    id: Identifier
    name: Text


class Newsletter(Strict):
    """How newsletter subscriptions behave (issue 16, P22), where the policy leaves it to the controller."""

    # A subscription exists only once its single-use link is used; an unconfirmed one lapses
    # (and is deleted by retention) after this period.
    confirmation_period: PeriodText = "7 days"
    # An address the receiving server refuses for good (a 5xx answer) this many times is suppressed.
    hard_failure_limit: Annotated[int, Field(ge=1, le=20)] = 3
    # The subjects a subscriber may choose on the preference page; a mailing is about one of them.
    topics: list[Topic] = Field(
        default_factory=lambda: [Topic(id="news", name=Text(nb="Nyheter", en="News"))], min_length=1
    )

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


class Analytics(Strict):
    """How the site counts its visitors (P4, P21), where the policy leaves it to the controller."""

    # Off, the site counts nothing, and the beacon is not on its pages.
    enabled: bool = True
    # Query parameters kept with a page's path (``utm_source`` …); every other one, and the
    # fragment, is cut off before anything is written, since they may carry personal data.
    query_parameters: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]] = Field(default_factory=list)
    # The statistics cookie that recognises a returning visitor, set only with consent to
    # this category; it must be in the cookie table. Without it, visitors are counted without
    # cookies only.
    visitor_cookie: str | None = None


class Processor(Strict):
    id: Identifier
    name: Line
    service: Text
    countries: list[Country] = Field(min_length=1)
    status: Literal["active", "planned", "ended"] = "active"
    agreement_date: dt.date | None = None
    agreement_note: Text | None = None
    transfer_mechanism: Literal["adequacy", "dpf", "scc", "bcr"] | None = None
    transfer_evidence: Text | None = None


class Sharing(Strict):
    intro: Text
    categories_intro: Text
    no_sale: Text


class Transfers(Strict):
    statement: Text
    safeguards: Text


class RetentionRule(Strict):
    id: Identifier
    name: Text
    purposes: list[Identifier] = Field(default_factory=list)
    data_categories: list[Identifier] = Field(min_length=1)
    period: PeriodText | None = None
    until: Text | None = None
    clock: Identifier
    clock_text: Text
    exceptions: list[RetentionException] = Field(default_factory=list)


class RetentionException(Strict):
    when: Identifier
    text: Text
    then: Identifier


class Retention(Strict):
    intro: Text
    rules: list[RetentionRule] = Field(min_length=1)
    cookies_text: Text


class Right(Strict):
    id: Literal["access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent"]
    name: Text
    description: Text


class Rights(Strict):
    intro: Text
    rights: list[Right] = Field(min_length=1)
    request_email: Email
    response_days: Annotated[int, Field(ge=1, le=30)]
    how_to_request: Text
    automated_decisions: Text


class Authority(Strict):
    name: Text
    address: Text
    email: Email
    website: Url
    complaint_text: Text
    contact_us_first: Text


class Security(Strict):
    intro: Text
    measures: list[Text] = Field(min_length=1)
    standards: Text
    # How long an encrypted backup is kept before the worker deletes it (R16): the erasure receipt
    # promises that nobody erased is in a backup after this long. Optional in the schema so that
    # versions published before it stay readable; ``rules.check`` refuses to publish without it.
    backup_period: PeriodText | None = None


SqlName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,62}$")]


class ConnectorRetention(Strict):
    """Rows of a table are due ``period`` after the time in ``column`` (docs/connectors.md)."""

    column: SqlName
    period: PeriodText


class ConnectorTable(Strict):
    """One table of another system's database: how a person is found in it, shown and erased."""

    name: SqlName
    title: Text
    # Per identifier kind, the columns that hold it (an address, a phone number as stored).
    identifiers: dict[Literal["email", "phone"], list[SqlName]] = Field(min_length=1)
    export: list[SqlName] = Field(min_length=1)
    erasure: Literal["delete", "blank", "retain"] = "delete"
    blank: list[SqlName] = Field(default_factory=list)  # the columns an erasure empties (erasure: blank)
    portable: bool = False  # its exported columns go into the portability package (Art. 20)
    retention: ConnectorRetention | None = None
    rectify: list[SqlName] = Field(default_factory=list)  # the exported text columns an officer may correct


class Connector(Strict):
    """Another system of the company that holds personal data (docs/connectors.md)."""

    id: Identifier
    name: Line
    kind: Literal["sql", "http", "manual"]
    purpose: Identifier
    # The environment variable (or its ``_FILE``) that holds the database URL (sql), the webhook URL
    # (http); never the URL itself. Unset: the connector is declared but not configured.
    url_env: EnvName | None = None
    secret_env: EnvName | None = None  # http: the variable (or ``_FILE``) holding the shared signing secret
    timeout_seconds: Annotated[int, Field(ge=1, le=30)] = 10  # sql, http: how long one call may take
    read_only: bool = False  # sql: never change a row; an erasure is refused as a failing step
    tables: list[ConnectorTable] = Field(default_factory=list)  # sql
    processor: Identifier | None = None  # manual: the declared processor the task is about
    contact: Email | None = None  # manual: where the task is mailed
    deadline_days: Annotated[int, Field(ge=1, le=30)] = 7  # manual: days the processor has to answer
    language: Literal["nb", "en"] = "en"  # manual: the language of the task's mail and page


class Declaration(Strict):
    """A whole declaration; ``vern.declaration.rules`` adds the checks that span sections."""

    schema_version: Literal[1]
    controller: Controller
    policy: Policy
    collected: Collected
    data_categories: list[DataCategory] = Field(min_length=1)
    data_subjects: list[DataSubject] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    cookies: Cookies
    enquiries: Enquiries = Field(default_factory=Enquiries)
    newsletter: Newsletter = Field(default_factory=Newsletter)
    analytics: Analytics = Field(default_factory=Analytics)
    processors: list[Processor]
    sharing: Sharing
    transfers: Transfers
    retention: Retention
    rights: Rights
    authority: Authority
    security: Security
    # The company's other systems that hold personal data, searched and erased with vern's own.
    connectors: list[Connector] = Field(default_factory=list)

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def rule(self, rule_id: str) -> RetentionRule | None:
        return next((r for r in self.retention.rules if r.id == rule_id), None)

    def cookie_category(self, category_id: str) -> CookieCategory | None:
        return next((c for c in self.cookies.categories if c.id == category_id), None)

    def processor(self, processor_id: str) -> Processor | None:
        return next((p for p in self.processors if p.id == processor_id), None)

    def data_category(self, category_id: str) -> DataCategory | None:
        return next((c for c in self.data_categories if c.id == category_id), None)


RetentionRule.model_rebuild()
