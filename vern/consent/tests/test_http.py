"""The banner's form, the JSON API, and what every response does with cookies (C1-C9, C16, P6-P8, P13)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.template import Context, RequestContext, Template, TemplateSyntaxError
from django.test import Client, RequestFactory

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.consent.choice import COOKIE_NAME, Choice
from vern.consent.models import ConsentEvent
from vern.consent.views import form_token
from vern.declaration.services import declaration_publish
from vern.testing import assert_declared, body_allowed

pytestmark = pytest.mark.django_db
# Six calendar months in Oslo: 181 to 184 days, an hour less or more across summer time.
SIX_MONTHS = range(181 * 86400 - 3600, 184 * 86400 + 3601)
STATS_COOKIE = (
    "    - name: vern_visits\n      provider: Kaukus AS\n      category: statistics\n      duration: 6 months\n"
    "      purpose: {nb: Kjenner igjen besøk, en: Recognises visits}\n      party: first\n"
)


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def form(choice: str, *, categories=(), token: str | None = None, revision: int = 1, next_path: str = "/"):
    data: dict[str, Any] = {
        "choice": choice,
        "token": form_token() if token is None else token,
        "revision": str(revision),
        "next": next_path,
        "layer": "banner",
    }
    if categories:
        data["categories"] = list(categories)
    return data


def post_choice(client, data, origin="http://testserver"):
    return client.post("/consent/", data, HTTP_ORIGIN=origin) if origin else client.post("/consent/", data)


def publish(source: str):
    return declaration_publish(source=source, actor=Actor.cli())


def test_c1_a_first_visit_shows_the_banner_and_sets_no_cookie(client, published):
    response = client.get("/")
    html = response.content.decode()
    assert 'id="vc-banner"' in html and "Godta alle" in html and "Avvis alle" in html
    assert not response.cookies
    assert "Cookie" in response["Vary"] and "Sec-GPC" in response["Vary"]


def test_p6_the_banner_offers_exactly_the_declared_categories_with_necessary_locked(client, published):
    html = client.get("/en/").content.decode()
    dialog = html.split('id="vc-dialog"', 1)[1]
    values = re.findall(r'name="categories" value="([a-z_]+)"', dialog)
    assert values == ["necessary", "preferences", "statistics", "marketing"]
    necessary = re.search(r'<input[^>]*value="necessary"[^>]*>', dialog).group(0)
    assert "checked" in necessary and "disabled" in necessary
    for category in ("preferences", "statistics", "marketing"):
        toggle = re.search(rf'<input[^>]*value="{category}"[^>]*>', dialog).group(0)
        assert "checked" not in toggle and "disabled" not in toggle  # C4: off until chosen


def test_p8_the_settings_show_each_cookie_with_provider_and_lifetime(client, published):
    dialog = client.get("/en/").content.decode().split('id="vc-dialog"', 1)[1]
    assert "<code>_moeteadm_session</code></td><td>Kaukus AS</td><td>Session</td>" in dialog
    assert "<code>vern_consent</code></td><td>Kaukus AS</td><td>6 months</td>" in dialog


def test_p13_accepting_sets_the_consent_cookie_for_exactly_its_declared_lifetime(client, published):
    response = post_choice(client, form("accept_all", next_path="/en/"))
    assert response.status_code == 303 and response["Location"] == "/en/"
    cookie = response.cookies[COOKIE_NAME]
    assert int(cookie["max-age"]) in SIX_MONTHS
    assert cookie["samesite"] == "Lax" and cookie["path"] == "/" and not cookie["httponly"]
    assert Choice.decode(cookie.value).granted == {"marketing", "preferences", "statistics"}
    event = ConsentEvent.objects.get()
    assert (event.action, event.page_path, event.layer) == ("accept_all", "/en/", "banner")
    assert 'id="vc-banner"' not in client.get("/").content.decode()


def test_c10_a_refusal_is_remembered_as_long_as_consent(client, published):
    response = post_choice(client, form("reject_all"))
    assert int(response.cookies[COOKIE_NAME]["max-age"]) in SIX_MONTHS
    assert 'id="vc-banner"' not in client.get("/").content.decode()
    assert ConsentEvent.objects.get().granted == []


def test_c7_without_a_choice_the_site_still_works(client, published):
    for path in ("/", "/en/", "/privacy/", "/privacy/cookies/"):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "data,origin,status,message",
    [
        (form("accept_all", token=""), "http://testserver", 403, "Skjemaet er utløpt"),
        (form("accept_all", token="forged:token"), "http://testserver", 403, "Skjemaet er utløpt"),
        (form("accept_all"), "https://evil.example", 403, "Valget må gjøres på våre egne sider."),
        (form("accept_all"), "", 403, "Valget må gjøres på våre egne sider."),
        (form("custom", categories=["tracking"]), "http://testserver", 400, "Det er ikke en kategori"),
        (form("accept_all", revision=9), "http://testserver", 400, "Last inn siden på nytt"),
    ],
)
def test_a_bad_consent_post_is_refused_in_the_visitors_language_and_writes_nothing(
    client, published, data, origin, status, message
):
    response = post_choice(client, data, origin=origin)
    assert response.status_code == status
    assert message in response.content.decode()
    assert COOKIE_NAME not in response.cookies
    assert not ConsentEvent.objects.exists()


def test_without_javascript_settings_leads_to_the_settings_form_on_the_cookie_page(client, published):
    response = post_choice(client, form("settings"))
    assert response.status_code == 303 and response["Location"] == "/privacy/cookies/#settings"
    page = client.get("/privacy/cookies/").content.decode()
    settings_section = page.split('id="settings"', 1)[1]
    assert 'name="choice" value="save"' in settings_section and 'value="statistics"' in settings_section


def test_the_settings_show_the_visitor_their_receipt(client, published):
    post_choice(client, form("custom", categories=["statistics"]))
    event = ConsentEvent.objects.get()
    dialog = client.get("/en/").content.decode().split('id="vc-dialog"', 1)[1]
    assert f"<code data-vc-id>{event.consent_id}</code>" in dialog
    toggle = re.search(r'<input[^>]*value="statistics"[^>]*>', dialog).group(0)
    assert "checked" in toggle


def api(client, body, origin="http://testserver", **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/api/consent/", raw, content_type="application/json", HTTP_ORIGIN=origin, **extra)


def test_the_json_api_records_a_choice_and_sets_the_cookie(client, published):
    response = api(
        client, {"choice": "custom", "categories": ["statistics"], "revision": 1, "lang": "en", "path": "/en/privacy/"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["granted"] == ["statistics"] and body["refused"] == ["marketing", "preferences"]
    assert Choice.decode(response.cookies[COOKIE_NAME].value).consent_id == body["consent_id"]
    event = ConsentEvent.objects.get()
    assert (event.language, event.page_path) == ("en", "/en/privacy/")


@pytest.mark.parametrize(
    "body,status,error",
    [
        ({"choice": "custom", "categories": ["tracking"], "revision": 1}, 422, "category"),
        ({"choice": "accept_all", "revision": 2}, 422, "revision"),
        ({"choice": "maybe", "revision": 1}, 422, "choice"),
        (b"{not json", 400, "request"),
        ({"choice": "custom", "categories": "statistics", "revision": 1}, 400, "request"),
        ({"choice": "custom", "categories": [{"id": "statistics"}], "revision": 1}, 400, "request"),
        ({"choice": "accept_all", "revision": 1, "gpc": {}}, 400, "request"),
        ({"choice": "accept_all", "revision": True}, 400, "request"),
        ({"choice": ["accept_all"], "revision": 1}, 400, "request"),
        (b'{"pad": "' + b"x" * 5000 + b'"}', 413, "request"),
    ],
)
def test_the_api_refuses_bad_input_clearly_and_writes_nothing(client, published, body, status, error):
    response = api(client, body)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["message"]
    assert not ConsentEvent.objects.exists()


def test_the_api_answers_only_post_and_says_so(client, published):
    response = client.get("/api/consent/", HTTP_ORIGIN="http://testserver")
    assert response.status_code == 405 and "POST" in response["Allow"]


def test_the_api_is_rate_limited_per_network(client, published):
    for _ in range(60):
        api(client, {"choice": "reject_all", "revision": 1})
    blocked = api(client, {"choice": "reject_all", "revision": 1})
    assert blocked.status_code == 429 and blocked.json()["error"] == "throttled"
    assert ConsentEvent.objects.count() == 60


def test_the_rate_limit_is_a_setting(client, published, settings):
    settings.VERN_CONSENT_RATE = 2
    statuses = [api(client, {"choice": "reject_all", "revision": 1}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_only_declared_sites_may_embed_the_banner(client, default_source):
    publish(
        default_source.replace(
            "  consent_lifetime: 6 months\n",
            "  consent_lifetime: 6 months\n  embedding_origins: [https://meeting.example]\n",
        )
    )
    preflight = client.options("/api/consent/", HTTP_ORIGIN="https://meeting.example")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://meeting.example"
    response = api(client, {"choice": "reject_all", "revision": 1}, origin="https://meeting.example")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "https://meeting.example"
    assert COOKIE_NAME not in response.cookies  # the other site keeps the cookie on its own domain
    assert response.json()["cookie"]
    assert ConsentEvent.objects.get().origin == "https://meeting.example"
    assert ConsentEvent.objects.get().layer == "embed"
    foreign = api(client, {"choice": "accept_all", "revision": 1}, origin="https://other.example")
    assert foreign.status_code == 403 and "Access-Control-Allow-Origin" not in foreign
    config = client.get("/api/consent/config?lang=en", HTTP_ORIGIN="https://meeting.example")
    assert config.status_code == 200 and config.json()["content"]["buttons"]["accept_all"] == "Accept all"
    assert client.get("/api/consent/config?lang=en", HTTP_ORIGIN="https://other.example").status_code == 403


def test_c9_withdrawal_expires_the_categorys_cookies_httponly_ones_too(client, default_source):
    publish(default_source.replace("    - name: vern_session\n", STATS_COOKIE + "    - name: vern_session\n"))
    post_choice(client, form("accept_all"))
    client.cookies["vern_visits"] = "returning"  # set by a statistics script, possibly HttpOnly
    response = post_choice(client, form("custom", categories=["preferences"]))
    assert response.cookies["vern_visits"]["max-age"] == 0 and response.cookies["vern_visits"].value == ""
    assert ConsentEvent.objects.order_by("-seq").first().action == "withdraw"


def test_c9_every_response_expires_and_refuses_cookies_the_visitor_has_not_allowed(client, default_source):
    publish(default_source.replace("    - name: vern_session\n", STATS_COOKIE + "    - name: vern_session\n"))
    client.cookies["vern_visits"] = "left over"
    response = client.get("/")
    assert response.cookies["vern_visits"]["max-age"] == 0


def test_c16_a_gpc_browser_cannot_switch_marketing_on(client, published):
    page = client.get("/en/", HTTP_SEC_GPC="1").content.decode()
    toggle = re.search(r'<input[^>]*value="marketing"[^>]*>', page.split('id="vc-dialog"', 1)[1]).group(0)
    assert "disabled" in toggle and "Global Privacy Control" in page
    response = client.post("/consent/", form("accept_all"), HTTP_ORIGIN="http://testserver", HTTP_SEC_GPC="1")
    assert "marketing" not in Choice.decode(response.cookies[COOKIE_NAME].value).granted
    assert set(ConsentEvent.objects.values_list("action", flat=True)) == {"gpc", "accept_all"}


def render(template: str, request) -> str:
    return Template("{% load consent %}" + template).render(RequestContext(request, {}))


def consented_request(client, published, choice: str, categories=()):
    response = post_choice(client, form(choice, categories=categories))
    request = RequestFactory().get("/")
    if COOKIE_NAME in response.cookies:
        request.COOKIES[COOKIE_NAME] = response.cookies[COOKIE_NAME].value
    from vern.consent.middleware import current_state

    request.consent = current_state(request)
    return request


def test_c14_gated_markup_is_inert_until_its_category_is_allowed(client, published):
    template = '{% consent_block "statistics" %}<script nonce="n">count()</script>{% end_consent_block %}'
    refused = render(template, consented_request(client, published, "reject_all"))
    assert refused == '<template data-consent="statistics"><script nonce="n">count()</script></template>'
    allowed = render(template, consented_request(Client(), published, "custom", ["statistics"]))
    assert allowed == '<script nonce="n">count()</script>'
    with pytest.raises(TemplateSyntaxError, match="'statistic' is not a cookie category"):
        render(
            '{% consent_block "statistic" %}x{% end_consent_block %}',
            consented_request(Client(), published, "reject_all"),
        )


def test_c14_an_embed_makes_no_request_before_consent_and_offers_to_load(client, published):
    tag = (
        '{% consent_embed "marketing" src="https://www.youtube-nocookie.com/embed/x" title="Demo" provider="YouTube" %}'
    )
    placeholder = render(tag, consented_request(client, published, "reject_all"))
    assert "<iframe" not in placeholder and 'data-src="https://www.youtube-nocookie.com/embed/x"' in placeholder
    assert "data-consent-load" in placeholder and "data-consent-allow" in placeholder and "YouTube" in placeholder
    frame = render(tag, consented_request(Client(), published, "accept_all"))
    assert frame.startswith('<iframe class="vc-frame" src="https://www.youtube-nocookie.com/embed/x"')


def test_c15_google_consent_mode_starts_denied_when_the_declaration_uses_a_google_tag(client, default_source):
    publish(default_source)
    assert "gtag" not in client.get("/").content.decode()
    publish(
        default_source.replace(
            "  consent_lifetime: 6 months\n", "  consent_lifetime: 6 months\n  google_consent_mode: true\n"
        )
    )
    response = client.get("/")
    html = response.content.decode()
    head = html.split("</head>", 1)[0]
    assert 'gtag("consent","default",{ad_storage:"denied"' in head and 'analytics_storage:"denied"' in head
    assert head.index("<script") == head.index("<script nonce="), "consent mode must be the first script"
    nonce = re.search(r'<script nonce="([^"]+)">window.dataLayer', head).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_c15_a_declared_tag_is_inert_in_the_page_and_its_hosts_are_allowed_only_when_declared(client, default_source):
    first = publish(default_source)
    assert "googletagmanager" not in client.get("/").headers["Content-Security-Policy"]
    tags = "  tags:\n    - {kind: google, id: G-TEST1234, category: statistics}\n"
    second = publish(default_source.replace("  consent_lifetime: 6 months\n", "  consent_lifetime: 6 months\n" + tags))
    assert second.consent_revision == first.consent_revision + 1  # a new tag: everyone is asked again
    response = client.get("/")
    head = response.content.decode().split("</head>", 1)[0]
    inert = (
        '<script type="text/plain" data-consent="statistics" data-vern-tag="google" '
        'src="https://www.googletagmanager.com/gtag/js?id=G-TEST1234"'
    )
    assert inert in head and 'gtag("consent","default"' in head  # a Google tag brings Consent Mode
    assert head.index('gtag("consent","default"') < head.index(inert)
    policy = response["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "https://www.googletagmanager.com" in script_src and "clarity" not in policy


def test_p13_the_cookies_vern_sets_are_declared_with_their_real_lifetimes(settings):
    from vern.consent.checks import check_cookies_declared

    assert check_cookies_declared(None) == []
    settings.SESSION_COOKIE_AGE = 24 * 3600
    errors = check_cookies_declared(None)
    assert [e.id for e in errors] == ["vern.consent.E003"]
    assert "'vern_session' lives 86400 seconds, but the declaration says 8 hours (P13)" in errors[0].msg


def test_staff_find_the_proof_by_consent_id_and_export_it(client, published, personas):
    post_choice(Client(), form("custom", categories=["statistics"]))
    event = ConsentEvent.objects.get()
    staff_login(client, personas.privacy_officer)
    page = client.get(f"/en/staff/consent/?id={event.consent_id}").content.decode()
    assert "1 event" in page and "statistics" in page
    exported = client.get(f"/staff/consent/?id={event.consent_id}&format=json").json()
    assert exported["events"][0]["granted"] == ["statistics"]
    assert exported["shown"][event.snapshot_id]["buttons"]["accept_all"] == "Godta alle"
    csv_text = client.get(f"/staff/consent/?id={event.consent_id}&format=csv").content.decode()
    assert csv_text.splitlines()[0].startswith("seq,consent_id,created_at")
    assert Entry.objects.filter(action="consent.view", object_id=event.consent_id).count() == 3
    bad = client.get("/en/staff/consent/?id=not-an-id").content.decode()
    assert "A consent id is 32 characters" in bad
    assert "The consent records are intact" in client.get("/en/staff/consent/verify/").content.decode()


def test_the_consent_tags_refuse_to_guess_without_the_middleware():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load consent %}{% consent_block "statistics" %}x{% end_consent_block %}').render(Context({}))


def test_every_answer_the_api_gives_is_declared_in_its_openapi_description(client, published, settings):
    spec = client.get("/api/openapi.json").json()
    declared = set(spec["paths"]["/api/consent/"]["post"]["responses"])
    answers = [
        api(client, {"choice": "reject_all", "revision": 1}),
        api(client, b"nope"),
        api(client, {"choice": "reject_all", "revision": 1}, origin="https://evil.example"),
        api(client, b'{"x": "' + b"y" * 5000 + b'"}'),
        api(client, {"choice": "custom", "categories": ["x"], "revision": 1}),
        client.post("/api/consent/", "{}", content_type="text/plain", HTTP_ORIGIN="http://testserver"),
    ]
    settings.VERN_CONSENT_RATE = 1
    answers.append(api(client, {"choice": "reject_all", "revision": 1}))
    assert {"200", "400", "403", "413", "415", "422", "429"} == {str(a.status_code) for a in answers}
    for answer in answers:  # the status, and the body's shape, with its error code in the declared list
        assert_declared(spec, "/api/consent/", "post", answer)
    assert {str(code) for code in {a.status_code for a in answers}} <= declared
    # A method the description does not name is refused, and the refusal names the ones it does.
    wrong = client.get("/api/consent/", HTTP_ORIGIN="http://testserver")
    assert wrong.status_code == 405
    assert set(wrong["Allow"].split(", ")) == {method.upper() for method in spec["paths"]["/api/consent/"]}


def test_what_the_description_forbids_the_api_refuses_and_what_it_allows_is_recorded(client, published):
    spec = client.get("/api/openapi.json").json()
    forbidden: list[Any] = [
        ["reject_all"],  # not an object
        {"choice": "maybe", "revision": 1},
        {"choice": "reject_all"},  # no revision
        {"revision": 1},  # no choice
        {"choice": "reject_all", "revision": True},
        {"choice": "reject_all", "revision": None},
        {"choice": "custom", "revision": 1, "categories": "statistics"},
        {"choice": "custom", "revision": 1, "categories": [1]},
        {"choice": "reject_all", "revision": 1, "layer": "embed"},
        {"choice": "reject_all", "revision": 1, "lang": "de"},
        {"choice": "reject_all", "revision": 1, "gpc": "yes"},
        {"choice": "reject_all", "revision": 1, "path": None},
    ]
    allowed = [
        {"choice": "reject_all", "revision": 1},
        {"choice": "accept_all", "revision": "1", "version": "1", "lang": "en", "layer": "settings"},
        {"choice": "custom", "revision": 1, "categories": ["statistics"], "gpc": True, "path": "//x", "other": 5},
    ]
    for body in forbidden:
        assert not body_allowed(spec, "ChoiceRequest", body), body
        assert api(client, body).status_code in (400, 422), body
    assert not ConsentEvent.objects.exists()
    for body in allowed:
        assert body_allowed(spec, "ChoiceRequest", body), body
        assert api(Client(), body).status_code == 200, body
    assert ConsentEvent.objects.count() == len(allowed)


def test_a_refused_value_is_answered_as_it_always_was_a_stale_page_first(client, published):
    # The service checks the revision before the choice and the language: a page from before a
    # new consent revision is told to reload, whatever else is wrong with it.
    stale = api(client, {"choice": "maybe", "revision": 7, "lang": "de"})
    assert stale.status_code == 422 and stale.json()["error"] == "revision"
    assert api(client, {"choice": "maybe", "revision": 1, "lang": "de"}).json()["error"] == "choice"
    assert api(client, {"choice": "reject_all", "revision": 1, "lang": "de"}).status_code == 400
    # Fields the API does not name are ignored, whatever they are called.
    assert api(client, {"choice": "maybe", "revision": 1, "_fields_set": 5}).json()["error"] == "choice"
    # A field of another type is refused at once, and "embed" is for other sites only.
    assert api(client, {"choice": 5, "revision": 7}).json()["error"] == "request"
    assert api(client, {"choice": "reject_all", "revision": 7, "layer": "embed"}).status_code == 400


def test_a_choice_from_a_page_cannot_pose_as_a_rights_requests_withdrawal(client, published):
    api(client, {"choice": "accept_all", "revision": 1})
    response = api(client, {"choice": "reject_all", "revision": 1, "layer": "rights"})
    assert response.status_code == 400 and response.json()["error"] == "request"
    assert list(ConsentEvent.objects.values_list("layer", flat=True)) == ["banner"]


def test_an_error_code_the_description_does_not_list_cannot_be_answered():
    from pydantic import ValidationError

    from vern.consent.schemas import ConsentError

    assert ConsentError(error="throttled", message="…").error == "throttled"
    with pytest.raises(ValidationError):
        ConsentError(error="teapot", message="…")


def test_the_api_takes_only_json_so_another_site_cannot_post_without_asking(client, published):
    response = client.post(
        "/api/consent/", "choice=accept_all&revision=1", content_type="text/plain", HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 415 and response.json()["error"] == "request"
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("revision", "²"),
        ("version", "٣"),
        ("path", "http://[x"),
        ("path", "//evil.example/"),
        ("lang", "xx"),
        ("layer", "embed"),
    ],
)
def test_odd_values_are_refused_or_dropped_never_a_server_error(client, published, field, value):
    body = {"choice": "reject_all", "revision": 1, field: value}
    response = api(client, body)
    assert response.status_code in (200, 400, 422)
    if response.status_code == 200:
        assert ConsentEvent.objects.get().page_path == ""  # a path that is not a path is not stored
    form_data = form("reject_all")
    form_data[field] = value
    assert post_choice(Client(), form_data).status_code in (303, 400)


def test_the_proof_names_the_version_whose_texts_were_shown(client, published, default_source):
    old_page = client.get("/en/").content.decode()
    assert 'name="version" value="1"' in old_page
    publish(default_source.replace("Kaukus selger ikke", "Kaukus selger aldri"))  # same question, new wording
    response = post_choice(client, form("accept_all") | {"version": "1"})
    assert response.status_code == 303
    event = ConsentEvent.objects.get()
    assert event.policy_version == 1 and event.consent_revision == 1
    from vern.consent.content import banner_content
    from vern.declaration.selectors import version

    shown = version(1)
    assert shown is not None and event.snapshot_id == banner_content(shown, "nb")[0]


def test_another_site_brings_its_own_earlier_choice_and_never_reads_ours(client, default_source):
    publish(
        default_source.replace(
            "  consent_lifetime: 6 months\n",
            "  consent_lifetime: 6 months\n  embedding_origins: [https://meeting.example]\n",
        )
    )
    ours = post_choice(client, form("accept_all")).cookies[COOKIE_NAME].value
    first = api(client, {"choice": "accept_all", "revision": 1}, origin="https://meeting.example").json()
    assert first["consent_id"] != Choice.decode(ours).consent_id  # our cookie was not taken for theirs
    second = api(
        client, {"choice": "reject_all", "revision": 1, "cookie": first["cookie"]}, origin="https://meeting.example"
    )
    assert second.json()["consent_id"] == first["consent_id"]
    assert ConsentEvent.objects.order_by("-seq").first().action == "withdraw"
    config = client.get(
        f"/api/consent/config?lang=nb&cookie={second.json()['cookie']}", HTTP_ORIGIN="https://meeting.example"
    )
    assert config.json()["choice"] == {"consent_id": first["consent_id"], "granted": []}
    forged = second.json()["cookie"].replace("..", ".marketing.")
    assert (
        client.get(f"/api/consent/config?cookie={forged}", HTTP_ORIGIN="https://meeting.example").json()["choice"]
        is None
    )


def test_the_config_is_never_kept_by_a_shared_cache(client, published):
    response = client.get("/api/consent/config?lang=nb")
    assert "Cookie" in response["Vary"] and "Origin" in response["Vary"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_spreadsheet_opening_the_export_runs_no_formula(client, published, personas):
    post_choice(Client(), form("reject_all", next_path="/=HYPERLINK(1)"))
    event = ConsentEvent.objects.get()
    staff_login(client, personas.privacy_officer)
    csv_text = client.get(f"/staff/consent/?id={event.consent_id}&format=csv").content.decode()
    assert ",/=HYPERLINK(1)," in csv_text  # starts with "/", so nothing to escape
    from vern.lib.csvsafe import safe_cell

    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("/ok") == "/ok"


def test_a_changed_snapshot_of_the_texts_shown_is_detected(client, published):
    from django.db import connection

    from vern.consent.models import Snapshot
    from vern.consent.services import consent_verify

    post_choice(client, form("accept_all"))
    assert consent_verify().ok
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER consent_snapshot_immutable ON consent_snapshot")
        else:
            cursor.execute("DROP TRIGGER consent_snapshot_immutable")
    snapshot = Snapshot.objects.get()
    content = snapshot.content
    content["buttons"]["reject_all"] = "Maybe later"
    Snapshot.objects.filter(pk=snapshot.pk).update(content=content)
    assert any("were changed after they were stored" in p for p in consent_verify().problems)


def test_c11_the_choice_cookie_goes_on_the_declared_parent_domain_only_from_a_host_under_it(client, published):
    from vern.consent.choice import cookie_domain
    from vern.declaration.selectors import published_declaration

    declaration = published_declaration()
    assert cookie_domain(declaration, "www.kaukus.no") == ".kaukus.no"
    assert cookie_domain(declaration, "kaukus.no") == ".kaukus.no"
    assert cookie_domain(declaration, "moteadm.kaukus.no") == ".kaukus.no"
    # A browser would refuse a domain the host is not under: then the host alone.
    assert cookie_domain(declaration, "localhost") == "" and cookie_domain(declaration, "evilkaukus.no") == ""
    response = post_choice(client, form("reject_all"))
    assert response.cookies["vern_consent"]["domain"] == ""  # testserver is not under .kaukus.no
