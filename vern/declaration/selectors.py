"""Reading published versions, and the texts a page shows in one language."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from typing import Any

from django.urls import NoReverseMatch, reverse

from vern.declaration.durations import Duration
from vern.declaration.models import Draft, PolicyVersion
from vern.declaration.rules import EEA
from vern.declaration.schema import Declaration, Purpose, RetentionRule
from vern.lib.outage import is_outage
from vern.registry.surface import processor_register

BASIS_LABELS = {
    "a": {"nb": "samtykke (a)", "en": "consent (a)"},
    "b": {"nb": "tiltak før avtaleinngåelse eller avtale (b)", "en": "pre-contractual steps or a contract (b)"},
    "c": {"nb": "rettslig forpliktelse (c)", "en": "legal obligation (c)"},
    "d": {"nb": "vitale interesser (d)", "en": "vital interests (d)"},
    "e": {
        "nb": "allmennhetens interesse eller offentlig myndighet (e)",
        "en": "public interest or official authority (e)",
    },
    "f": {"nb": "berettiget interesse (f)", "en": "legitimate interest (f)"},
}
COUNTRIES = {
    "DE": {"nb": "Tyskland", "en": "Germany"},
    "FI": {"nb": "Finland", "en": "Finland"},
    "NO": {"nb": "Norge", "en": "Norway"},
    "SE": {"nb": "Sverige", "en": "Sweden"},
    "DK": {"nb": "Danmark", "en": "Denmark"},
    "NL": {"nb": "Nederland", "en": "the Netherlands"},
    "IE": {"nb": "Irland", "en": "Ireland"},
    "FR": {"nb": "Frankrike", "en": "France"},
    "US": {"nb": "USA", "en": "the United States"},
    "GB": {"nb": "Storbritannia", "en": "the United Kingdom"},
    "CH": {"nb": "Sveits", "en": "Switzerland"},
}
MECHANISMS = {
    "adequacy": {
        "nb": "EU-kommisjonens beslutning om tilstrekkelig beskyttelsesnivå (art. 45)",
        "en": "the European Commission's adequacy decision (Art. 45)",
    },
    "dpf": {"nb": "EU–US Data Privacy Framework (art. 45)", "en": "the EU–US Data Privacy Framework (Art. 45)"},
    "scc": {
        "nb": "EU-kommisjonens standard personvernbestemmelser (art. 46)",
        "en": "the European Commission's Standard Contractual Clauses (Art. 46)",
    },
    "bcr": {"nb": "bindende virksomhetsregler (art. 47)", "en": "binding corporate rules (Art. 47)"},
}
_OR = {"nb": " eller ", "en": " or "}


_last_known: PolicyVersion | None = None


def latest_version() -> PolicyVersion | None:
    """The version in force; its source and content are loaded only if asked for (most pages never do)."""
    global _last_known
    found = PolicyVersion.objects.order_by("-number").defer("source", "content").first()
    _last_known = found
    return found


def last_known_version() -> PolicyVersion | None:
    """The version ``latest_version`` returned last in this process (None if it never did)."""
    return _last_known


_UNSET = object()


def latest_version_or_last_known(request: Any) -> PolicyVersion | None:
    """``latest_version_for``, or while the database is down the version this process read last.

    For what must go on during an outage (a consent choice, kept and stored later): the
    published version cannot change while nobody can write it. Raises the database's error
    when this process has not read any version yet.
    """
    try:
        return latest_version_for(request)
    except Exception as exc:
        if not is_outage(exc) or _last_known is None:
            raise
        request._vern_policy_version = _last_known
        return _last_known


def latest_version_for(request: Any) -> PolicyVersion | None:
    """The latest version, looked up once per request however many parts of the page ask."""
    found = getattr(request, "_vern_policy_version", _UNSET)
    if found is _UNSET:
        found = latest_version()
        request._vern_policy_version = found
    return found  # type: ignore[return-value]


def version(number: int) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(number=number).first()


def all_versions() -> list[PolicyVersion]:
    return list(PolicyVersion.objects.order_by("-number").defer("source", "content"))


@lru_cache(maxsize=16)
def _parsed(version_pk: int, content_hash: str) -> Declaration:
    content = PolicyVersion.objects.values_list("content", flat=True).get(pk=version_pk)
    return Declaration.model_validate(content)


def declaration_of(policy_version: PolicyVersion) -> Declaration:
    """The published declaration, parsed once per process (versions never change)."""
    return _parsed(policy_version.pk, policy_version.content_hash)


def current_draft() -> Draft | None:
    return Draft.objects.select_related("based_on", "author").first()


def published_declaration() -> Declaration | None:
    current = latest_version()
    return declaration_of(current) if current is not None else None


def localise(value: Any, language: str) -> Any:
    """A declaration (or part of one) as plain data with every {nb, en} text picked for ``language``."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        if set(value) == {"nb", "en"}:
            return value["en" if language == "en" else "nb"]
        return {key: localise(item, language) for key, item in value.items()}
    if isinstance(value, list):
        return [localise(item, language) for item in value]
    return value


def bases_text(purpose: Purpose, language: str) -> str:
    labels = [BASIS_LABELS[basis][language] for basis in purpose.legal_bases]
    text = _OR[language].join(labels)
    return text[:1].upper() + text[1:]


def retention_line(rule: RetentionRule, language: str) -> str:
    return f"{rule.name.get(language)}: {retention_body(rule, language)}"


def retention_body(rule: RetentionRule, language: str) -> str:
    """How long, from when, and the exceptions: "up to 24 months after the last contact, unless …"."""
    if rule.until is not None:
        body = rule.until.get(language)
    else:
        assert rule.period is not None
        up_to = "inntil" if language == "nb" else "up to"
        body = f"{up_to} {Duration.parse(rule.period).text(language).lower()} {rule.clock_text.get(language)}"
    for exception in rule.exceptions:
        body += f", {exception.text.get(language)}"
    return body


