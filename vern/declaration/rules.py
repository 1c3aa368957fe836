"""Checks that span sections of a declaration: references, the law's checklists, transfers.

The schema says what each section looks like; these rules say whether the whole
is a lawful, complete notice (LAW.md §1a, R2, R21, R24, C10). A declaration
with any problem here is never published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from vern.declaration.durations import Duration
from vern.declaration.loading import Loaded, Problem, format_path
from vern.declaration.schema import Declaration
from vern.lib.wording import Wording

# EU member states plus Iceland, Liechtenstein and Norway.
EEA = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split())
ALL_RIGHTS = ("access", "rectification", "erasure", "restriction", "portability", "objection", "withdraw_consent")
MAX_COOKIE_MONTHS = 13  # CNIL's ceiling for a cookie and for a consent choice (CONSENT.md C10)
# Countries with an EU adequacy decision (Art. 45) that covers private companies generally.
# The United States is adequate only for importers certified under the Data Privacy
# Framework, which is its own mechanism ("dpf"). Re-check this list when the Commission
# adopts or withdraws a decision.
ADEQUATE = frozenset("AD AR CA CH FO GB GG IL IM JE JP KR NZ UY".split())


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the Art. 13 checklist (LAW.md §1a)."""

    code: str
    label: str  # in the active language: the staff page shows it to its reader
    ok: bool
    detail: str = ""  # ids (purposes, processors, rights): not translated
    note: str = ""  # or a sentence, in the active language


def art13_checklist(d: Declaration) -> list[ChecklistItem]:
    consent_purposes = [p.id for p in d.purposes if "a" in p.legal_bases]
    rights = {r.id for r in d.rights.rights}
    outside = [p for p in d.processors if p.status != "ended" and set(p.countries) - EEA]
    rule_for = _rules_by_purpose(d)
    items = [
        ChecklistItem(
            "13(1)(a)", _("controller identity and contact details"), bool(d.controller.name and d.controller.email)
        ),
        ChecklistItem(
            "13(1)(b)",
            _("data protection officer, if any"),
            d.controller.dpo is None or bool(d.controller.dpo_email),
            note=_("a DPO is named without contact details") if d.controller.dpo and not d.controller.dpo_email else "",
        ),
        ChecklistItem("13(1)(c)", _("purposes and the legal basis of each"), all(p.legal_bases for p in d.purposes)),
        ChecklistItem(
            "13(1)(d)",
            _("the legitimate interests, where the basis is (f)"),
            all(p.legitimate_interest for p in d.purposes if "f" in p.legal_bases),
            ", ".join(p.id for p in d.purposes if "f" in p.legal_bases and not p.legitimate_interest),
        ),
        ChecklistItem("13(1)(e)", _("recipients or categories of recipients"), bool(d.sharing.categories_intro)),
        ChecklistItem(
            "13(1)(f)",
            _("transfers outside the EEA and their safeguards"),
            all(p.transfer_mechanism for p in outside),
            ", ".join(p.id for p in outside if not p.transfer_mechanism),
        ),
        ChecklistItem(
            "13(2)(a)",
            _("retention period or criteria for each purpose"),
            all(rule_for.get(p.id) for p in d.purposes),
            ", ".join(p.id for p in d.purposes if not rule_for.get(p.id)),
        ),
        ChecklistItem(
            "13(2)(b)",
            _("rights of access, rectification, erasure, restriction, objection and portability"),
            set(ALL_RIGHTS[:6]) <= rights,
            ", ".join(r for r in ALL_RIGHTS[:6] if r not in rights),
        ),
        ChecklistItem(
            "13(2)(c)",
            _("withdrawing consent at any time, where the basis is consent"),
            not consent_purposes or "withdraw_consent" in rights,
        ),
        ChecklistItem(
            "13(2)(d)", _("the right to complain to the supervisory authority"), bool(d.authority.complaint_text)
        ),
        ChecklistItem(
            "13(2)(e)",
            _("whether providing the data is required, and what happens if not"),
            all(p.requirement for p in d.purposes),
        ),
        ChecklistItem("13(2)(f)", _("automated decisions, including profiling"), bool(d.rights.automated_decisions)),
        ChecklistItem(
            "cookies",
            _("each cookie with name, provider, category, purpose and lifetime (ekomloven § 3-15)"),
            all(c.provider and c.duration and c.purpose for c in d.cookies.cookies),
        ),
    ]
    return items


