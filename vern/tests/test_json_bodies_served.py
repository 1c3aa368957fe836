"""Against a real ``vern serve``: a large body gets a readable 413, deep JSON a 400, and the log no traceback.

A server that answers while the client is still sending, and closes without
reading the rest, makes the client's system reset the connection: the client
then sees a reset, not the answer. Each JSON API reads a refused body to its
end (up to ``vern.lib.bodies.DRAIN_LIMIT``) first.
"""

from __future__ import annotations

import json
import signal
import socket
import urllib.request
from collections.abc import Iterator

import pytest

from vern.analytics.models import Hit
from vern.consent.models import ConsentEvent
from vern.enquiries.models import Enquiry
from vern.testing import free_port, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
# Each JSON API: its path, its media type, and its error code for a body too large (None: no body).
APIS = [
    ("/api/consent/", "application/json", "request"),
    ("/api/enquiries/", "application/json", "too_large"),
    ("/api/analytics/event", "text/plain", None),
]


@pytest.fixture
def served(published) -> Iterator[tuple[int, list[str]]]:
    """A running server's port, and (after the test) what it wrote to its log."""
    port = free_port()
    env = vern_env(PORT=str(port), VERN_WEB_WORKERS="1", VERN_CONSENT_RATE="1000", VERN_ANALYTICS_RATE="1000")
    server = start_vern("serve", env=env)
    log: list[str] = []
    try:
        wait_for(lambda: _up(port), what="the server to answer", timeout=60)
        yield port, log
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
        log.extend(output.splitlines())
    assert not [line for line in log if "Traceback" in line or " 500 " in line], "\n".join(log)


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2):
            return True
    except OSError:
        return False


def exchange(port: int, path: str, media_type: str, body: bytes, *, chunked: bool = False) -> tuple[int, bytes]:
    """Send the whole request, as a simple client does, then read the whole answer; (status, body)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n"
        f"User-Agent: {FIREFOX}\r\nContent-Type: {media_type}\r\nConnection: close\r\n"
    )
    if chunked:
        head += "Transfer-Encoding: chunked\r\n\r\n"
        parts = [b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192]) for i in range(0, len(body), 8192)]
        payload = b"".join(parts) + b"0\r\n\r\n"
    else:
        head += f"Content-Length: {len(body)}\r\n\r\n"
        payload = body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + payload)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    header, _, content = answer.partition(b"\r\n\r\n")
    return int(header.split()[1]), content


def check_refusal(status: int, content: bytes, expected: int, code: str | None, *, too_large: bool) -> None:
    assert status == expected
    if code is None:
        assert content == b""
    else:
        answer = json.loads(content)
        assert answer["error"] == (code if too_large else "request") and answer["message"]


@pytest.mark.parametrize("size", [100_000, 4_000_000])
def test_a_large_body_gets_a_readable_413_with_the_apis_error_body(served, size):
    port, _ = served
    body = b'{"pad": "' + b"x" * size + b'"}'
    for path, media_type, code in APIS:
        for chunked in (False, True):
            status, content = exchange(port, path, media_type, body, chunked=chunked)
            check_refusal(status, content, 413, code, too_large=True)
    assert not (ConsentEvent.objects.exists() or Enquiry.objects.exists() or Hit.objects.exists())


def test_deep_json_and_other_bytes_than_utf8_get_400_not_a_500(served):
    port, _ = served
    for path, media_type, code in APIS:
        for body in (b"[" * 1000 + b"]" * 1000, b'{"u": "\xff"}'):
            status, content = exchange(port, path, media_type, body)
            check_refusal(status, content, 400, code, too_large=False)
    assert not (ConsentEvent.objects.exists() or Enquiry.objects.exists() or Hit.objects.exists())
