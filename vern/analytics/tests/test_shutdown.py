"""The production server buffers hits in memory; stopping it gracefully (SIGTERM) loses none of them."""

from __future__ import annotations

import json
import signal
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from vern.analytics.models import Hit
from vern.testing import free_port, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def beacon(port: int, n: int) -> int:
    body = json.dumps({"k": "v", "u": ["/", "/contact/", "/en/"][n % 3], "r": "https://duckduckgo.com/"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/analytics/event",
        data=body,
        headers={"Content-Type": "text/plain", "User-Agent": FIREFOX},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


def test_every_hit_accepted_before_sigterm_is_in_the_database_afterwards(published):
    port = free_port()
    # The writer thread waits an hour between writes here, so only the shutdown can write the hits.
    env = vern_env(
        PORT=str(port), VERN_WEB_WORKERS="2", VERN_ANALYTICS_FLUSH_SECONDS="3600", VERN_ANALYTICS_RATE="1000"
    )
    server = start_vern("serve", env=env)
    try:
        wait_for(lambda: _up(port), what="the server to answer", timeout=60)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda n: beacon(port, n), range(300)))
        assert statuses == [204] * 300
        assert Hit.objects.count() == 0  # still in the web processes' memory
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert Hit.objects.count() == 300
    assert set(Hit.objects.values_list("path", flat=True)) == {"/", "/contact/", "/en/"}


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2):
            return True
    except OSError:
        return False
