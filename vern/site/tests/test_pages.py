"""The public site shell: both languages by URL, accessible landmarks, strict headers, no cookies."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_is_in_norwegian_without_a_prefix_and_in_english_under_en(client):
    norwegian = client.get("/")
    english = client.get("/en/")
    assert norwegian.status_code == english.status_code == 200
    nb, en = norwegian.content.decode(), english.content.decode()
    assert '<html lang="nb">' in nb and "Bestill demo" in nb and "Møter, saksdokumenter og protokoller" in nb
    assert '<html lang="en">' in en and "Book demo" in en and "Meetings, case papers and minutes" in en
    assert norwegian["Content-Language"] == "nb" and english["Content-Language"] == "en"


def test_the_language_comes_from_the_url_alone_never_from_a_cookie_or_the_browser(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 200
    assert '<html lang="nb">' in response.content.decode()
    assert not response.cookies
    client.cookies["django_language"] = "en"
    assert '<html lang="nb">' in client.get("/").content.decode()


def test_each_page_links_to_itself_in_the_other_language(client):
    nb = client.get("/").content.decode()
    en = client.get("/en/").content.decode()
    assert 'href="/en/" hreflang="en" lang="en">English</a>' in nb
    assert 'href="/" hreflang="nb" lang="nb">Norsk</a>' in en
    assert '<link rel="alternate" hreflang="en" href="http://testserver/en/">' in nb
    assert '<link rel="alternate" hreflang="x-default" href="http://testserver/">' in en


def test_a_visitor_gets_no_cookie_at_all_on_the_public_pages(client):
    for path in ("/", "/en/", "/robots.txt", "/does-not-exist/"):
        assert not client.get(path).cookies, path


def test_the_page_has_landmarks_a_skip_link_and_one_main_heading(client):
    page = client.get("/").content.decode()
    assert '<a class="skip-link" href="#main">Gå til hovedinnholdet</a>' in page
    assert '<main id="main" tabindex="-1">' in page
    assert page.count("<h1") == 1
    assert '<nav class="site-nav" aria-label="Hovedmeny">' in page
    assert "<footer" in page and "<header" in page


def test_the_footer_links_to_the_privacy_policy_rights_and_cookie_settings(client):
    nb = client.get("/").content.decode()
    en = client.get("/en/").content.decode()
    assert 'href="/privacy/">Personvernerklæring</a>' in nb
    assert 'href="/privacy/requests/">Dine personvernrettigheter</a>' in nb
    assert re.search(
        r'href="/privacy/cookies/#settings" data-consent-open>Innstillinger for informasjonskapsler</a>', nb
    )
    assert 'href="/en/privacy/">Privacy policy</a>' in en
    assert "data-consent-open>Cookie settings</a>" in en


def test_p24_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp  # a nonce is added only on pages with an inline script
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_page_asks_for_nothing_from_another_site(client):
    page = client.get("/").content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls
    foreign = [
        url for url in urls if url.startswith(("http:", "https:", "//")) and not url.startswith("http://testserver/")
    ]
    assert foreign == []


def test_an_unknown_page_says_so_in_the_visitors_language(client):
    nb = client.get("/finnes-ikke/")
    en = client.get("/en/does-not-exist/")
    assert nb.status_code == en.status_code == 404
    assert "Fant ikke siden" in nb.content.decode()
    assert "Page not found" in en.content.decode() and '<html lang="en">' in en.content.decode()


def test_a_head_request_gets_headers_and_no_body(client):
    get = client.get("/")
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


def test_robots_keep_out_of_the_staff_console(client):
    robots = client.get("/robots.txt").content.decode()
    assert "Disallow: /staff/" in robots and "Disallow: /en/staff/" in robots


def test_a_form_posted_without_its_csrf_token_explains_what_happened(personas):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/staff/login/", {"email": "x@example.com", "password": "y"})
    assert response.status_code == 403
    assert "Skjemaet er utløpt" in response.content.decode()


def test_the_health_check_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_the_footer_names_the_controller_from_the_published_declaration(client, published):
    assert 'Kaukus AS · Org.nr. 922 140 251 · <a href="mailto:support@kaukus.no">' in client.get("/").content.decode()
    assert "Kaukus AS · Org. no. 922 140 251" in client.get("/en/").content.decode()
