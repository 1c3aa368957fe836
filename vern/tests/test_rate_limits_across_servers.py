"""Public endpoints are rate-limited, and the limits hold across processes and servers (P24, issue 15).

Two real ``vern serve`` processes (two web workers each) share the database this suite runs
on: one PostgreSQL database on CI's PostgreSQL pass, one SQLite file (WAL) otherwise. 32
threads, held at a barrier and split over both servers, post at once to each rate-limited
endpoint: never more than the limit get through, and exactly the limit do. Then once more
with ``REDIS_URL``, a real redis-server holding the counters.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import urlencode

import pytest

from vern.audit.services import Actor
from vern.declaration.services import declaration_publish
from vern.enquiries.tests.helpers import CONTACT, aged_token
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.rights.models import Request
from vern.testing import free_port, redis_server, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 32
PARTNER = "https://moteadm.kaukus.no"
CONSENT_RATE = 10
ANALYTICS_RATE = 20  # below 40: counted one by one, so exactly this many pass
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


class Browser:
    """One visitor: a cookie jar (for CSRF) and plain HTTP on loopback."""

    def __init__(self, *, follow: bool = True) -> None:
        handlers: list[Any] = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())]
        if not follow:
            handlers.append(NoRedirect())
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as refused:
            return int(refused.code), refused.read().decode()

    def csrf(self, url: str) -> str:
        status, page = self.request(url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert status == 200 and token is not None, url
        return token[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def at_once(calls: list[Callable[[], int]]) -> Counter[int]:
    """Run every call on its own thread, all released together; the statuses they got."""
    if time.time() % 60 > 40:  # keep each burst inside one minute's window
        time.sleep(61 - time.time() % 60)
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = []
    lock = threading.Lock()

    def run(call: Callable[[], int]) -> None:
        barrier.wait(timeout=60)
        status = call()
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == len(calls)
    return Counter(statuses)


@pytest.fixture(params=["database", "redis"])
def counter_store(request: Any, tmp_path: Any) -> Iterator[str]:
    """The REDIS_URL the servers get: none (the counters table) or a real redis-server."""
    if request.param == "database":
        yield ""
        return
    with redis_server(tmp_path) as url:
        yield url


@contextmanager
def two_servers(**env: str) -> Iterator[tuple[list[str], Callable[[], None]]]:
    """Two ``vern serve`` (two web processes each) on this suite's database, with ``env``; and a
    graceful stop (SIGTERM, as an operator stops them), also made on the way out."""
    ports = [free_port(), free_port()]
    processes = [start_vern("serve", env=vern_env(PORT=str(port), VERN_WEB_WORKERS="2", **env)) for port in ports]
    outputs: list[str] = []

    def stop() -> None:
        if outputs:
            return
        for process in processes:
            process.send_signal(signal.SIGTERM)
            outputs.append(process.communicate(timeout=60)[0])

    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            wait_for(lambda base=base: _answers(f"{base}/healthz"), what="the server to answer", timeout=90)
        yield bases, stop
    finally:
        stop()
    for output in outputs:
        assert "Traceback" not in output, output


@pytest.fixture
def servers(default_source: str, counter_store: str) -> Iterator[list[str]]:
    source = default_source.replace(
        "  embedding_origins: []\n\nprocessors:", f"  embedding_origins: [{PARTNER}]\n\nprocessors:"
    )
    assert source != default_source
    declaration_publish(source=source, actor=Actor.cli())
    with two_servers(
        VERN_CONSENT_RATE=str(CONSENT_RATE),
        VERN_ANALYTICS_RATE=str(ANALYTICS_RATE),
        VERN_TRUST_PROXY_HEADERS="true",
        REDIS_URL=counter_store,
    ) as (bases, _):
        yield bases


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return Browser().request(url, body, headers)[0]


def split(bases: list[str], path: str) -> list[str]:
    """The URL of each of the 32 requests, alternating between the two servers."""
    return [bases[n % len(bases)] + path for n in range(THREADS)]


def test_p24_public_endpoints_are_rate_limited_across_two_servers_32_requests_at_once(servers, counter_store):
    # Consent API: one network's choices a minute.
    choice = json.dumps({"choice": "reject_all", "revision": 1}).encode()
    headers = {"Content-Type": "application/json", "Origin": "http://testserver"}
    consent = at_once([partial(post, url, choice, headers) for url in split(servers, "/api/consent/")])
    assert consent == {200: CONSENT_RATE, 429: THREADS - CONSENT_RATE}

    # Enquiry API (another declared site): ten enquiries an hour from one network.
    def enquiry(url: str, number: int) -> int:
        body = {"kind": "contact", **CONTACT, "email": f"person{number}@example.no", "token": aged_token("contact")}
        data = json.dumps(body).encode()
        return Browser().request(url, data, {"Content-Type": "application/json", "Origin": PARTNER})[0]

    enquiries = at_once([partial(enquiry, url, n) for n, url in enumerate(split(servers, "/api/enquiries/"))])
    assert enquiries == {201: 10, 429: THREADS - 10}

    # The privacy center: ten requests an hour from one network, whatever the addresses ...
    def rights_request(url: str, address: str, network: str = "") -> Callable[[], int]:
        visitor = Browser(follow=False)
        token = visitor.csrf(url)
        form = urlencode({"csrfmiddlewaretoken": token, "rights": "access", "email": address}).encode()
        extra = {"Content-Type": "application/x-www-form-urlencoded", "Referer": url}
        if network:
            extra["X-Forwarded-For"] = network
        return lambda: visitor.request(url, form, extra)[0]

    calls = [rights_request(url, f"person{n}@example.no") for n, url in enumerate(split(servers, "/privacy/requests/"))]
    assert at_once(calls) == {303: 10, 429: THREADS - 10}
    # ... and, from 32 networks, six confirmation mails a day to one address.
    urls = split(servers, "/privacy/requests/")
    calls = [rights_request(url, "kari@example.no", f"198.51.{n}.7") for n, url in enumerate(urls)]
    assert at_once(calls) == {303: 6, 429: THREADS - 6}
    mails = OutboxMessage.objects.filter(kind="rights_confirm", to_index=email_index("kari@example.no"))
    links = [re.search(r"/privacy/requests/confirm/[A-Za-z0-9_-]+/", m.body_text) for m in mails]
    assert len(links) == 6 and all(links)
    # Three of Kari's requests may be confirmed today, however fast the links are followed.
    confirm_urls = [servers[n % 2] + link[0] for n, link in enumerate(links) if link]
    confirmations = at_once([partial(post, url, b"confirm=1", {}) for url in confirm_urls])
    assert confirmations == {200: 3, 429: 3}
    # (An access request is answered by itself once confirmed: the copy is made when its link is opened.)
    karis = Request.objects.filter(email_index=email_index("kari@example.no"))
    assert karis.exclude(status=Request.Status.AWAITING_CONFIRMATION).count() == 3
    assert karis.filter(events__kind="confirmed").count() == 3

    # The analytics beacon, shared by every web process.
    def beacon(base: str) -> int:
        headers = {
            "Content-Type": "text/plain;charset=UTF-8",
            "Origin": base,
            "Sec-Fetch-Site": "same-origin",
            "User-Agent": BROWSER,
        }
        return Browser().request(base + "/api/analytics/event", b'{"k":"v","u":"/"}', headers)[0]

    beacons = at_once([partial(beacon, servers[n % 2]) for n in range(THREADS)])
    assert beacons == {204: ANALYTICS_RATE, 429: THREADS - ANALYTICS_RATE}

    # Staff login: 30 failed passwords in 15 minutes from one network, whatever the accounts.
    def login(url: str, number: int) -> Callable[[], int]:
        visitor = Browser()
        token = visitor.csrf(url)
        form = urlencode({"csrfmiddlewaretoken": token, "email": f"guess{number}@example.no", "password": "wrong"})
        return lambda: visitor.request(url, form.encode(), {"Referer": url})[0]

    logins = at_once([login(url, n) for n, url in enumerate(split(servers, "/staff/login/"))])
    assert logins == {200: 30, 429: THREADS - 30}


BATCHED_RATE = 100  # at 40 and above the beacon's limit is counted in batches (of 5 here)


@pytest.fixture
def batched_servers(default_source: str, counter_store: str) -> Iterator[tuple[list[str], Callable[[], None]]]:
    """Two servers (two web processes each) whose beacon limit is counted in batches."""
    declaration_publish(source=default_source, actor=Actor.cli())
    with two_servers(
        VERN_ANALYTICS_RATE=str(BATCHED_RATE), VERN_TRUST_PROXY_HEADERS="true", REDIS_URL=counter_store
    ) as found:
        yield found


def test_p24_a_busy_network_is_cut_off_near_the_beacon_limit_on_two_servers_counted_in_batches(
    batched_servers, counter_store, settings
):
    from vern.analytics.models import Hit
    from vern.lib import counters
    from vern.lib.ratelimit import Batched, Limit, used

    settings.REDIS_URL = counter_store  # read the servers' counts where they keep them
    counters._redis_client = None

    bases, stop = batched_servers
    processes = 4  # two servers, two web processes each
    slack = Batched.slack(BATCHED_RATE)
    if time.time() % 60 > 15:  # every wave inside one minute's window
        time.sleep(61 - time.time() % 60)

    def beacon(base: str) -> int:
        headers = {
            "Content-Type": "text/plain;charset=UTF-8",
            "Origin": base,
            "Sec-Fetch-Site": "same-origin",
            "User-Agent": BROWSER,
            "X-Forwarded-For": "203.0.113.9",
        }
        return Browser().request(base + "/api/analytics/event", b'{"k":"v","u":"/"}', headers)[0]

    answers: Counter[int] = Counter()
    for wave in range(8):  # 256 beacons from one network, in waves of 32 at once, flushes in between
        answers += at_once([partial(beacon, bases[n % 2]) for n in range(THREADS)])
        time.sleep(0.6 if wave % 2 else 1.3)
    admitted = answers[204]
    assert set(answers) == {204, 429}
    # Never fewer than the limit, and past it by at most two batches less one per process.
    assert BATCHED_RATE <= admitted <= BATCHED_RATE + processes * (2 * slack - 1), answers
    # Each worker's buffer thread has added its due batches by now: what is still uncounted is
    # at most a batch less one per process (the count also holds the hit that learnt the limit
    # was reached, in each process that asked: it is refused, yet counted).
    time.sleep(2.5)
    try:
        counted = used(Limit("analytics", BATCHED_RATE, 60), "203.0.113.0")
    finally:
        counters._redis_client = None
    assert counted >= admitted - processes * (slack - 1), (counted, answers)
    stop()  # a graceful stop writes every admitted hit
    assert Hit.objects.count() == admitted
