"""``REDIS_URL`` (README, docs/configuration.md): with it set, rate limits count in Redis, and they work.

A real Redis (Debian's redis-server, which ``make test`` installs) on a free loopback port, and a
real ``vern serve`` pointed at it. An unused ``REDIS_URL`` once turned every rate-limited page
into a 500, because the client library was missing.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from vern.testing import free_port, redis_server, run_vern, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_url(tmp_path: Any) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def _request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """The status and body of one request on loopback; 0 while nothing listens yet."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return int(response.status), response.read()
    except urllib.error.HTTPError as refused:
        return int(refused.code), refused.read()
    except urllib.error.URLError:
        return 0, b""


def test_with_redis_url_rate_limits_count_in_redis_and_health_follows_it(published, redis_url):
    port = free_port()
    env = vern_env(PORT=str(port), VERN_WEB_WORKERS="2", REDIS_URL=redis_url, VERN_CONSENT_RATE="5")
    server = start_vern("serve", env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _request(f"{base}/healthz")[0] == 200, what="the server to answer", timeout=60)
        choice = json.dumps({"choice": "reject_all", "revision": 1}).encode()
        headers = {"Content-Type": "application/json", "Origin": "http://testserver"}
        # Two web workers, one counter: the sixth choice from this network within the minute is refused.
        statuses = [_request(f"{base}/api/consent/", choice, headers)[0] for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        status, body = _request(f"{base}/api/consent/", choice, headers)
        assert status == 429 and json.loads(body)["error"] == "throttled"
        # Staff login counts its failures in Redis too: a wrong password is told so, with no error.
        form = f"{base}/staff/login/"
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = browser.open(form, timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token is not None
        wrong = urlencode({"csrfmiddlewaretoken": token[1], "email": "nobody@example.com", "password": "wrong"})
        with browser.open(urllib.request.Request(form, data=wrong.encode()), timeout=10) as answer:  # noqa: S310
            assert answer.status == 200 and "E-postadressen eller passordet er feil" in answer.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output


def test_a_redis_that_does_not_answer_is_named_by_health_and_before_deploying(published):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    env = vern_env(REDIS_URL=dead)
    deploy = run_vern("check", "--deploy", env=env)
    assert "vern.W007" in deploy.stdout + deploy.stderr
    port = free_port()
    server = start_vern("serve", env=vern_env(PORT=str(port), VERN_WEB_WORKERS="1", REDIS_URL=dead))
    try:
        wait_for(lambda: _request(f"http://127.0.0.1:{port}/robots.txt")[0] == 200, what="the server", timeout=60)
        status, body = _request(f"http://127.0.0.1:{port}/healthz")
        assert status == 503 and json.loads(body) == {"status": "cache unavailable"}
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