def _rules_by_purpose(d: Declaration) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rule in d.retention.rules:
        for purpose_id in rule.purposes:
            found.setdefault(purpose_id, []).append(rule.id)
    return found


class _Collector:
    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []

    def add(self, loc: tuple[int | str, ...], message: str, *, translated: tuple[str, ...] = (), **params: str) -> None:
        """A problem at ``loc``; ``message`` is an English template (``gettext_noop``) filled in with
        ``params``: as it is for the command line, translated where a staff member reads it (and so
        are the ``translated`` params, English texts themselves)."""
        wording = Wording.of(message, translated=translated, **params)
        self.problems.append(Problem.worded(format_path(loc), self.loaded.line(loc), wording))


def _duplicates(values: Iterable[str]) -> set[str]:
    return {value for value, count in Counter(values).items() if count > 1}


def check(loaded: Loaded) -> list[Problem]:
    """Every problem of a schema-valid declaration; empty means it may be published."""
    d = loaded.declaration
    out = _Collector(loaded)
    _check_unique_ids(d, out)
    _check_purposes(d, out)
    _check_cookies(d, out)
    _check_enquiries(d, out)
    _check_analytics(d, out)
    _check_newsletter(d, out)
    _check_processors(d, out)
    _check_retention(d, out)
    _check_rights(d, out)
    _check_backups(d, out)
    _check_connectors(d, out)
    with translation.override(None):  # the English labels: the problem translates them where it is read
        missing = [item for item in art13_checklist(d) if not item.ok]
    for item in missing:
        if any(item.code in p.message for p in out.problems):
            continue
        if item.detail or item.note:
            template = gettext_noop("Art. %(code)s is missing: %(label)s (%(detail)s)")
            translated = ("label", "detail") if item.note else ("label",)
            detail = item.note or item.detail
            out.add((), template, translated=translated, code=item.code, label=item.label, detail=detail)
        else:
            out.add(
                (),
                gettext_noop("Art. %(code)s is missing: %(label)s"),
                translated=("label",),
                code=item.code,
                label=item.label,
            )
    return out.problems


def _check_unique_ids(d: Declaration, out: _Collector) -> None:
    sections: list[tuple[str, list[str]]] = [
        ("data_categories", [c.id for c in d.data_categories]),
        ("data_subjects", [s.id for s in d.data_subjects]),
        ("purposes", [p.id for p in d.purposes]),
        ("processors", [p.id for p in d.processors]),
    ]
    for name, ids in sections:
        for index, value in enumerate(ids):
            if value in _duplicates(ids) and ids.index(value) != index:
                out.add((name, index, "id"), gettext_noop("the id %(value)s is used twice"), value=repr(value))
    for name, ids, prefix in (
        ("categories", [c.id for c in d.cookies.categories], ("cookies", "categories")),
        ("cookies", [c.name for c in d.cookies.cookies], ("cookies", "cookies")),
        ("rules", [r.id for r in d.retention.rules], ("retention", "rules")),
    ):
        for index, value in enumerate(ids):
            if value in _duplicates(ids) and ids.index(value) != index:
                field = "name" if name == "cookies" else "id"
                out.add((*prefix, index, field), gettext_noop("%(value)s is used twice"), value=repr(value))


def _check_purposes(d: Declaration, out: _Collector) -> None:
    categories = {c.id for c in d.data_categories}
    subjects = {s.id for s in d.data_subjects}
    processors = {p.id for p in d.processors}
    for i, purpose in enumerate(d.purposes):
        for j, category in enumerate(purpose.data_categories):
            if category not in categories:
                out.add(
                    ("purposes", i, "data_categories", j),
                    gettext_noop("%(category)s is not a declared data category"),
                    category=repr(category),
                )
        for j, subject in enumerate(purpose.data_subjects):
            if subject not in subjects:
                out.add(
                    ("purposes", i, "data_subjects", j),
                    gettext_noop("%(subject)s is not a declared data subject"),
                    subject=repr(subject),
                )
        for j, recipient in enumerate(purpose.recipients):
            if recipient not in processors:
                out.add(
                    ("purposes", i, "recipients", j),
                    gettext_noop("%(recipient)s is not a declared processor"),
                    recipient=repr(recipient),
                )
        if len(set(purpose.legal_bases)) != len(purpose.legal_bases):
            out.add(("purposes", i, "legal_bases"), gettext_noop("a legal basis is listed twice"))
        if "f" in purpose.legal_bases and purpose.legitimate_interest is None:
            out.add(
                ("purposes", i, "legal_bases"),
                gettext_noop("basis (f) needs a legitimate-interest assessment in legitimate_interest (Art. 13(1)(d))"),
            )
        if "a" in purpose.legal_bases and purpose.withdrawal is None:
            out.add(
                ("purposes", i, "legal_bases"),
                gettext_noop("basis (a) needs a withdrawal route in withdrawal: how consent is withdrawn (Art. 7(3))"),
            )
        if len(purpose.legal_bases) > 1 and purpose.basis_explanation is None:
            out.add(
                ("purposes", i, "legal_bases"),
                gettext_noop("with several bases, basis_explanation must say when each one applies"),
            )


