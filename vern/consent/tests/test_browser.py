"""The banner in headless Chromium: what a visitor sees, what the browser stores, what it sends."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest

from conftest import VIEWPORTS, screenshot
from vern.accounts.testing import browser_second_factor
from vern.audit.services import Actor
from vern.consent.models import ConsentEvent
from vern.declaration.services import declaration_publish
from vern.testing import OtherSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("vern.consent.tests.urls")]
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
STATS = (
    "    - name: vern_visits\n      provider: Kaukus AS\n      category: statistics\n      duration: 1 hour\n"
    "      purpose: {nb: Teller besøk, en: Counts visits}\n      party: first\n"
    "    - name: vern_visits_server\n      provider: Kaukus AS\n      category: statistics\n      duration: 1 hour\n"
    "      purpose: {nb: Teller besøk, en: Counts visits}\n      party: first\n"
)


@pytest.fixture
def declared(default_source):
    source = default_source.replace("    - name: vern_session\n", STATS + "    - name: vern_session\n")
    return declaration_publish(source=source, actor=Actor.cli())


def until(page, expression: str, timeout: float = 5.0) -> None:
    """Poll a condition (Playwright's wait_for_function evaluates strings, which the CSP rightly forbids)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(50)


def names(page) -> set[str]:
    return {cookie["name"] for cookie in page.context.cookies()}


def test_c1_a_fresh_visit_stores_nothing_and_asks_nobody_else(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/consent-test/")
    assert page.locator("#vc-banner").is_visible()
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("window.statsRan") is None and page.evaluate("window.blockRan") is None
    assert page.evaluate("window.mktRan") is None
    assert page.locator("#pixel").count() == 0 and page.locator("iframe").count() == 0
    # The page holds a marketing pixel, an embed and scripts from elsewhere: none is asked for.
    assert page.watch.other_origins == [] and page.watch.console_errors == []
    screenshot(page, "consent-fresh-desktop")


def test_c3_the_first_layer_buttons_look_the_same_and_are_readable(browser_page, declared):
    page = browser_page
    for width in VIEWPORTS.values():
        page.set_viewport_size(width)
        page.goto(page.base + "/")
        measured = page.evaluate("""() => [...document.querySelectorAll('#vc-banner .vc-button')].map(b => {
            const s = getComputedStyle(b), r = b.getBoundingClientRect();
            const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
            const lum = c => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const [a, b2] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
            return {tag: b.tagName, w: Math.round(r.width), h: Math.round(r.height), weight: s.fontWeight,
                    size: s.fontSize, bg: s.backgroundColor, contrast: (a + 0.05) / (b2 + 0.05)};
        })""")
        assert len(measured) == 3
        first = measured[0]
        for button in measured:
            assert button["tag"] == "BUTTON"
            assert (button["w"], button["h"], button["weight"], button["size"], button["bg"]) == (
                first["w"],
                first["h"],
                first["weight"],
                first["size"],
                first["bg"],
            )
            assert button["contrast"] >= 4.5


def test_p6_rejecting_keeps_optional_scripts_and_cookies_out(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/consent-test/")
    page.evaluate("window.stayed = true")
    page.get_by_role("button", name="Avvis alle").click()
    page.wait_for_selector("#vc-banner", state="detached")
    assert page.evaluate("window.stayed") is True  # no reload
    assert names(page) == {"vern_consent"}
    assert page.evaluate("window.statsRan") is None
    page.reload()
    assert page.locator("#vc-banner").count() == 0 and names(page) == {"vern_consent"}
    assert list(ConsentEvent.objects.values_list("action", flat=True)) == ["reject_all"]


def test_p6_accepting_runs_the_blocked_scripts_at_once_with_their_nonce(browser_page, declared):
    page = browser_page
    page.route("https://pixel.example/**", lambda route: route.fulfill(status=204))
    page.route("https://video.example/**", lambda route: route.fulfill(status=200, body="<p>video</p>"))
    page.goto(page.base + "/consent-test/")
    page.evaluate("window.stayed = true")
    page.get_by_role("button", name="Godta alle").click()
    until(page, "window.statsRan === 1 && window.blockRan === true && window.mktRan === true")
    assert page.evaluate("window.stayed") is True
    assert page.locator("#gated").is_visible()
    assert page.locator("iframe[title='Demo video']").count() == 1
    # A lost CSP nonce would be refused here (the pixel and the frame are refused by the CSP's
    # img-src and frame-src unless the page declares them, which this test page does not).
    assert [e for e in page.watch.console_errors if "pixel.example" not in e and "video.example" not in e] == []
    assert {"vern_consent", "vern_visits"} <= names(page)
    page.reload()
    assert page.evaluate("window.statsRan") == 1 and "vern_visits_server" in names(page)
    assert ConsentEvent.objects.get().action == "accept_all"


def test_p7_c8_the_settings_open_from_every_page_by_keyboard_and_save_a_custom_choice(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/en/privacy/")
    link = page.get_by_role("link", name="Cookie settings")
    link.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cookie settings")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    dialog.get_by_role("switch", name="Statistics").check()
    dialog.get_by_role("button", name="Save choices").click()
    until(page, "!document.getElementById('vc-dialog').open")
    assert page.evaluate("document.activeElement.textContent") == "Cookie settings"  # focus returns
    event = ConsentEvent.objects.get()
    assert (event.action, event.granted, event.layer) == ("custom", ["statistics"], "settings")
    page.keyboard.press("Enter")
    assert dialog.get_by_text(event.consent_id).is_visible()  # the receipt
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert ConsentEvent.objects.count() == 1  # closing is not a choice


def test_after_choosing_in_settings_opened_from_the_banner_focus_lands_on_cookie_settings(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/")
    page.locator("#vc-banner").get_by_role("button", name="Innstillinger").click()
    page.get_by_role("dialog").get_by_role("button", name="Avvis alle").click()
    until(page, "!document.getElementById('vc-dialog').open")
    assert page.evaluate("document.activeElement.textContent") == "Innstillinger for informasjonskapsler"


def test_always_allow_on_an_embed_opens_the_settings_at_its_category(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/consent-test/")
    page.get_by_role("button", name="Tillat alltid").click()
    assert page.get_by_role("dialog").is_visible()
    assert page.evaluate("document.activeElement.value") == "marketing"
    assert ConsentEvent.objects.count() == 0  # nothing granted until the visitor saves


def test_a_forged_or_gpc_refused_cookie_runs_nothing(browser_page, declared, live_server):
    page = browser_page
    host = live_server.url.split("//")[1].split(":")[0]
    forged = "1." + "a" * 32 + ".1.marketing-statistics.1800000000.forgedsignature00"
    page.context.add_cookies([{"name": "vern_consent", "value": forged, "domain": host, "path": "/"}])
    page.goto(page.base + "/consent-test/")
    assert page.evaluate("window.statsRan") is None and page.evaluate("window.mktRan") is None
    assert page.locator("#vc-banner").is_visible()


def test_c16_a_returning_visitor_whose_browser_now_sends_gpc_runs_no_marketing(chromium, live_server, declared):
    first = chromium.new_context()
    page = first.new_page()
    page.goto(live_server.url + "/consent-test/")
    page.get_by_role("button", name="Godta alle").click()
    until(page, "window.statsRan === 1")
    cookies = first.cookies()
    first.close()
    second = chromium.new_context(extra_http_headers={"Sec-GPC": "1"})
    try:
        second.add_cookies(cookies)
        page = second.new_page()
        page.route("https://pixel.example/**", lambda route: route.abort())
        page.goto(live_server.url + "/consent-test/")
        until(page, "window.statsRan === 1")
        assert page.evaluate("window.mktRan") is None
    finally:
        second.close()


def test_p7_c9_withdrawing_takes_effect_at_once_and_expires_the_cookies(browser_page, declared):
    page = browser_page
    page.goto(page.base + "/consent-test/")
    page.get_by_role("button", name="Godta alle").click()
    until(page, "window.statsRan === 1")
    page.reload()  # the server now sets its HttpOnly statistics cookie too
    assert {"vern_visits", "vern_visits_server"} <= names(page)
    page.get_by_role("link", name="Innstillinger for informasjonskapsler").click()
    page.get_by_role("dialog").get_by_role("switch", name="Statistikk").uncheck()
    with page.expect_navigation():  # scripts that already run stop only with a fresh page
        page.get_by_role("dialog").get_by_role("button", name="Lagre valgene").click()
    assert "vern_visits" not in names(page) and "vern_visits_server" not in names(page)
    assert page.evaluate("window.statsRan") is None and page.evaluate("window.beats") is None
    page.wait_for_timeout(200)
    assert "vern_visits" not in names(page)
    assert list(ConsentEvent.objects.order_by("seq").values_list("action", flat=True)) == ["accept_all", "withdraw"]


def test_c19_without_javascript_the_banner_still_works(chromium, live_server, declared):
    context = chromium.new_context(java_script_enabled=False, viewport=VIEWPORTS["phone"])
    page = context.new_page()
    try:
        page.goto(live_server.url + "/en/")
        page.get_by_role("button", name="Settings").click()
        page.wait_for_url("**/en/privacy/cookies/#settings")
        page.locator("#vc-p-statistics").check()
        page.locator("#settings ~ form, form.vc-settings").first.get_by_role("button", name="Save choices").click()
        page.wait_for_load_state()
        assert page.locator("#vc-banner").count() == 0
        assert {c["name"] for c in context.cookies()} == {"vern_consent"}
        assert ConsentEvent.objects.get().granted == ["statistics"]
    finally:
        context.close()


def test_c16_a_browser_sending_gpc_cannot_switch_marketing_on(chromium, live_server, declared):
    context = chromium.new_context(extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/en/")
        page.get_by_role("button", name="Settings").click()
        assert page.get_by_role("switch", name="Marketing").is_disabled()
        page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
        until(page, "!document.getElementById('vc-dialog').open")
        granted = page.evaluate("vern.consent.get('marketing')"), page.evaluate("vern.consent.get('statistics')")
        assert granted == (False, True)
        assert set(ConsentEvent.objects.values_list("action", flat=True)) == {"gpc", "accept_all"}
    finally:
        context.close()


def test_c19_the_banner_causes_no_layout_shift(browser_page, declared):
    page = browser_page
    page.add_init_script("""window.__cls = 0; new PerformanceObserver(list => { for (const e of list.getEntries())
        if (!e.hadRecentInput) window.__cls += e.value; }).observe({type: 'layout-shift', buffered: true});""")
    for width in VIEWPORTS.values():
        page.set_viewport_size(width)
        page.goto(page.base + "/")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__cls") == 0
        assert page.locator("#vc-banner").is_visible()


def test_c17_axe_finds_nothing_wrong_with_the_banner_or_the_settings(browser_page, declared):
    page = browser_page
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        for path in ("/", "/en/"):
            page.goto(page.base + path)
            page.evaluate(AXE)
            result = page.evaluate("axe.run({include: [['#vc-banner']]}).then(r => r.violations.map(v => v.id))")
            assert result == [], (width, path, "banner", result)
            page.get_by_role("button", name="Innstillinger" if path == "/" else "Settings").click()
            result = page.evaluate("axe.run({include: [['#vc-dialog']]}).then(r => r.violations.map(v => v.id))")
            assert result == [], (width, path, "settings", result)
            screenshot(page, f"consent-settings-{path.strip('/') or 'nb'}-{width}")


def test_c11_a_new_cookie_in_the_declaration_brings_the_banner_back(browser_page, declared, default_source):
    page = browser_page
    page.goto(page.base + "/")
    page.get_by_role("button", name="Godta alle").click()
    page.wait_for_selector("#vc-banner", state="detached")
    page.reload()
    assert page.locator("#vc-banner").count() == 0
    declaration_publish(source=declared.source.replace("Kaukus selger ikke", "Kaukus selger aldri"), actor=Actor.cli())
    page.reload()
    assert page.locator("#vc-banner").count() == 0  # wording only: no new question
    declaration_publish(
        source=declared.source.replace("      duration: 1 hour\n", "      duration: 2 hours\n", 1), actor=Actor.cli()
    )
    page.reload()
    assert page.locator("#vc-banner").is_visible()


def test_another_site_of_the_company_embeds_the_same_banner_and_proof(browser_page, live_server, default_source):
    with OtherSite() as site:
        other = site.origin
        declaration_publish(
            source=default_source.replace(
                "  consent_lifetime: 6 months\n", f"  consent_lifetime: 6 months\n  embedding_origins: [{other}]\n"
            ),
            actor=Actor.cli(),
        )
        vern_origin = live_server.url  # "localhost": cookies of the two sites never mix
        site.page = (
            '<!doctype html><html lang="en"><head><title>Meeting portal</title></head>'
            "<body><main><h1>Portal</h1></main>"
            f'<script src="{vern_origin}/static/vern/consent.js" data-origin="{vern_origin}" data-lang="en" defer>'
            "</script></body></html>"
        )
        page = browser_page
        page.goto(other + "/")
        page.get_by_role("button", name="Reject all").click()
        page.wait_for_selector("#vc-banner", state="detached")
        cookies = [c for c in page.context.cookies() if c["name"] == "vern_consent"]
        assert [c["domain"] for c in cookies] == ["127.0.0.1"]
        event = ConsentEvent.objects.get()
        assert (event.origin, event.layer, event.action) == (other, "embed", "reject_all")
        page.reload()
        page.wait_for_load_state("networkidle")
        assert page.locator("#vc-banner").count() == 0
        assert page.evaluate("vern.consent.get('statistics')") is False


def test_p8_p13_every_cookie_the_site_really_sets_is_declared_with_its_real_lifetime(browser_page, published):
    """Walk the site as a visitor and as staff; compare each cookie the browser holds with the declaration."""
    import datetime as dt
    import time as clock

    from vern.accounts.services import staff_create
    from vern.declaration.durations import Duration
    from vern.declaration.selectors import declaration_of

    staff_create(
        email="ada@example.com",
        name="Ada",
        roles=["admin"],
        password="correct horse battery staple 42",
        actor=Actor.cli(),
    )
    page = browser_page
    seen: dict[str, float] = {}
    for path in ("/", "/en/", "/privacy/", "/privacy/cookies/"):
        page.goto(page.base + path)
    page.locator("#vc-banner").get_by_role("button", name="Godta alle").click()
    until(page, "document.cookie.includes('vern_consent=')")
    page.goto(page.base + "/staff/login/")
    page.get_by_label("E-postadresse").fill("ada@example.com")
    page.get_by_label("Passord").fill("correct horse battery staple 42")
    page.get_by_role("button", name="Logg inn").click()
    browser_second_factor(page, "ada@example.com")
    page.wait_for_url(page.base + "/staff/")
    now = clock.time()
    for cookie in page.context.cookies():
        seen[cookie["name"]] = cookie["expires"]
    declared = {c.name: c for c in declaration_of(published).cookies.cookies}
    assert set(seen) == {"vern_consent", "vern_csrf", "vern_session"}
    for name, expires in seen.items():
        assert name in declared, f"{name} is set but not declared"
        duration = Duration.parse(declared[name].duration, allow_session=True)
        if duration.is_session:
            assert expires == -1, f"{name} should end with the browser session"
        else:
            lifetime = expires - now
            start = dt.datetime.fromtimestamp(now, tz=dt.UTC)
            expected = (duration.after(start) - start).total_seconds()
            assert abs(lifetime - expected) < 120, f"{name} lives {lifetime:.0f}s, declared {declared[name].duration}"


TAGS = (
    "  tags:\n    - {kind: google, id: G-TEST1234, category: statistics}\n"
    "    - {kind: clarity, id: abcd1234, category: statistics}\n"
)


def test_c15_declared_tags_wait_for_consent_and_hear_the_choice_in_their_own_consent_signal(
    browser_page, default_source
):
    """Google Consent Mode v2 starts denied before any tag runs, and grants analytics only after
    consent to statistics; Clarity gets the same choice through its consent API. Observed in the
    tags' own queues (dataLayer, clarity.q) and in the requests the browser makes; the tags'
    servers are not reached (the requests are stopped at the browser), nothing stands in for them."""
    source = default_source.replace("  consent_lifetime: 6 months\n", "  consent_lifetime: 6 months\n" + TAGS)
    declaration_publish(source=source, actor=Actor.cli())
    page = browser_page
    asked: list[str] = []

    def stop(route) -> None:
        asked.append(route.request.url)
        route.abort()

    page.route("https://www.googletagmanager.com/**", stop)
    page.route("https://www.clarity.ms/**", stop)
    page.goto(page.base + "/en/")
    page.wait_for_timeout(300)
    layer = page.evaluate("window.dataLayer.map(a => Array.from(a))")
    assert layer[0][:2] == ["consent", "default"] and layer[0][2]["analytics_storage"] == "denied"
    assert layer[0][2]["ad_storage"] == "denied" and not any(item[0] == "config" for item in layer)
    assert asked == [] and page.evaluate("typeof window.clarity") == "undefined"

    page.locator("#vc-banner").get_by_role("button", name="Settings").click()
    dialog = page.get_by_role("dialog", name="Cookie settings")
    dialog.get_by_role("switch", name="Statistics").check()
    dialog.get_by_role("button", name="Save choices").click()
    until(page, "window.dataLayer.some(a => a[0] === 'config')")
    layer = page.evaluate("window.dataLayer.map(a => Array.from(a))")
    update = [item[2] for item in layer if item[:2] == ["consent", "update"]][-1]
    assert update["analytics_storage"] == "granted" and update["ad_storage"] == "denied"
    assert update["ad_user_data"] == "denied" and update["ad_personalization"] == "denied"
    assert ["config", "G-TEST1234"] in [item[:2] for item in layer]
    until(page, "window.clarity && window.clarity.q && window.clarity.q.some(a => a[0] === 'consentv2')")
    clarity = page.evaluate("window.clarity.q.map(a => Array.from(a))")
    assert ["consentv2", {"analytics_Storage": "granted", "ad_Storage": "denied"}] in clarity
    page.wait_for_timeout(300)
    assert any(url.startswith("https://www.googletagmanager.com/gtag/js?id=G-TEST1234") for url in asked)
    assert any(url == "https://www.clarity.ms/tag/abcd1234" for url in asked)

    # Withdrawn: a tag that ran cannot be unloaded, so the page loads again, without it.
    before = len(asked)
    page.get_by_role("link", name="Cookie settings").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Reject all").click()
    page.wait_for_timeout(300)
    layer = page.evaluate("window.dataLayer.map(a => Array.from(a))")
    assert [item[2]["analytics_storage"] for item in layer if item[0] == "consent"] == ["denied", "denied"]
    assert not any(item[0] == "config" for item in layer)
    assert page.evaluate("typeof window.clarity") == "undefined" and len(asked) == before


def test_c11_one_choice_covers_the_company_s_sites_under_the_declared_parent_domain(
    live_server, settings, default_source
):
    """The default declaration sets vern_consent on .kaukus.no: a choice made on the website holds
    on the møteadm application under the same parent domain, and nowhere else. The browser runs
    with both names pointing at this server (Chromium's host resolver rules)."""
    import threading
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, CHROMIUM_ARGS

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "www.kaukus.no", "app.kaukus.no"]
    declaration_publish(source=default_source, actor=Actor.cli())
    port = urlsplit(live_server.url).port
    seen: dict[str, object] = {}

    def browse() -> None:  # a browser of its own, on a thread of its own (the suite's has no such rules)
        with sync_playwright() as playwright:
            rules = "--host-resolver-rules=MAP *.kaukus.no 127.0.0.1"
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, rules])
            try:
                page = browser.new_page()
                page.goto(f"http://www.kaukus.no:{port}/en/")
                seen["asked on the website"] = page.locator("#vc-banner").is_visible()
                page.locator("#vc-banner").get_by_role("button", name="Reject all").click()
                page.wait_for_selector("#vc-banner", state="detached")
                seen["domain"] = [c["domain"] for c in page.context.cookies() if c["name"] == "vern_consent"]
                page.goto(f"http://app.kaukus.no:{port}/en/")
                seen["asked on the application"] = page.locator("#vc-banner").count() > 0
                page.goto(f"http://localhost:{port}/en/")
                seen["asked elsewhere"] = page.locator("#vc-banner").count() > 0
            finally:
                browser.close()

    thread = threading.Thread(target=browse)
    thread.start()
    thread.join(timeout=120)
    assert seen == {
        "asked on the website": True,
        "domain": [".kaukus.no"],
        "asked on the application": False,
        "asked elsewhere": True,
    }
    assert ConsentEvent.objects.get().action == "reject_all"
