"""Every JSON API refuses deep nesting, other bytes than UTF-8 and large bodies with a declared 400 or 413.

Never a 500, never a traceback in the log, and nothing stored. The consent and
enquiry APIs answer with their JSON error body; the analytics beacon answers
every refusal with its status alone, as its description declares.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vern.analytics.buffer import BUFFER
from vern.analytics.models import Hit
from vern.consent.models import ConsentEvent
from vern.enquiries.models import Enquiry
from vern.testing import assert_declared

pytestmark = pytest.mark.django_db
SITE = "http://testserver"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
# Each JSON API: its path, the media type it reads, and the error code it gives a body it cannot read.
APIS = {
    "consent": ("/api/consent/", "application/json", "request"),
    "enquiries": ("/api/enquiries/", "application/json", "request"),
    "analytics": ("/api/analytics/event", "text/plain", None),
}
ERROR_CODES_413 = {"consent": "request", "enquiries": "too_large", "analytics": None}


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.VERN_CONSENT_RATE = 100_000
    settings.VERN_ANALYTICS_RATE = 100_000
    cache.clear()


@pytest.fixture
def spec(client, published) -> Any:
    return client.get("/api/openapi.json").json()


def post(client: Client, api: str, body: bytes, **extra: Any) -> Any:
    path, media_type, _ = APIS[api]
    return client.post(path, body, content_type=media_type, HTTP_ORIGIN=SITE, HTTP_USER_AGENT=FIREFOX, **extra)


def nothing_stored() -> bool:
    BUFFER.flush()
    return not (ConsentEvent.objects.exists() or Enquiry.objects.exists() or Hit.objects.exists())


def refused_as(api: str, response: Any, status: int, spec: dict[str, Any]) -> None:
    assert response.status_code == status
    assert_declared(spec, APIS[api][0], "post", response)
    code = APIS[api][2] if status == 400 else ERROR_CODES_413[api]
    if code is None:
        assert response.content == b""
    else:
        assert response.json()["error"] == code and response.json()["message"]


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("api", APIS)
def test_100000_nested_brackets_get_a_declared_refusal_and_no_traceback(client, spec, api, caplog):
    # Larger than each API reads: refused unread, with 413.
    refused_as(api, post(client, api, b"[" * 100_000 + b"]" * 100_000), 413, spec)
    refused_as(api, post(client, api, b'{"a":' * 100_000), 413, spec)
    # As deep as fits within each API's limit (1,000 in a 2 KB body gave a 500): 400.
    refused_as(api, post(client, api, b"[" * 1000 + b"]" * 1000), 400, spec)
    refused_as(api, post(client, api, b'{"choice":' * 150 + b"1" + b"}" * 150), 400, spec)
    assert nothing_stored()
    no_traceback(caplog)


@pytest.mark.parametrize("api", APIS)
def test_invalid_utf8_gets_400(client, spec, api, caplog):
    for body in (b'{"kind": "contact", "name": "\xff\xfe"}', '{"k": "v", "u": "/"}'.encode("utf-16")):
        refused_as(api, post(client, api, body), 400, spec)
    assert nothing_stored()
    no_traceback(caplog)


@pytest.mark.parametrize("api", APIS)
def test_an_oversized_body_gets_413_with_the_apis_error_body(client, spec, api, caplog):
    body = json.dumps({"kind": "contact", "k": "v", "u": "/", "message": "x" * 100_000}).encode()
    refused_as(api, post(client, api, body), 413, spec)
    assert nothing_stored()
    no_traceback(caplog)


@pytest.mark.parametrize("api", APIS)
def test_a_body_sent_without_its_length_is_read_no_further_than_the_limit(client, spec, api):
    """A chunked body (gunicorn says where it ends) larger than the limit gets 413 all the same."""
    body = b'{"pad": "' + b"x" * 100_000 + b'"}'
    path, media_type, _ = APIS[api]
    response = client.generic(
        "POST",
        path,
        body,
        content_type=media_type,
        HTTP_ORIGIN=SITE,
        HTTP_USER_AGENT=FIREFOX,
        CONTENT_LENGTH="",
        **{"wsgi.input_terminated": True, "wsgi.input": io.BytesIO(body)},  # as gunicorn passes a chunked body
    )
    refused_as(api, response, 413, spec)
    assert nothing_stored()


@pytest.mark.parametrize("api", APIS)
def test_a_length_that_says_less_than_was_sent_reads_only_that_much(client, spec, api):
    body = b'{"kind": "contact", "choice": "reject_all"' + b" " * 100_000 + b"}"
    refused_as(api, post(client, api, body, CONTENT_LENGTH="20"), 400, spec)
    assert nothing_stored()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["choice", "revision", "categories", "kind", "lang", "k", "u", "e", "name", "x"]), inner
        )
    ),
    max_leaves=20,
)
NESTED = st.integers(1, 3000).flatmap(
    lambda depth: st.sampled_from([b"[", b'{"a":', b'{"choice":[']).map(lambda opening: opening * depth)
)
BODIES = (
    st.binary(max_size=5000)
    | JSON.map(lambda value: json.dumps(value).encode())
    | NESTED
    | st.tuples(NESTED, st.binary(max_size=50)).map(b"".join)
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(api=st.sampled_from(sorted(APIS)), body=BODIES)
def test_whatever_bytes_arrive_every_json_api_answers_with_a_declared_status_and_body(client, spec, api, body):
    response = post(client, api, body)
    assert response.status_code < 500
    assert_declared(spec, APIS[api][0], "post", response)
