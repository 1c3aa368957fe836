"""What a page view leaves behind (P4, P21), and what is refused without being stored."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.analytics import capture
from vern.analytics.buffer import BUFFER
from vern.analytics.models import Dropped, Hit
from vern.analytics.tests.doors import FIREFOX
from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.testing import assert_declared, body_allowed

pytestmark = pytest.mark.django_db
OSLO = ZoneInfo("Europe/Oslo")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def stored() -> list[Hit]:
    BUFFER.flush()
    return list(Hit.objects.order_by("id"))


def dropped() -> dict[str, int]:
    BUFFER.flush()
    return {row.reason: row.count for row in Dropped.objects.all()}


def test_p4_a_page_view_keeps_the_page_the_referrer_the_browser_and_a_shortened_ip(send):
    status, _ = send(
        {
            "k": "v",
            "u": "/contact/?email=kari%40example.no&utm_source=x#top",
            "r": "https://www.google.com/search?q=kari",
        },
        ip="203.0.113.77",
    )

    assert status == 204
    [hit] = stored()
    assert hit.kind == Hit.Kind.PAGEVIEW
    assert hit.path == "/contact/"  # no query string (it may carry personal data), no fragment
    assert (hit.referrer_host, hit.referrer_path) == ("google.com", "/search")  # the search words are gone
    assert (hit.browser, hit.browser_version, hit.os, hit.os_version, hit.device) == (
        "Firefox",
        "133",
        "Windows",
        "10",
        "desktop",
    )
    assert hit.ip == "203.0.113.0"
    assert hit.at is not None and len(hit.visitor) == 32 and hit.consent_id == ""


def test_p4_an_ipv6_address_keeps_only_its_first_48_bits(send):
    send({"k": "v", "u": "/"}, ip="2001:db8:85a3:1234:5678:8a2e:370:7334")
    assert stored()[0].ip == "2001:db8:85a3::"


def test_p4_the_time_a_page_was_looked_at_is_kept_as_its_duration(send):
    send({"k": "v", "u": "/en/"}, **{"User-Agent": IPHONE})
    send({"k": "e", "u": "/en/", "e": 41_500}, **{"User-Agent": IPHONE})

    view, engaged = stored()
    assert (engaged.kind, engaged.engaged_ms, engaged.path) == (Hit.Kind.ENGAGEMENT, 41_500, "/en/")
    assert engaged.visitor == view.visitor
    assert view.device == engaged.device == "mobile"


def republish(source: str, old: str, new: str) -> None:
    assert old in source
    declaration_publish(source=source.replace(old, new), actor=Actor.cli(), note="analytics changed")
    capture.forget_settings()


def test_query_parameters_the_declaration_names_are_kept_and_no_others(send, default_source):
    republish(default_source, "query_parameters: []", "query_parameters: [utm_source]")

    send({"k": "v", "u": "/?utm_source=newsletter&email=kari%40example.no&utm_medium=mail"})
    assert stored()[0].path == "/?utm_source=newsletter"


def test_a_visit_from_the_site_itself_has_no_referrer(send):
    send({"k": "v", "u": "/demo/", "r": "http://testserver/contact/?name=Kari"})
    hit = stored()[0]
    assert (hit.referrer_host, hit.referrer_path) == ("", "")


def test_p21_without_consent_no_cookie_is_set_and_the_visitor_is_a_daily_hash(send):
    status, headers = send({"k": "v", "u": "/"}, Cookie="vern_visitor=" + "a" * 32)

    assert status == 204 and "Set-Cookie" not in headers
    hit = stored()[0]
    assert hit.consent_id == "" and hit.visitor != "a" * 32


def test_without_a_cookie_the_same_browser_on_the_same_network_is_one_visitor_today(send):
    send({"k": "v", "u": "/"}, ip="198.51.100.10")
    send({"k": "v", "u": "/demo/"}, ip="198.51.100.200")  # same /24
    send({"k": "v", "u": "/"}, ip="198.51.101.10")  # another network
    a, b, c = stored()
    assert a.visitor == b.visitor != c.visitor


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"k": "v", "u": "/caf\xe9/"}', 400),  # not UTF-8 (Latin-1)
        (b'\xef\xbb\xbf{"k": "v", "u": "/"}', 400),  # a byte-order mark is not JSON
        (b'{"k": "v", "u": "/"} {"k": "v", "u": "/"}', 400),  # two beacons in one body
        (b"[" * 1000 + b"]" * 1000, 400),  # nested deeper than any parser goes, within the size limit
        (b'{"k": "v", "u": "/", "x": ' + b"[" * 100 + b"]" * 100 + b"}", 400),  # nested, and not asked for
        ({"k": "v"}, 400),  # no page
        ({"k": "x", "u": "/"}, 400),
        ({"k": "v", "u": "https://elsewhere.example/"}, 400),
        ({"k": "v", "u": "//elsewhere.example/"}, 400),
        ({"k": "v", "u": "/", "e": -5}, 400),
        ({"k": "e", "u": "/", "e": 0}, 400),
        ({"k": "e", "u": "/", "e": "5"}, 400),
        ({"k": "e", "u": "/", "e": 10**12}, 400),
        ({"k": "v", "u": "/", "e": 1_800_000}, 400),  # a page view carries no engaged time
        ({"k": "v", "u": "/", "r": "https://x.example/\u0000"}, 400),  # a database cannot store NUL
        ({"k": "v", "u": "/", "r": "https://x.example/\ud800"}, 400),  # nor a lone surrogate
        ({"k": "v", "u": "/\u001b[2J"}, 400),  # nor control characters
        ({"k": "v", "u": "/", "email": "kari@example.no"}, 400),  # nothing beyond what is asked
        ({"k": "v", "u": "/", "r": "https://x.example/" + "a" * 3000}, 413),  # huge referrer
        ({"k": "v", "u": "/" + "a" * 3000}, 413),
        (b'{"k": "v", "u": "/", "r": "' + b"a" * 4000 + b'"}', 413),  # oversized
        ({"k": "v", "u": "/no-such-page/"}, 422),
        ({"k": "v", "u": "/staff/"}, 422),  # the console is not counted
        ({"k": "v", "u": "/api/consent/"}, 422),
    ],
)
def test_bad_beacons_are_refused_counted_and_never_stored(send, payload, status):
    assert send(payload)[0] == status
    assert stored() == []
    assert sum(dropped().values()) == 1


def test_a_beacon_from_another_site_is_refused(send):
    assert send({"k": "v", "u": "/"}, Origin="https://evil.example")[0] == 403
    assert send({"k": "v", "u": "/"}, **{"Sec-Fetch-Site": "cross-site"})[0] == 403
    assert stored() == [] and dropped() == {"foreign": 2}


def test_a_huge_user_agent_is_not_a_browser(send):
    assert send({"k": "v", "u": "/"}, **{"User-Agent": "Mozilla/5.0 " + "x" * 5000})[0] == 204
    assert stored() == [] and dropped() == {"bot": 1}


@pytest.mark.parametrize(
    "agent",
    [
        GOOGLEBOT,
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "",
    ],
)
def test_bots_are_counted_by_name_but_never_stored(send, agent):
    assert send({"k": "v", "u": "/"}, **{"User-Agent": agent})[0] == 204  # a bot learns nothing
    assert stored() == []
    BUFFER.flush()
    [row] = Dropped.objects.all()
    assert row.reason == "bot" and row.count == 1 and row.agent


def test_a_flood_from_one_network_is_cut_off_at_the_rate_limit(send, settings, time_machine):
    time_machine.move_to("2030-03-10 12:00:05Z", tick=False)  # one minute's window throughout
    settings.VERN_ANALYTICS_RATE = 5
    statuses = [send({"k": "v", "u": "/"}, ip=f"192.0.2.{n}")[0] for n in range(8)]
    assert statuses == [204] * 5 + [429] * 3
    assert send({"k": "v", "u": "/"}, ip="192.0.3.1")[0] == 204  # another network is not affected
    assert len(stored()) == 6 and dropped() == {"rate": 3}


def test_only_post_is_allowed(client, published):
    response = client.get("/api/analytics/event")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_the_image_counts_a_page_view_for_a_browser_without_javascript(client, published):
    response = client.get(
        "/api/analytics/pixel.gif",
        {"u": "/en/contact/", "r": "https://duckduckgo.com/?q=kaukus"},
        HTTP_USER_AGENT=FIREFOX,
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    [hit] = stored()
    assert (hit.source, hit.path, hit.referrer_host, hit.ip) == (
        Hit.Source.NO_SCRIPT,
        "/en/contact/",
        "duckduckgo.com",
        "203.0.113.0",
    )


def test_pages_carry_the_beacon_and_the_staff_console_does_not(client, personas, published):
    page = client.get("/en/").content.decode()
    assert 'data-endpoint="/api/analytics/event"' in page
    assert '<noscript><img class="analytics-pixel" src="/api/analytics/pixel.gif?u=%2Fen%2F' in page
    staff_login(client, personas.privacy_officer)
    assert "beacon.js" not in client.get("/en/staff/").content.decode()


def test_with_analytics_switched_off_nothing_is_counted_and_pages_carry_no_beacon(send, client, default_source):
    republish(default_source, "  enabled: true\n  query_parameters", "  enabled: false\n  query_parameters")

    assert send({"k": "v", "u": "/"})[0] == 404
    assert stored() == [] and dropped() == {}
    assert "beacon.js" not in client.get("/").content.decode()


def test_a_hit_the_database_refuses_is_dropped_alone_and_the_others_are_written(send):
    send({"k": "v", "u": "/"})
    BUFFER.add_hit((timezone.now(), 1, 1, "x" * 32, "", "", "/\ud800", "", "", "", "", "", "", "", "", 0, *[""] * 6))
    send({"k": "v", "u": "/demo/"})

    assert [h.path for h in stored()] == ["/", "/demo/"]
    assert BUFFER.lost == 1 and BUFFER.pending == 0


def test_the_hash_under_yesterdays_salt_is_kept_only_in_the_first_half_hour_of_a_day(send, time_machine):
    time_machine.move_to(dt.datetime(2030, 3, 10, 0, 10, tzinfo=OSLO), tick=False)
    send({"k": "v", "u": "/"})
    time_machine.move_to(dt.datetime(2030, 3, 10, 0, 40, tzinfo=OSLO), tick=False)
    send({"k": "v", "u": "/"})

    early, late = stored()
    assert len(early.visitor_prev) == 32 and early.visitor_prev != early.visitor
    assert late.visitor_prev == "" and late.visitor == early.visitor  # the same day's salt


def test_what_the_description_forbids_is_refused_and_its_examples_are_counted(send, client):
    spec = client.get("/api/openapi.json").json()
    examples = spec["components"]["schemas"]["BeaconRequest"]["examples"]
    for example in examples:
        assert body_allowed(spec, "BeaconRequest", example)
        assert send(example, ip="198.51.100.1")[0] == 204
    forbidden = [
        {"k": "e", "u": "/"},  # engaged time without the time
        {"k": "v", "u": "/", "e": 5},  # a page view with it
        {"k": "e", "u": "/", "e": 1.5},
        {"k": "v", "u": "/en/\n"},
        {"k": "v", "u": "/", "x": 1},
        {"k": "v", "u": "/", "r": None},
        {"k": "g", "u": "/"},  # a goal without its name
        {"k": "v", "u": "/", "g": "demo"},  # a page view with one
        {"k": "g", "u": "/", "g": "a goal"},
    ]
    for body in forbidden:
        assert not body_allowed(spec, "BeaconRequest", body), body
        assert send(body)[0] == 400, body
    assert len(stored()) == len(examples)


def test_every_answer_the_image_gives_is_declared(client, published):
    spec = client.get("/api/openapi.json").json()
    answers = [
        client.get("/api/analytics/pixel.gif", {"u": "/en/"}, HTTP_USER_AGENT=FIREFOX),
        client.get("/api/analytics/pixel.gif", {"u": "//evil.example/"}, HTTP_USER_AGENT=FIREFOX),
        client.get("/api/analytics/pixel.gif", HTTP_USER_AGENT=FIREFOX),
        client.get("/api/analytics/pixel.gif", {"u": "/no-such-page/"}, HTTP_USER_AGENT=FIREFOX),
        client.get("/api/analytics/pixel.gif", {"u": "/"}, HTTP_USER_AGENT=FIREFOX, HTTP_SEC_FETCH_SITE="cross-site"),
    ]
    assert [answer.status_code for answer in answers] == [200, 400, 400, 422, 403]
    for answer in answers:
        assert_declared(spec, "/api/analytics/pixel.gif", "get", answer)


def test_a_forked_web_process_keeps_the_beacons_rate_limit_flush():
    assert capture._window.flush in BUFFER._alongside
    child = os.fork()
    if child == 0:  # gunicorn's worker, forked after the app was imported
        os._exit(0 if capture._window.flush in BUFFER._alongside else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the worker would never add a due batch"