def _check_origins(path: tuple[str, ...], origins: list[str], out: _Collector) -> None:
    for i, origin in enumerate(origins):
        parts = urlsplit(origin)
        if origin.rstrip("/").count("/") != 2 or parts.query or parts.fragment:
            out.add((*path, i), gettext_noop("%(origin)s must be an origin: scheme and host only"), origin=repr(origin))
        elif parts.scheme != "https" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            out.add(
                (*path, i),
                gettext_noop("%(origin)s must use https: another site may only embed vern over TLS"),
                origin=repr(origin),
            )


def _check_enquiries(d: Declaration, out: _Collector) -> None:
    _check_origins(("enquiries", "embedding_origins"), d.enquiries.embedding_origins, out)


def _check_newsletter(d: Declaration, out: _Collector) -> None:
    seen: set[str] = set()
    for i, topic in enumerate(d.newsletter.topics):
        if topic.id in seen:
            out.add(
                ("newsletter", "topics", i, "id"), gettext_noop("topic %(id)s is declared twice"), id=repr(topic.id)
            )
        seen.add(topic.id)
    if Duration.parse(d.newsletter.confirmation_period).max_seconds() < 3600:
        out.add(("newsletter", "confirmation_period"), gettext_noop("give people at least an hour to confirm"))


def _check_analytics(d: Declaration, out: _Collector) -> None:
    name = d.analytics.visitor_cookie
    if name is None:
        return
    cookie = next((c for c in d.cookies.cookies if c.name == name), None)
    category = d.cookie_category(cookie.category) if cookie is not None else None
    if cookie is None:
        out.add(("analytics", "visitor_cookie"), gettext_noop("%(name)s is not in the cookie table"), name=repr(name))
    elif category is None or not category.consent_required:
        out.add(
            ("analytics", "visitor_cookie"),
            gettext_noop(
                "%(name)s recognises returning visitors, so it needs consent: put it in a category that asks for it"
            ),
            name=repr(name),
        )
    elif Duration.parse(cookie.duration, allow_session=True).is_session:
        out.add(
            ("analytics", "visitor_cookie"),
            gettext_noop("%(name)s must have a lifetime to recognise a returning visitor"),
            name=repr(name),
        )


def _check_cookies(d: Declaration, out: _Collector) -> None:
    category_ids = {c.id for c in d.cookies.categories}
    if not any(not c.consent_required for c in d.cookies.categories):
        out.add(
            ("cookies", "categories"), gettext_noop("one category must be strictly necessary (consent_required: false)")
        )
    lifetime = Duration.parse(d.cookies.consent_lifetime)
    if lifetime.longer_than_months(MAX_COOKIE_MONTHS):
        out.add(("cookies", "consent_lifetime"), gettext_noop("a consent choice may be kept for at most 13 months"))
    for i, category_id in enumerate(d.cookies.gpc_refuses):
        category = d.cookie_category(category_id)
        if category is None:
            out.add(
                ("cookies", "gpc_refuses", i),
                gettext_noop("%(category_id)s is not a declared cookie category"),
                category_id=repr(category_id),
            )
        elif not category.consent_required:
            out.add(
                ("cookies", "gpc_refuses", i),
                gettext_noop("%(category_id)s needs no consent, so GPC cannot refuse it"),
                category_id=repr(category_id),
            )
    _check_origins(("cookies", "embedding_origins"), d.cookies.embedding_origins, out)
    for i, tag in enumerate(d.cookies.tags):
        tag_category = d.cookie_category(tag.category)
        if tag_category is None:
            out.add(
                ("cookies", "tags", i, "category"),
                gettext_noop("%(category)s is not a declared cookie category"),
                category=repr(tag.category),
            )
        elif not tag_category.consent_required:
            out.add(
                ("cookies", "tags", i, "category"),
                gettext_noop(
                    "a %(kind)s tag reaches another company's servers, so it needs consent: "
                    "put it in a category that asks for it"
                ),
                kind=str(tag.kind),
            )
    for i, cookie in enumerate(d.cookies.cookies):
        if cookie.category not in category_ids:
            out.add(
                ("cookies", "cookies", i, "category"),
                gettext_noop("%(category)s is not a declared cookie category"),
                category=repr(cookie.category),
            )
        duration = Duration.parse(cookie.duration, allow_session=True)
        if duration.longer_than_months(MAX_COOKIE_MONTHS):
            out.add(("cookies", "cookies", i, "duration"), gettext_noop("a cookie may live at most 13 months"))


