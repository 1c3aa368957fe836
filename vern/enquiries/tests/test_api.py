"""The enquiry API for the company's other sites: the same checks and records, only for declared sites."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry
from vern.enquiries.tests.helpers import CONTACT, aged_token, demo_fields
from vern.mail.models import OutboxMessage
from vern.testing import assert_declared, body_allowed

pytestmark = pytest.mark.django_db
PARTNER = "https://moteadm.kaukus.no"


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


@pytest.fixture
def embedded(default_source):
    source = default_source.replace(
        "  embedding_origins: []\n\nprocessors:", f"  embedding_origins: [{PARTNER}]\n\nprocessors:"
    )
    assert source != default_source
    return declaration_publish(source=source, actor=Actor.cli())


def post_json(client, body, origin=PARTNER, **extra):
    return client.post(
        "/api/enquiries/", json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin, **extra
    )


def test_a_declared_site_gets_a_token_and_the_notice_in_its_language(client, embedded):
    response = client.get("/api/enquiries/form?kind=contact&lang=en", HTTP_ORIGIN=PARTNER)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == PARTNER and "Origin" in response["Vary"]
    body = response.json()
    assert body["min_seconds"] == 3 and body["token"]
    assert body["notice"]["summary"].startswith("Kaukus AS uses your name, email address")
    assert "Legal basis: legitimate interest (f). You may object to this at any time." in body["notice"]["summary"]
    assert body["notice"]["policy_url"] == "http://testserver/en/privacy/"
    assert not response.cookies


def test_an_undeclared_site_gets_nothing(client, embedded):
    for response in (
        client.get("/api/enquiries/form?kind=contact", HTTP_ORIGIN="https://evil.example"),
        post_json(
            client, {"kind": "contact", **CONTACT, "token": aged_token("contact")}, origin="https://evil.example"
        ),
        client.options("/api/enquiries/", HTTP_ORIGIN="https://evil.example"),
    ):
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response
    assert not Enquiry.objects.exists()


def test_the_preflight_allows_a_declared_site_to_send_json(client, embedded):
    response = client.options("/api/enquiries/", HTTP_ORIGIN=PARTNER, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "Content-Type"


def test_p3_an_enquiry_from_another_site_is_the_same_record_marked_as_embedded(client, embedded):
    response = post_json(client, {"kind": "demo", "lang": "en", **demo_fields(), "token": aged_token("demo")})
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == PARTNER
    assert response.json() == {
        "status": "received",
        "kind": "demo",
        "message": "Thank you. We have received your request and will contact you to agree on a time.",
    }
    assert not response.cookies
    enquiry = Enquiry.objects.get()
    assert (enquiry.channel, enquiry.legal_basis, enquiry.language) == ("embedded", "b", "en")
    assert enquiry.policy_version == embedded.number
    assert OutboxMessage.objects.filter(kind="enquiry_received", language="en").count() == 1


def test_the_same_form_sent_twice_through_the_api_is_one_enquiry(client, embedded):
    body = {"kind": "contact", **CONTACT, "token": aged_token("contact")}
    assert post_json(client, body).status_code == 201
    again = post_json(client, body)
    assert again.status_code == 200 and again.json()["status"] == "received"
    assert Enquiry.objects.count() == 1


def test_field_errors_come_back_by_field_in_the_visitors_language(client, embedded):
    body = {"kind": "contact", "lang": "en", **CONTACT, "email": "nope", "name": "", "token": aged_token("contact")}
    response = post_json(client, body)
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid",
        "message": "Some of the details need another look; see the notes by the fields.",
        "fields": {"name": ["Enter your name."], "email": ["Enter a valid email address, like name@example.no."]},
    }
    assert not Enquiry.objects.exists()


@pytest.mark.parametrize(
    "body,content_type,status,error",
    [
        (b"{not json", "application/json", 400, "request"),
        (b'["a list"]', "application/json", 400, "request"),
        (b'{"kind": "contact", "name": 42}', "application/json", 400, "request"),
        (b'{"kind": "newsletter"}', "application/json", 400, "request"),
        (b'{"kind": "contact", "lang": "de"}', "application/json", 400, "request"),
        (b"\xff\xfe{}", "application/json", 400, "request"),
        (b"kind=contact", "text/plain", 415, "media_type"),
        (b'{"kind": "contact"}', "application/json", 422, "token"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(client, embedded, body, content_type, status, error):
    response = client.post("/api/enquiries/", body, content_type=content_type, HTTP_ORIGIN=PARTNER)
    assert response.status_code == status
    assert response.json()["error"] == error and response.json()["message"]
    assert not Enquiry.objects.exists() and not OutboxMessage.objects.exists()


def test_an_oversized_request_is_refused_unread(client, embedded):
    body = {"kind": "contact", **CONTACT, "message": "ø" * 40_000, "token": aged_token("contact")}
    response = post_json(client, body)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert not Enquiry.objects.exists()


def test_the_api_is_rate_limited_like_the_form(client, embedded):
    for number in range(10):
        body = {"kind": "contact", **CONTACT, "email": f"p{number}@example.no", "token": aged_token("contact")}
        assert post_json(client, body).status_code == 201
    body = {"kind": "contact", "lang": "en", **CONTACT, "token": aged_token("contact")}
    response = post_json(client, body)
    assert response.status_code == 429 and response.json()["error"] == "throttled"
    assert response["Access-Control-Allow-Origin"] == PARTNER  # so the other site can show the message


def test_a_plain_form_post_from_another_site_ends_on_our_thank_you_page(client, embedded):
    data = {"kind": "contact", **CONTACT, "token": aged_token("contact")}
    response = client.post("/api/enquiries/", data, HTTP_ORIGIN=PARTNER)
    assert response.status_code == 303 and response["Location"] == "/contact/thanks/"
    assert Enquiry.objects.get().channel == "embedded"


def test_a_plain_form_post_without_javascript_continues_on_our_own_form_with_what_was_typed(client, embedded):
    # A page without enquiry.js has no token: vern shows its own form, filled in, to send again.
    data = {"kind": "contact", "lang": "en", **CONTACT}
    response = client.post("/api/enquiries/", data, HTTP_ORIGIN=PARTNER)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'action="/en/contact/"' in html and 'value="Kari Nordmann"' in html
    assert "The form could not be checked. What you wrote is kept; send it again." in html
    assert not Enquiry.objects.exists()


def test_this_sites_own_pages_may_use_the_api_without_cors(client, published):
    body = {"kind": "contact", **CONTACT, "token": aged_token("contact")}
    response = post_json(client, body, origin="http://testserver")
    assert response.status_code == 201
    assert "Access-Control-Allow-Origin" not in response
    assert Enquiry.objects.get().channel == "form"


def test_every_answer_the_enquiry_api_gives_is_declared_in_the_openapi_description(client, embedded):
    spec = client.get("/api/openapi.json").json()
    # What the API can answer is declared, the answers this test cannot provoke (a limit, an outage) too.
    submit = spec["paths"]["/api/enquiries/"]["post"]["responses"]
    assert {"201", "200", "303", "400", "403", "413", "415", "422", "429", "503"} <= set(submit)
    errors = spec["components"]["schemas"]["EnquiryError"]["properties"]["error"]["enum"]
    for code in ("origin", "request", "too_large", "media_type", "invalid", "token", "throttled", "unavailable"):
        assert code in errors
    contact = {"kind": "contact", **CONTACT}
    once = {**contact, "token": aged_token("contact")}
    answers = [
        post_json(client, once),
        post_json(client, once),  # the same form again
        post_json(client, {**contact, "token": aged_token("contact")}, origin="https://evil.example"),
        post_json(client, {**contact, "message": "ø" * 40_000, "token": aged_token("contact")}),
        client.post("/api/enquiries/", b"kind=contact", content_type="text/plain", HTTP_ORIGIN=PARTNER),
        client.post("/api/enquiries/", b"{not json", content_type="application/json", HTTP_ORIGIN=PARTNER),
        post_json(client, {**contact, "email": "nope", "token": aged_token("contact")}),
        post_json(client, {**contact, "token": "forged"}),
        client.post("/api/enquiries/", {**contact, "token": aged_token("contact")}, HTTP_ORIGIN=PARTNER),
        client.post("/api/enquiries/", {**contact, "token": "forged"}, HTTP_ORIGIN=PARTNER),
    ]
    assert {a.status_code for a in answers} >= {200, 201, 303, 400, 403, 413, 415, 422}
    for answer in answers:  # the status, the media type and the body, with its error code in the declared list
        assert_declared(spec, "/api/enquiries/", "post", answer)
    # A method the description does not name is refused, and the refusal names the ones it does.
    wrong = client.get("/api/enquiries/", HTTP_ORIGIN=PARTNER)
    assert wrong.status_code == 405 and "POST" in wrong["Allow"]
    assert set(wrong["Allow"].split(", ")) == {method.upper() for method in spec["paths"]["/api/enquiries/"]}


def test_what_the_description_forbids_the_api_refuses_before_the_form_is_checked(client, embedded):
    spec = client.get("/api/openapi.json").json()
    token = aged_token("contact")
    forbidden = [
        ["contact"],
        {**CONTACT, "token": token},  # no kind
        {"kind": "newsletter", **CONTACT, "token": token},
        {"kind": "contact", "lang": "de", **CONTACT, "token": token},
        {"kind": "contact", **CONTACT, "name": 42, "token": token},
        {"kind": "contact", **CONTACT, "token": token, "extra": ["x"]},
    ]
    for body in forbidden:
        assert not body_allowed(spec, "EnquiryRequest", body), body
        response = post_json(client, body)
        assert response.status_code == 400 and response.json()["error"] == "request", body
    allowed = {"kind": "contact", "lang": None, **CONTACT, "phone": None, "token": token, "utm_source": "x"}
    assert body_allowed(spec, "EnquiryRequest", allowed)
    assert post_json(client, allowed).status_code == 201
    assert Enquiry.objects.count() == 1


def test_a_multipart_post_without_its_boundary_is_refused_as_not_understood(client, embedded):
    response = client.post("/api/enquiries/", b"kind=contact", content_type="multipart/form-data", HTTP_ORIGIN=PARTNER)
    assert response.status_code == 400 and response.json()["error"] == "request"


def test_a_token_can_be_read_without_an_origin_but_only_declared_sites_get_cors(client, embedded):
    plain = client.get("/api/enquiries/form?kind=demo")
    assert plain.status_code == 200 and plain.json()["token"]
    assert "Access-Control-Allow-Origin" not in plain


def test_a_demo_form_that_does_not_ask_for_a_time_of_day_is_taken_as_any_time(client, embedded):
    fields = {key: value for key, value in demo_fields().items() if key not in ("preferred_time", "preferred_date")}
    response = post_json(client, {"kind": "demo", **fields, "token": aged_token("demo")})
    assert response.status_code == 201
    enquiry = Enquiry.objects.get()
    assert enquiry.preferred_time == "any" and enquiry.preferred_date is None


@pytest.mark.parametrize("spelling", ["HTTPS://MOTEADM.KAUKUS.NO", "https://moteadm.kaukus.no:443"])
def test_a_declared_site_is_recognised_however_its_origin_is_spelt(client, embedded, spelling):
    response = client.options("/api/enquiries/", HTTP_ORIGIN=spelling)
    assert response.status_code == 204 and response["Access-Control-Allow-Origin"] == PARTNER