def countries_text(codes: list[str], language: str) -> str:
    names = [COUNTRIES.get(code, {}).get(language, code) for code in codes]
    joiner = " og " if language == "nb" else " and "
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]


@dataclass(frozen=True)
class PolicyPage:
    """Everything the policy page needs in one language."""

    version: PolicyVersion
    language: str
    d: dict[str, Any]
    purposes: list[dict[str, Any]]
    retention: list[str]
    cookie_groups: list[dict[str, Any]]
    processors: list[dict[str, Any]]
    backup_period: str = ""  # "30 days" in the page's language; empty in versions that declared none
    # "Name (countries): mechanism" for each processor or sub-processor outside the EEA (§8).
    transfers: tuple[str, ...] = ()
    trust_url: str = ""  # the page «Data processing at …», when an app keeps the register


def mechanism_text(mechanism: str | None, module: int | None, language: str) -> str:
    if not mechanism:
        return ""
    text = MECHANISMS[mechanism][language]
    if mechanism == "scc" and module:
        text += f", {'module' if language == 'en' else 'modul'} {module}"
    return text


def processor_rows(declaration: Declaration, language: str, *, live: bool = True) -> list[dict[str, Any]]:
    """The processors a page or the Art. 30 record names, in ``language``: from the processor register
    when an app keeps one (``live``: the version in force), else from the declaration.

    Each row: id, name, service, countries, countries_text, mechanism_text, purposes (ids, or None
    where the declaration's purposes name their recipients), outside (codes outside the EEA, the
    sub-processors' too) and subs (name, service, countries_text)."""
    register = processor_register() if live else None
    if register is None:
        return [
            {
                "id": p.id,
                "name": p.name,
                "service": p.service.get(language),
                "countries": list(p.countries),
                "countries_text": countries_text(p.countries, language),
                "mechanism_text": mechanism_text(p.transfer_mechanism, None, language),
                "purposes": None,
                "outside": sorted(set(p.countries) - EEA),
                "subs": [],
            }
            for p in declaration.processors
            if p.status != "ended"
        ]
    rows = []
    for p in register:
        outside = set(p.countries) - EEA
        for sub in p.sub_processors:
            outside |= set(sub.countries) - EEA
        rows.append(
            {
                "id": p.id,
                "name": p.name,
                "service": p.service.get(language, ""),
                "countries": list(p.countries),
                "countries_text": countries_text(list(p.countries), language),
                "mechanism_text": mechanism_text(p.transfer_mechanism, p.scc_module, language),
                "purposes": list(p.purposes),
                "outside": sorted(outside),
                "subs": [
                    {
                        "name": s.name,
                        "service": s.service,
                        "countries_text": countries_text(list(s.countries), language),
                    }
                    for s in p.sub_processors
                ],
            }
        )
    return rows


def transfer_lines(rows: list[dict[str, Any]], language: str) -> tuple[str, ...]:
    return tuple(
        f"{row['name']} ({countries_text(row['outside'], language)}): {row['mechanism_text']}"
        for row in rows
        if row["outside"] and row["mechanism_text"]
    )


def policy_page(
    policy_version: PolicyVersion, language: str, declaration: Declaration | None = None, *, live: bool = False
) -> PolicyPage:
    """The page of a published version, or of ``declaration`` (a draft) shown as that version.

    ``live``: the version in force, whose processors (§6, §8) come from the processor register."""
    if declaration is None:
        declaration = declaration_of(policy_version)
    d = localise(declaration, language)
    purposes = [{**localise(p, language), "bases": bases_text(p, language)} for p in declaration.purposes]
    groups = []
    for category in declaration.cookies.categories:
        cookies = [
            {**localise(c, language), "duration_text": Duration.parse(c.duration, allow_session=True).text(language)}
            for c in declaration.cookies.cookies
            if c.category == category.id
        ]
        groups.append({**localise(category, language), "cookies": cookies})
    processors = processor_rows(declaration, language, live=live)
    try:
        trust_url = reverse("processors:trust")
    except NoReverseMatch:
        trust_url = ""
    return PolicyPage(
        version=policy_version,
        language=language,
        d=d,
        purposes=purposes,
        retention=[retention_line(rule, language) for rule in declaration.retention.rules],
        cookie_groups=groups,
        processors=processors,
        transfers=transfer_lines(processors, language),
        trust_url=trust_url,
        backup_period=(
            Duration.parse(declaration.security.backup_period).text(language).lower()
            if declaration.security.backup_period
            else ""
        ),
    )


def page_text(html: str) -> list[str]:
    """The readable lines of a rendered page's main content, for comparing two versions."""
    main = html.split('<main id="main"', 1)[-1].split("</main>", 1)[0]
    main = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", main, flags=re.S)
    main = re.sub(r"</(p|li|h[1-6]|tr|dt|dd|caption)>|<br\s*/?>", "\n", main)
    main = re.sub(r"</t[dh]>", " | ", main)
    text = unescape(re.sub(r"<[^>]+>", "", main))
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def diff_lines(old: list[str], new: list[str]) -> list[tuple[str, str]]:
    """(kind, line) pairs: kind is "+", "-" or " " (unchanged context)."""
    result = []
    for line in difflib.unified_diff(old, new, lineterm="", n=2):
        if line.startswith(("---", "+++", "@@")):
            if line.startswith("@@"):
                result.append(("@", "…"))
            continue
        result.append((line[0], line[1:]))
    return result