def _check_connectors(d: Declaration, out: _Collector) -> None:
    """A connector names a declared purpose, and what its kind needs (docs/connectors.md)."""
    ids = [c.id for c in d.connectors]
    for i, connector in enumerate(d.connectors):
        path: tuple[str | int, ...] = ("connectors", i)
        if connector.id in _duplicates(ids) and ids.index(connector.id) != i:
            out.add((*path, "id"), gettext_noop("the id %(value)s is used twice"), value=repr(connector.id))
        if d.purpose(connector.purpose) is None:
            out.add((*path, "purpose"), gettext_noop("unknown purpose %(value)s"), value=repr(connector.purpose))
        if connector.kind in ("sql", "http") and connector.url_env is None:
            out.add((*path, "url_env"), gettext_noop("name the environment variable that holds the URL"))
        if connector.kind == "sql" and not connector.tables:
            out.add((*path, "tables"), gettext_noop("an SQL connector needs at least one table"))
        if connector.kind == "http" and connector.secret_env is None:
            out.add((*path, "secret_env"), gettext_noop("name the environment variable that holds the signing secret"))
        if connector.kind == "manual":
            if connector.contact is None:
                out.add((*path, "contact"), gettext_noop("a manual connector needs the address its tasks go to"))
            if connector.processor is not None and d.processor(connector.processor) is None:
                out.add(
                    (*path, "processor"), gettext_noop("unknown processor %(value)s"), value=repr(connector.processor)
                )
        for t, table in enumerate(connector.tables):
            if table.erasure == "blank" and not table.blank:
                out.add(
                    (*path, "tables", t, "blank"), gettext_noop("name the columns an erasure blanks (erasure: blank)")
                )
            if table.rectify and connector.read_only:
                out.add(
                    (*path, "tables", t, "rectify"),
                    gettext_noop("a read-only connector cannot correct rows; remove rectify or read_only"),
                )
            for name in table.rectify:
                if name not in table.export:
                    out.add(
                        (*path, "tables", t, "rectify"),
                        gettext_noop("%(value)s can be corrected only if it is exported (shown to the officer)"),
                        value=repr(name),
                    )


def _check_processors(d: Declaration, out: _Collector) -> None:
    for i, processor in enumerate(d.processors):
        if processor.status == "active" and processor.agreement_date is None:
            out.add(
                ("processors", i, "agreement_date"),
                gettext_noop("an active processor needs the date of its data processing agreement (Art. 28)"),
            )
        outside = sorted(set(processor.countries) - EEA)
        mechanism = processor.transfer_mechanism
        if outside and processor.status != "ended":
            if mechanism is None:
                out.add(
                    ("processors", i, "transfer_mechanism"),
                    gettext_noop("%(value)s is outside the EEA: give adequacy, dpf, scc or bcr (Art. 45-47)"),
                    value=str(", ".join(outside)),
                )
            elif mechanism == "adequacy" and set(outside) - ADEQUATE:
                out.add(
                    ("processors", i, "transfer_mechanism"),
                    gettext_noop("%(value)s has no adequacy decision; use dpf, scc or bcr"),
                    value=str(", ".join(sorted(set(outside) - ADEQUATE))),
                )
            elif mechanism == "dpf" and set(outside) != {"US"}:
                out.add(
                    ("processors", i, "transfer_mechanism"),
                    gettext_noop("the Data Privacy Framework covers only the United States"),
                )
            elif mechanism in ("dpf", "scc") and processor.transfer_evidence is None:
                evidence = "the certification" if mechanism == "dpf" else "the transfer assessment"
                out.add(
                    ("processors", i, "transfer_evidence"),
                    gettext_noop("%(mechanism)s needs %(evidence)s"),
                    mechanism=str(mechanism),
                    evidence=str(evidence),
                )
        elif mechanism is not None and not outside:
            out.add(
                ("processors", i, "transfer_mechanism"),
                gettext_noop("all countries are in the EEA; no transfer mechanism applies"),
            )


