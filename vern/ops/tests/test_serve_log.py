"""gunicorn's own log lines go through vern's redaction: no full IP address reaches the server's log (R25)."""

from __future__ import annotations

import signal
import socket
import urllib.request

import pytest

from vern.testing import free_port, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2):
            return True
    except OSError:
        return False


def test_an_invalid_request_is_logged_by_gunicorn_with_a_shortened_ip_address():
    port = free_port()
    server = start_vern("serve", env=vern_env(PORT=str(port), VERN_WEB_WORKERS="1"))
    try:
        wait_for(lambda: _up(port), what="the server to answer", timeout=60)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(b"NOT A REQUEST LINE\r\n\r\n")  # gunicorn answers 400 and logs "Invalid request from ip=…"
            answer = raw.recv(200)
        assert answer.startswith(b"HTTP/1.1 400")
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert "Invalid request from ip=127.0.0.0" in output
    assert f"Listening at: http://127.0.0.1:{port}" in output  # the server's own address, as it is
    assert "127.0.0.1" not in output.replace(f"http://127.0.0.1:{port}", "")
