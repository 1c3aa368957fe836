"""``vern scan`` against vern's own site (clean) and against pages that break the consent rules
(each finding named), in headless Chromium (P6, P8, P13; CONSENT.md C1, C3, C5, C9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command

from conftest import CHROMIUM
from vern.audit.services import Actor
from vern.declaration.selectors import published_declaration
from vern.declaration.services import declaration_publish
from vern.scanner.crawl import ScanFailed, scan
from vern.scanner.findings import findings
from vern.scanner.tests import urls
from vern.testing import OtherSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def declared(default_source: str) -> Any:
    return declaration_publish(source=default_source, actor=Actor.cli())


def run(*addresses: str, **options: Any) -> tuple[int, str]:
    import io

    out = io.StringIO()
    try:
        call_command("scan", *addresses, chromium=CHROMIUM, stdout=out, **options)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_p8_vern_s_own_site_scans_clean_in_all_four_passes(live_server: Any, declared: Any) -> None:
    status, out = run(live_server.url + "/", pages=6)
    assert status == 0, out
    assert "CLEAN" in out and "6 page(s) in 4 pass(es): none, reject, accept, withdraw" in out
    result = scan(live_server.url + "/en/", pages=3, chromium=CHROMIUM)
    declaration = published_declaration()
    assert declaration is not None and findings(result, declaration) == []
    # What it saw is real: the consent cookie after a choice, with its declared lifetime; nothing before.
    assert "vern_consent" in result.passes["accept"].cookies and "vern_consent" in result.passes["reject"].cookies
    assert "vern_consent" not in result.passes["none"].cookies
    assert result.passes["none"].banner and set(result.passes["none"].buttons) == {"accept_all", "reject_all"}


@pytest.mark.urls("vern.scanner.tests.urls")
def test_c1_a_page_that_stores_and_calls_another_site_before_consent_fails_and_names_each(
    live_server: Any, declared: Any
) -> None:
    with OtherSite() as other:
        urls.OTHER["origin"] = other.origin
        status, out = run(live_server.url + "/scan-bad/", live_server.url + "/scan-bad/bare/", pages=2, format="json")
    assert status == 1
    report = json.loads(out)
    found = {(f["rule"], f["pass_name"], f["subject"]) for f in report["findings"]}
    assert ("undeclared-cookie", "none", "tracker_id") in found
    assert ("stored-before-consent", "none", "tracker_id") in found
    assert ("stored-before-consent", "reject", "tracker_id") in found
    assert ("wrong-lifetime", "none", "tracker_id") not in found  # undeclared: no lifetime to compare
    assert ("stored-before-consent", "none", "localStorage: tracker_state") in found
    assert ("third-party-before-consent", "none", f"{other.origin}/pixel.gif") in found
    assert ("third-party-before-consent", "reject", f"{other.origin}/pixel.gif") in found
    assert ("kept-after-withdrawal", "withdraw", f"{other.origin}/pixel.gif") in found
    assert ("no-way-back", "reject", "cookie settings") in found
    # Each names the response or page responsible.
    cookie = next(f for f in report["findings"] if f["subject"] == "tracker_id")
    assert cookie["source"] == live_server.url + "/scan-bad/"
    pixel = next(f for f in report["findings"] if f["rule"] == "third-party-before-consent")
    assert pixel["page"] == live_server.url + "/scan-bad/" and "image request" in pixel["detail"]


@pytest.mark.urls("vern.scanner.tests.urls")
def test_c3_c5_a_pre_ticked_toggle_and_a_smaller_reject_fail(live_server: Any, declared: Any) -> None:
    status, out = run(live_server.url + "/scan-preticked/", pages=1, format="html")
    assert status == 1 and out.startswith("<!doctype html>")
    assert "<td>Optional category switched on in advance</td><td><code>marketing</code></td>" in out
    assert "<td>Accept and Reject are not equal</td><td><code>Accept all / Reject all</code></td>" in out
    assert "font size" in out
    assert "<td>The banner is hard to use for some people</td><td><code>color-contrast</code>" in out  # grey on white


@pytest.mark.urls("vern.scanner.tests.urls")
def test_a_page_that_never_loads_a_redirect_loop_and_a_way_off_the_site_end_in_time_with_a_clear_message(
    live_server: Any, declared: Any
) -> None:
    import time

    started = time.monotonic()
    with pytest.raises(ScanFailed, match="could not be loaded"):
        scan(live_server.url + "/scan-slow/", pages=1, timeout=6, chromium=CHROMIUM)
    assert time.monotonic() - started < 11  # within the limit (and the browser's start), not the page's 12 s
    started = time.monotonic()
    with pytest.raises(ScanFailed, match="could not be loaded"):  # endless cookies from a script that never ends
        scan(live_server.url + "/scan-hostile/", pages=1, timeout=6, chromium=CHROMIUM)
    assert time.monotonic() - started < 15
    with pytest.raises(ScanFailed, match="ERR_TOO_MANY_REDIRECTS"):
        scan(live_server.url + "/scan-loop/", pages=1, timeout=30, chromium=CHROMIUM)
    with OtherSite() as other:
        urls.OTHER["origin"] = other.origin
        other.page = "<!doctype html><title>Elsewhere</title>"
        status, out = run(live_server.url + "/", live_server.url + "/scan-away/", pages=2)
    assert status == 2, out
    assert f"PARTIAL: pass none: {live_server.url}/scan-away/ led to another site ({other.origin})" in out


def test_a_site_that_cannot_be_reached_ends_with_a_clear_message(declared: Any) -> None:
    from vern.testing import free_port

    with pytest.raises(ScanFailed, match="could not be loaded"):
        scan(f"http://127.0.0.1:{free_port()}/", pages=1, timeout=20, chromium=CHROMIUM)
    status, _ = run(f"http://127.0.0.1:{free_port()}/", pages=1)
    assert status == 2
    with pytest.raises(ScanFailed, match="not a web address"):
        scan("file:///etc/passwd", chromium=CHROMIUM)


def test_p8_another_site_that_embeds_vern_s_banner_scans_clean_and_vern_is_not_a_third_party(
    live_server: Any, default_source: str
) -> None:
    with OtherSite() as site:
        declaration_publish(
            source=default_source.replace(
                "  consent_lifetime: 6 months\n",
                f"  consent_lifetime: 6 months\n  embedding_origins: [{site.origin}]\n",
            ),
            actor=Actor.cli(),
        )
        site.page = (
            '<!doctype html><html lang="en"><head><title>Meeting portal</title></head>'
            '<body><main><h1>Portal</h1></main><footer><a href="#" data-consent-open>Cookie settings</a></footer>'
            f'<script src="{live_server.url}/static/vern/consent.js" data-origin="{live_server.url}" '
            'data-lang="en" defer></script></body></html>'
        )
        status, out = run(site.origin + "/", pages=1)
        assert status == 0, out
        result = scan(site.origin + "/", pages=1, chromium=CHROMIUM)
    assert result.banner_origins == [live_server.url]
    assert result.passes["none"].banner and "vern_consent" in result.passes["reject"].cookies