def _check_retention(d: Declaration, out: _Collector) -> None:
    purposes = {p.id for p in d.purposes}
    categories = {c.id for c in d.data_categories}
    rule_ids = {r.id for r in d.retention.rules}
    covered_purposes: set[str] = set()
    covered_categories: set[str] = set()
    for i, rule in enumerate(d.retention.rules):
        if (rule.period is None) == (rule.until is None):
            out.add(("retention", "rules", i), gettext_noop("give either period or until, not both and not neither"))
        elif rule.period is not None and Duration.parse(rule.period).max_seconds() < 86400:
            # The sweep would remove data almost as soon as it is written: a slip, not a rule.
            out.add(
                ("retention", "rules", i, "period"),
                gettext_noop("%(period)s is shorter than a day; keep data at least a day"),
                period=repr(rule.period),
            )
        for j, purpose_id in enumerate(rule.purposes):
            if purpose_id not in purposes:
                out.add(
                    ("retention", "rules", i, "purposes", j),
                    gettext_noop("%(purpose_id)s is not a declared purpose"),
                    purpose_id=repr(purpose_id),
                )
        for j, category in enumerate(rule.data_categories):
            if category not in categories:
                out.add(
                    ("retention", "rules", i, "data_categories", j),
                    gettext_noop("%(category)s is not a declared data category"),
                    category=repr(category),
                )
        for j, exception in enumerate(rule.exceptions):
            if exception.then not in rule_ids:
                out.add(
                    ("retention", "rules", i, "exceptions", j, "then"),
                    gettext_noop("%(then)s is not a retention rule"),
                    then=repr(exception.then),
                )
        covered_purposes |= set(rule.purposes)
        covered_categories |= set(rule.data_categories)
    for i, purpose in enumerate(d.purposes):
        if purpose.id not in covered_purposes:
            out.add(
                ("purposes", i, "id"),
                gettext_noop("the purpose %(id)s has no retention rule (Art. 13(2)(a))"),
                id=repr(purpose.id),
            )
    for i, data_category in enumerate(d.data_categories):
        if data_category.personal and data_category.id not in covered_categories:
            out.add(
                ("data_categories", i, "id"),
                gettext_noop("the data category %(id)s has no retention rule"),
                id=repr(data_category.id),
            )


def _check_backups(d: Declaration, out: _Collector) -> None:
    """Backups are kept for a declared period (R16): at least a day (one nightly backup), at most a year."""
    period = d.security.backup_period
    if period is None:
        out.add(
            ("security",),
            gettext_noop(
                "backup_period is missing: say how long encrypted backups are kept (e.g. '30 days'); "
                "erasure receipts promise that nobody erased is in a backup after it (R16)"
            ),
        )
        return
    duration = Duration.parse(period)
    if duration.max_seconds() < 86400:
        out.add(
            ("security", "backup_period"),
            gettext_noop("%(period)s is shorter than a day; the worker backs up nightly"),
            period=repr(period),
        )
    elif (
        duration.amount * (12 if duration.unit == "year" else 1) > 12
        if duration.unit in ("month", "year")
        else duration.max_seconds() > 366 * 86400
    ):
        out.add(
            ("security", "backup_period"),
            gettext_noop("%(period)s is longer than a year; keep backups a year at most"),
            period=repr(period),
        )


def _check_rights(d: Declaration, out: _Collector) -> None:
    present = [r.id for r in d.rights.rights]
    for i, right in enumerate(d.rights.rights):
        if present.count(right.id) > 1 and present.index(right.id) != i:
            out.add(("rights", "rights", i, "id"), gettext_noop("the right %(id)s is listed twice"), id=repr(right.id))
    missing = [r for r in ALL_RIGHTS if r not in present]
    if missing:
        out.add(
            ("rights", "rights"),
            gettext_noop("the policy must name every right of Art. 15-22; missing: %(value)s"),
            value=str(", ".join(missing)),
        )
