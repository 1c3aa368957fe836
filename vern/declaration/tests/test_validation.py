"""A declaration with an error is never published, and every error names its path and line."""

from __future__ import annotations

import pytest

from vern.declaration.loading import DeclarationInvalid, parse
from vern.declaration.rules import check
from vern.testing import run_vern, vern_env


def problems_of(source: str) -> list[str]:
    try:
        loaded = parse(source)
    except DeclarationInvalid as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in check(loaded)]


def line_of(source: str, marker: str) -> int:
    """1-based number of the first line containing ``marker``."""
    for number, line in enumerate(source.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"{marker!r} is not in the declaration")


def edit(source: str, old: str, new: str) -> str:
    assert source.count(old) >= 1, f"{old!r} is not in the default declaration"
    return source.replace(old, new, 1)


def test_the_default_declaration_is_valid_and_complete(default_source):
    assert problems_of(default_source) == []


# (what is broken, old text, new text, marker on the offending line, expected problem)
BROKEN = [
    (
        "a retention period that would delete data at once",
        "      period: 90 days\n",
        "      period: 5 minutes\n",
        "period: 5 minutes",
        "retention.rules[5].period (line {line}): '5 minutes' is shorter than a day",
    ),
    (
        "a retention period of zero",
        "      period: 90 days\n",
        "      period: 0 days\n",
        "period: 0 days",
        "retention.rules[5].period (line {line}):",
    ),
    (
        "a site that would embed the forms over plain http",
        "  embedding_origins: []\n\nprocessors:",
        "  embedding_origins: [http://moteadm.kaukus.no]\n\nprocessors:",
        "embedding_origins: [http://moteadm.kaukus.no]",
        "enquiries.embedding_origins[0] (line {line}): 'http://moteadm.kaukus.no' must use https",
    ),
    (
        "an embedding site given with a path",
        "  embedding_origins: []\n\nprocessors:",
        "  embedding_origins: [https://moteadm.kaukus.no/kontakt/]\n\nprocessors:",
        "embedding_origins: [https://moteadm.kaukus.no/kontakt/]",
        "enquiries.embedding_origins[0] (line {line}): 'https://moteadm.kaukus.no/kontakt/' must be an origin",
    ),
    (
        "a statistics cookie missing from the cookie table",
        "  visitor_cookie: vern_visitor\n",
        "  visitor_cookie: vern_returning\n",
        "visitor_cookie: vern_returning",
        "analytics.visitor_cookie (line {line}): 'vern_returning' is not in the cookie table",
    ),
    (
        "a cookie that recognises visitors without asking for consent",
        "  visitor_cookie: vern_visitor\n",
        "  visitor_cookie: vern_consent\n",
        "visitor_cookie: vern_consent",
        "analytics.visitor_cookie (line {line}): 'vern_consent' recognises returning visitors, so it needs consent",
    ),
    (
        "a query parameter that is not a plain name",
        "  query_parameters: []\n",
        "  query_parameters: [Email Address]\n",
        "query_parameters: [Email Address]",
        "analytics.query_parameters[0] (line {line}):",
    ),
    (
        "a legal basis that is not one of the six",
        "    legal_bases: [a]\n",
        "    legal_bases: [consent]\n",
        "legal_bases: [consent]",
        "purposes[3].legal_bases[0] (line {line}): 'consent' is not one of a, b, c, d, e, f",
    ),
    (
        "an unknown key (a typo)",
        '  org_number: "922 140 251"\n',
        '  org_number: "922 140 251"\n  orgnumber: "922140251"\n',
        "orgnumber:",
        "controller.orgnumber (line {line}): is not a known key",
    ),
    (
        "a key given twice",
        "  email: support@kaukus.no\n",
        "  email: support@kaukus.no\n  email: post@kaukus.no\n",
        "email: post@kaukus.no",
        "controller.email (line {line}): appears twice",
    ),
    (
        "a text without its English version",
        "    nb: Personvernerklæring for kaukus.no\n    en: Privacy Policy for kaukus.no\n",
        "    nb: Personvernerklæring for kaukus.no\n",
        "nb: Personvernerklæring for kaukus.no",
        "policy.title.en (line {line}): is required",
    ),
    (
        "an organisation number in the wrong form",
        '"922 140 251"',
        '"922140251"',
        "org_number:",
        "controller.org_number (line {line}): '922140251' does not have the expected form",
    ),
    (
        "a processor outside the EEA without a transfer mechanism (P14)",
        "    countries: [DE, FI]\n",
        "    countries: [DE, US]\n",
        "- id: hetzner",
        "processors[0].transfer_mechanism (line {line}): US is outside the EEA: give adequacy, dpf, scc or bcr",
    ),
    (
        "an active processor without a data processing agreement date (P9)",
        "    agreement_date: 2026-11-29\n",
        "",
        "- id: hetzner",
        "processors[0].agreement_date (line {line}): an active processor needs the date of its data processing",
    ),
    (
        "basis (f) without a legitimate-interest assessment",
        "    legal_bases: [a]\n",
        "    legal_bases: [a, f]\n    basis_explanation: {nb: x, en: x}\n",
        "legal_bases: [a, f]\n    basis_explanation: {nb: x",
        "purposes[3].legal_bases (line {line}): basis (f) needs a legitimate-interest assessment",
    ),
    (
        "consent without a way to withdraw it",
        "    withdrawal:\n      nb: Bruk avmeldingslenken i hver e-post, eller skriv til support@kaukus.no.\n"
        "      en: Use the unsubscribe link in every email, or write to support@kaukus.no.\n",
        "",
        "legal_bases: [a]\n    requirement:",
        "purposes[3].legal_bases (line {line}): basis (a) needs a withdrawal route",
    ),
    (
        "a cookie in a category that does not exist",
        "      category: necessary\n      duration: session\n      purpose: {nb: Innloggingsinformasjon",
        "      category: optional\n      duration: session\n      purpose: {nb: Innloggingsinformasjon",
        "category: optional",
        "cookies.cookies[0].category (line {line}): 'optional' is not a declared cookie category",
    ),
    (
        "a cookie without a real duration",
        "      duration: 8 hours\n",
        "      duration: forever\n",
        "duration: forever",
        "cookies.cookies[3].duration (line {line}): 'forever' is not a duration like '30 days'",
    ),
    (
        "a cookie that lives longer than 13 months",
        "      duration: 8 hours\n",
        "      duration: 2 years\n",
        "duration: 2 years",
        "cookies.cookies[3].duration (line {line}): a cookie may live at most 13 months",
    ),
    (
        "a purpose without a retention rule",
        "      purposes: [newsletter]\n",
        "      purposes: []\n",
        "- id: newsletter\n    name:",
        "purposes[3].id (line {line}): the purpose 'newsletter' has no retention rule (Art. 13(2)(a))",
    ),
    (
        "a retention rule with both a period and an end condition",
        "      period: 1 month\n      clock: collected\n      clock_text: {nb: etter at de ble registrert",
        "      period: 1 month\n      until: {nb: x, en: x}\n"
        "      clock: collected\n      clock_text: {nb: etter at de ble registrert",
        "- id: technical_logs",
        "retention.rules[2] (line {line}): give either period or until, not both and not neither",
    ),
    (
        "a right of the data subject left out",
        "    - id: objection\n",
        "    - id: access\n",
        "    - id: access\n      name: {nb: Innsyn",
        "rights.rights (line {line}): the policy must name every right of Art. 15-22; missing: objection",
    ),
    (
        "a consent choice kept longer than 13 months",
        "  consent_lifetime: 6 months\n",
        "  consent_lifetime: 2 years\n",
        "consent_lifetime:",
        "cookies.consent_lifetime (line {line}): a consent choice may be kept for at most 13 months",
    ),
    (
        "a third-party tag that would run without consent",
        "  consent_lifetime: 6 months\n",
        "  consent_lifetime: 6 months\n  tags:\n    - {kind: google, id: G-TEST1234, category: necessary}\n",
        "- {kind: google",
        "cookies.tags[0].category (line {line}): a google tag reaches another company's servers, so it needs consent",
    ),
    (
        "text that is not YAML",
        "schema_version: 1\n",
        "schema_version: 1\n  oops: [\n",
        "oops: [",
        "declaration (line {line}): not valid YAML",
    ),
    (
        "a date that does not exist",
        "    agreement_date: 2026-11-29\n",
        "    agreement_date: 2026-02-30\n",
        "agreement_date: 2026-02-30",
        "processors[0].agreement_date (line {line}): input should be a valid date",
    ),
    (
        "a tag that would run code",
        "schema_version: 1\n",
        "schema_version: 1\nhook: !!python/name:os.system\n",
        "hook: !!python",
        "declaration (line {line}): not valid YAML: could not determine a constructor",
    ),
    (
        "a key that is a number",
        "schema_version: 1\n",
        "schema_version: 1\n3: three\n",
        "3: three",
        "declaration (line {line}): the key '3' must be text",
    ),
]


