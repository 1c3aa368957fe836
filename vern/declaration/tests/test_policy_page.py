"""/privacy/ is the Kaukus policy, generated from the published declaration, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vern.declaration.selectors import page_text

REFERENCE = Path(__file__).resolve().parents[3] / "docs" / "reference" / "privacy-policy-kaukus.txt"
SECTIONS = [
    "about",
    "controller",
    "collected",
    "purposes",
    "cookies",
    "sharing",
    "retention",
    "transfers",
    "rights",
    "complaints",
    "security",
    "changes",
    "contact",
]

# Facts of the published policy (reference text) that the English page must carry word for word.
FACTS = [
    "Kaukus AS",
    "922 140 251",
    "support@kaukus.no",
    "Postboks 458 Sentrum, 0105 Oslo, Norway",
    "postkasse@datatilsynet.no",
    "www.datatilsynet.no",
    "Hetzner",
    "Enquiries via form or email: up to 24 months after the last contact, unless the enquiry leads to a customer "
    "relationship",
    "Responding to enquiries and managing customer communication",
    "Operating and securing the website",
    "Analytics and improvement of the website",
    "Sending newsletters or marketing communications",
    "Strictly necessary",
    "Preferences",
    "Statistics",
    "Marketing",
    "_moeteadm_session",
    "Access",
    "Rectification",
    "Erasure",
    "Restriction",
    "Data portability",
    "Objection",
    "Withdraw consent",
    "We normally respond within 30 days.",
    "We follow the principles of ISO/IEC 27001 for information security management.",
    "Kaukus does not sell personal data to third parties.",
    "We encourage you to contact us first so that we have the opportunity to resolve the matter.",
]


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return str(response.content.decode())


def test_p1_the_policy_page_has_all_thirteen_sections_in_both_languages(client, published):
    for path, lang in (("/privacy/", "nb"), ("/en/privacy/", "en")):
        html = page(client, path)
        assert f'<html lang="{lang}">' in html
        found = re.findall(r'<section id="([a-z]+)"', html)
        assert found == SECTIONS
        for number in range(1, 14):
            assert f'<span class="policy__num">{number}.</span>' in html
        assert "#retention" in html  # the table of contents links every section


def test_p1_the_page_shows_when_it_was_last_updated(client, published):
    nb = page(client, "/privacy/")
    en = page(client, "/en/privacy/")
    date = published.published_at.astimezone().strftime("%Y-%m-%d")
    assert f'Sist oppdatert <time datetime="{date}">' in nb
    assert f'Last updated <time datetime="{date}">' in en


def test_p2_the_english_page_carries_every_fact_of_the_reference_policy(client, published):
    reference = " ".join(REFERENCE.read_text(encoding="utf-8").split())
    text = " ".join(page_text(page(client, "/en/privacy/")))
    for fact in FACTS:
        assert fact in reference, f"not a fact of the reference policy: {fact!r}"
        assert fact in text, f"missing from /en/privacy/: {fact!r}"


def test_p2_the_norwegian_page_carries_the_same_facts_in_bokmal(client, published):
    text = " ".join(page_text(page(client, "/privacy/")))
    for fact in [
        "Kaukus AS",
        "Organisasjonsnummer 922 140 251",
        "support@kaukus.no",
        "Postboks 458 Sentrum, 0105 Oslo",
        "postkasse@datatilsynet.no",
        "Henvendelser via skjema eller e-post: inntil 24 måneder etter siste kontakt, med mindre henvendelsen fører "
        "til et kundeforhold",
        "Tekniske loggdata: inntil 1 måned",
        "Strengt nødvendige",
        "Preferanser",
        "Statistikk",
        "Markedsføring",
        "_moeteadm_session",
        "Vi svarer normalt innen 30 dager.",
        "ISO/IEC 27001",
        "Hetzner Online GmbH, Tyskland og Finland",
        "Kaukus selger ikke personopplysninger til tredjeparter.",
    ]:
        assert fact in text, f"missing from /privacy/: {fact!r}"


def test_p2_technical_logs_are_kept_one_month_as_the_policy_says(client, published):
    text = " ".join(page_text(page(client, "/en/privacy/")))
    assert "Technical log data: up to 1 month after they were recorded" in text


def test_p5_each_purpose_shows_the_legal_bases_the_policy_gives_it(client, published):
    rows = {}
    for row in re.findall(
        r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", page(client, "/en/privacy/")
    ):
        rows[row[0]] = re.findall(r"\(([a-f])\)", row[2])
    assert rows["Responding to enquiries and managing customer communication"] == ["f", "b"]
    assert rows["Operating and securing the website"] == ["f"]
    assert rows["Analytics and improvement of the website"] == ["a", "f"]
    assert rows["Sending newsletters or marketing communications"] == ["a"]


def test_p9_the_recipients_in_the_policy_come_from_the_processor_register(client, published):
    text = " ".join(page_text(page(client, "/en/privacy/")))
    assert "Provider of web hosting and server infrastructure (Hetzner Online GmbH, Germany and Finland)" in text


def test_p10_the_policy_says_personal_data_is_not_sold(client, published):
    assert "Kaukus does not sell personal data to third parties." in page(client, "/en/privacy/")
    assert "Kaukus selger ikke personopplysninger til tredjeparter." in page(client, "/privacy/")


def test_p17_the_page_names_datatilsynet_with_address_email_and_website(client, published):
    html = page(client, "/en/privacy/")
    complaints = html.split('id="complaints"', 1)[1].split("</section>", 1)[0]
    assert "Datatilsynet (Norwegian Data Protection Authority)" in complaints
    assert "Postboks 458 Sentrum, 0105 Oslo, Norway" in complaints
    assert 'href="mailto:postkasse@datatilsynet.no"' in complaints
    assert 'href="https://www.datatilsynet.no"' in complaints
    assert "contact us first" in complaints


def test_the_cookie_page_lists_every_declared_cookie_with_its_lifetime(client, published):
    nb = page(client, "/privacy/cookies/")
    en = page(client, "/en/privacy/cookies/")
    for name in ("_moeteadm_session", "vern_consent", "vern_csrf", "vern_session"):
        assert f'data-label="Navn">{name}</td>' in nb and f'data-label="Name">{name}</td>' in en
    assert 'data-label="Duration">6 months</td>' in en and 'data-label="Varighet">6 måneder</td>' in nb
    assert 'data-label="Duration">Session</td>' in en and 'data-label="Varighet">Økt</td>' in nb
    assert 'data-label="Duration">8 hours</td>' in en and 'data-label="Varighet">8 timer</td>' in nb


def test_before_anything_is_published_the_page_says_so_and_shows_no_draft(client, db):
    response = client.get("/privacy/")
    assert response.status_code == 503
    assert "ikke publisert ennå" in response.content.decode()
    assert "Kaukus AS er behandlingsansvarlig" not in response.content.decode()


def test_the_site_keeps_serving_the_published_version_when_the_draft_changes(
    client, published, settings, tmp_path, default_source
):
    draft = tmp_path / "draft.yaml"
    draft.write_text(default_source.replace("support@kaukus.no", "personvern@kaukus.no"))
    settings.VERN_DECLARATION = draft
    html = page(client, "/en/privacy/")
    assert "support@kaukus.no" in html and "personvern@kaukus.no" not in html


@pytest.mark.parametrize("path", ["/privacy/", "/en/privacy/", "/privacy/cookies/", "/privacy/versions/"])
def test_policy_pages_can_only_be_read(client, published, path):
    response = client.post(path)
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_p18_the_policy_page_says_how_long_encrypted_backups_are_kept_in_both_languages(client, published):
    nb = " ".join(page_text(page(client, "/privacy/")))
    en = " ".join(page_text(page(client, "/en/privacy/")))
    assert "Sikkerhetskopiene våre er kryptert og lagres i 30 dager; deretter slettes de." in nb
    assert "Our backups are encrypted and kept for 30 days; then they are deleted." in en