def test_norway_is_a_country_code_not_a_boolean(default_source):
    """YAML 1.1 reads a bare NO as false; the declaration's loader keeps it as text."""
    norway = edit(default_source, "    countries: [DE, FI]\n", "    countries: [NO, DE]\n")
    assert problems_of(norway) == []
    assert parse(norway).declaration.processors[0].countries == ["NO", "DE"]


@pytest.mark.parametrize("what,old,new,marker,expected", BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_declaration_is_refused_with_its_path_and_line(default_source, what, old, new, marker, expected):
    source = edit(default_source, old, new)
    line = line_of(source, marker.split("\n")[0]) if "\n" not in marker else _line_of_block(source, marker)
    wanted = expected.format(line=line)
    problems = problems_of(source)
    assert any(wanted in problem for problem in problems), problems


def _line_of_block(source: str, block: str) -> int:
    index = source.index(block)
    return source[:index].count("\n") + 1


def test_p9_a_processor_cannot_be_active_without_a_data_processing_agreement(default_source):
    source = edit(default_source, "    agreement_date: 2026-11-29\n", "")
    assert any("an active processor needs the date of its data processing agreement" in p for p in problems_of(source))
    planned = edit(source, "    status: active\n", "    status: planned\n")
    assert problems_of(planned) == []


def test_p14_a_processor_outside_the_eea_needs_a_valid_transfer_mechanism(default_source):
    abroad = edit(default_source, "    countries: [DE, FI]\n", "    countries: [DE, US]\n")
    assert any("US is outside the EEA" in p for p in problems_of(abroad))
    scc_without_assessment = edit(abroad, "    status: active\n", "    status: active\n    transfer_mechanism: scc\n")
    assert any("scc needs the transfer assessment" in p for p in problems_of(scc_without_assessment))
    with_assessment = edit(
        scc_without_assessment,
        "    transfer_mechanism: scc\n",
        "    transfer_mechanism: scc\n    transfer_evidence: {nb: TIA 2026-01, en: TIA 2026-01}\n",
    )
    assert problems_of(with_assessment) == []
    invented = edit(with_assessment, "    transfer_mechanism: scc\n", "    transfer_mechanism: derogation\n")
    assert any("'derogation' is not one of adequacy, dpf, scc, bcr" in p for p in problems_of(invented))


def test_vern_declaration_check_passes_the_default_and_names_the_line_of_a_mistake(tmp_path, default_source):
    ok = run_vern("declaration", "check", env=vern_env())
    assert ok.returncode == 0, ok.stderr
    assert "valid. 5 purposes" in ok.stdout and "Art. 13 checklist 13/13" in ok.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text(edit(default_source, "    legal_bases: [a]\n", "    legal_bases: [consent]\n"))
    result = run_vern("declaration", "check", str(broken), env=vern_env())
    assert result.returncode != 0
    line = line_of(broken.read_text(), "legal_bases: [consent]")
    assert f"purposes[3].legal_bases[0] (line {line}): 'consent' is not one of a, b, c, d, e, f" in result.stderr
    assert "cannot be published" in result.stderr
    assert "Traceback" not in result.stderr


def test_r16_a_declaration_must_say_how_long_backups_are_kept(default_source):
    without = edit(default_source, "  backup_period: 30 days\n", "")
    assert any("backup_period is missing" in problem for problem in problems_of(without))


@pytest.mark.parametrize(
    "period,expected",
    [("12 hours", "shorter than a day"), ("13 months", "longer than a year"), ("400 days", "longer than a year")],
)
def test_r16_a_backup_period_shorter_than_a_day_or_longer_than_a_year_is_refused(default_source, period, expected):
    changed = edit(default_source, "backup_period: 30 days", f"backup_period: {period}")
    assert any(expected in problem and "security.backup_period" in problem for problem in problems_of(changed))


@pytest.mark.parametrize("period", ["1 day", "35 days", "12 months", "1 year"])
def test_r16_backup_periods_from_a_day_to_a_year_are_accepted(default_source, period):
    changed = edit(default_source, "backup_period: 30 days", f"backup_period: {period}")
    assert not [problem for problem in problems_of(changed) if "backup_period" in problem]
