"""A real ``vern serve`` loses its database for a while: it answers 503 with Retry-After, never 500,
and stores every beacon and consent choice it took meanwhile once the database is back.

On PostgreSQL the server reaches the database through a TCP proxy (``vern.testing.TCPProxy``)
that cuts every connection and refuses new ones, as a restart or a network failure does.
On SQLite the database file is taken away (a directory stands where it was), so the server
cannot open it. ``VERN_TEST_OUTAGE_SECONDS`` sets how long the outage lasts (default 6 s; the
behaviour, not the length, is the point: a 30-second outage behaves the same).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
from django.db import connection

from vern.analytics.models import Hit
from vern.consent.models import ConsentEvent
from vern.consent.views import form_token
from vern.jobs import spool
from vern.jobs.models import SpoolMark
from vern.testing import TCPProxy, database_url_for_children, free_port, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE_SECONDS = float(os.environ.get("VERN_TEST_OUTAGE_SECONDS", "6"))
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
BEACONS = 30
VISITORS = 8


class _Outage:
    """How the server's database goes away and comes back, on the database this suite runs on."""

    url: str

    def cut(self) -> None:
        raise NotImplementedError

    def restore(self) -> None:
        raise NotImplementedError


class _CutLine(_Outage):
    """PostgreSQL through a TCP proxy that drops every connection."""

    def __init__(self, proxy: TCPProxy) -> None:
        self.proxy = proxy
        parts = urlsplit(database_url_for_children())
        auth = parts.netloc.rpartition("@")[0]
        self.url = urlunsplit(
            parts._replace(netloc=f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}")
        )

    def cut(self) -> None:
        self.proxy.cut()

    def restore(self) -> None:
        self.proxy.restore()


class _FileGone(_Outage):
    """SQLite: the database file (and its -wal and -shm) moved away, a directory in its place."""

    def __init__(self) -> None:
        self.path = Path(connection.settings_dict["NAME"])
        self.url = f"sqlite:///{self.path}"

    def _files(self) -> list[Path]:
        return [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]

    def cut(self) -> None:
        for file in self._files():
            if file.exists():
                file.rename(f"{file}.away")
        self.path.mkdir()

    def restore(self) -> None:
        self.path.rmdir()
        for file in self._files():
            away = Path(f"{file}.away")
            if away.exists():
                away.rename(file)


@pytest.fixture
def outage() -> Iterator[_Outage]:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        with TCPProxy((str(settings.get("HOST") or "127.0.0.1"), int(settings.get("PORT") or 5432))) as proxy:
            yield _CutLine(proxy)
    else:
        gone = _FileGone()
        try:
            yield gone
        finally:
            if gone.path.is_dir():
                gone.restore()


class _Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.pid = 0
        self.statuses: list[int] = []
        self.stop: Any = None  # stops the server and returns its log

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                method,
                path,
                body=body or None,
                headers={"Host": f"127.0.0.1:{self.port}", "User-Agent": FIREFOX, **(headers or {})},
            )
            response = conn.getresponse()
            response.content = response.read()
        finally:
            conn.close()
        self.statuses.append(response.status)
        return response

    def beacon(self, page: str) -> Any:
        return self.request(
            "POST",
            "/api/analytics/event",
            json.dumps({"k": "v", "u": page, "r": ""}).encode(),
            {"Content-Type": "text/plain", "Origin": f"http://127.0.0.1:{self.port}"},
        )

    def choose(self, choice: str, revision: int, *, cookie: str = "", lang: str = "nb") -> Any:
        headers = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{self.port}"}
        if cookie:
            headers["Cookie"] = f"vern_consent={cookie}"
        body = {"choice": choice, "revision": revision, "lang": lang, "path": "/", "layer": "banner"}
        if choice == "custom":
            body["categories"] = ["statistics"]
        return self.request("POST", "/api/consent/", json.dumps(body).encode(), headers)

    def healthy(self) -> bool:
        try:
            return bool(self.request("GET", "/healthz").status == 200)
        except OSError:
            return False


@pytest.fixture
def serve(published: Any, tmp_path: Path, outage: _Outage) -> Iterator[tuple[_Server, list[str], Path]]:
    """A running ``vern serve`` on the outage's database URL, its log (after the test), its data directory."""
    port = free_port()
    data = tmp_path / "data"
    env = vern_env(
        PORT=str(port),
        VERN_WEB_WORKERS="2",
        VERN_DATA_DIR=str(data),
        DATABASE_URL=outage.url,
        VERN_CONSENT_RATE="1000",
        VERN_ANALYTICS_RATE="1000",
        VERN_LOG_LEVEL="INFO",
    )
    process = start_vern("serve", env=env)
    server = _Server(port)
    server.pid = process.pid
    log: list[str] = []

    def stop() -> list[str]:
        if process.returncode is None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
            log.extend(output.splitlines())
        return log

    server.stop = stop
    try:
        wait_for(server.healthy, what="the server to answer", timeout=90)
        yield server, log, data
    finally:
        stop()


def _consent_cookie(response: Any) -> str:
    found = re.search(r"vern_consent=([^;]+)", response.getheader("Set-Cookie") or "")
    return found[1] if found else ""


def _take_beacons_and_choices(server: _Server, revision: int, seconds: float) -> dict[str, Any]:
    """During the outage: 30 beacons and 8 visitors' choices (one of whom changes their mind), spread
    over ``seconds``; the answers to the enquiry API and to pages in both languages."""
    sent: dict[str, Any] = {"beacons": 0, "choices": [], "changed": None}
    choices = ["accept_all", "reject_all", "custom"]
    started = time.monotonic()
    for n in range(BEACONS):
        answer = server.beacon("/" if n % 2 else "/en/contact/")
        assert answer.status == 204, answer.status
        sent["beacons"] += 1
        if n % 4 == 0 and len(sent["choices"]) < VISITORS:
            answer = server.choose(choices[n % 3], revision)
            assert answer.status == 202, (answer.status, answer.content)
            recorded = json.loads(answer.content)
            cookie = _consent_cookie(answer)
            assert cookie and recorded["cookie"] == cookie  # the banner closes, and the choice is in the cookie
            sent["choices"].append(recorded)
        time.sleep(max(0.0, started + seconds * (n + 1) / BEACONS - time.monotonic()))
    # One visitor changes their mind during the outage: accept, then withdraw. Both are kept, in order.
    first = server.choose("accept_all", revision, lang="en")
    second = server.choose("reject_all", revision, cookie=_consent_cookie(first), lang="en")
    assert (first.status, second.status) == (202, 202)
    sent["changed"] = (json.loads(first.content), json.loads(second.content))
    return sent


def test_a_database_outage_answers_503_and_loses_no_beacon_and_no_consent_choice(serve, outage, published):
    server, log, _ = serve
    assert server.request("GET", "/").status == 200
    assert server.beacon("/").status == 204
    wait_for(lambda: Hit.objects.count() == 1, what="the first hit to be stored", timeout=20)

    outage.cut()
    cut_at = time.time()
    wait_for(lambda: not server.healthy(), what="/healthz to say the database is down", timeout=30)
    assert server.request("GET", "/healthz").status == 503

    # The APIs: 503, Retry-After, and the error in each API's documented shape.
    enquiry = server.request(
        "POST",
        "/api/enquiries/",
        json.dumps({"kind": "contact", "name": "Kari", "email": "kari@example.no", "message": "Hei"}).encode(),
        {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{server.port}"},
    )
    assert enquiry.status == 503
    assert enquiry.getheader("Content-Type") == "application/json"
    assert int(enquiry.getheader("Retry-After")) > 0
    assert json.loads(enquiry.content)["error"] == "unavailable"
    form = server.request("GET", "/api/enquiries/form?lang=en")
    assert (form.status, json.loads(form.content)["error"]) == (503, "unavailable")
    assert "Try again" in json.loads(form.content)["message"]

    # Pages: a short 503 page in the page's language, with Retry-After.
    norwegian = server.request("GET", "/contact/")
    english = server.request("GET", "/en/privacy/")
    for page, language, words in ((norwegian, "nb", "Prøv igjen"), (english, "en", "Try again")):
        text = page.content.decode()
        assert page.status == 503
        assert int(page.getheader("Retry-After")) > 0
        assert page.getheader("Content-Type").startswith("text/html")
        assert f'<html lang="{language}">' in text
        assert words in text
        assert "/static/" in text  # styled like the site

    # The console: a staff page fails as well, with the same page (never a 500).
    staff = server.request("GET", "/staff/login/")
    assert staff.status == 503 and "Straks tilbake" in staff.content.decode()

    # The banner's form, without JavaScript: the choice is kept, the cookie set, the visitor sent back.
    form = server.request(
        "POST",
        "/consent/",
        urlencode(
            {
                "choice": "reject_all",
                "revision": published.consent_revision,
                "version": published.number,
                "token": form_token(),
                "next": "/contact/",
            }
        ).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{server.port}"},
    )
    assert (form.status, form.getheader("Location")) == (303, "/contact/")
    assert _consent_cookie(form)

    sent = _take_beacons_and_choices(server, published.consent_revision, OUTAGE_SECONDS)
    restored_at = time.time()
    outage.restore()

    expected_events = len(sent["choices"]) + 2 + 1  # the visitor who changed their mind, and the form
    wait_for(lambda: Hit.objects.count() == 1 + BEACONS, what="every beacon to be stored", timeout=60)
    wait_for(
        lambda: ConsentEvent.objects.count() == expected_events, what="every consent choice to be stored", timeout=60
    )
    wait_for(server.healthy, what="/healthz to say the database answers", timeout=30)
    time.sleep(3)  # drains that might run again store nothing twice
    assert Hit.objects.count() == 1 + BEACONS
    assert ConsentEvent.objects.count() == expected_events
    assert not SpoolMark.objects.exists()

    # The proof keeps the time of each choice, not the time it was stored.
    for recorded in sent["choices"]:
        event = ConsentEvent.objects.get(consent_id=recorded["consent_id"])
        assert event.created_at.isoformat() == recorded["decided_at"]
        assert cut_at - 1 <= event.created_at.timestamp() <= restored_at
        assert event.ip_shortened == "127.0.0.0"
    accepted, withdrawn = sent["changed"]
    assert accepted["consent_id"] == withdrawn["consent_id"]
    events = list(ConsentEvent.objects.filter(consent_id=accepted["consent_id"]).order_by("seq"))
    assert [e.action for e in events] == ["accept_all", "withdraw"]
    assert events[0].language == "en"
    hits = Hit.objects.filter(at__gte=dt_from(cut_at))
    assert hits.count() == BEACONS and set(hits.values_list("ip", flat=True)) == {"127.0.0.0"}

    if isinstance(outage, _CutLine):
        assert outage.proxy.connections > 0  # the server did reach PostgreSQL through the proxy
    assert 500 not in server.statuses
    server_log = "\n".join(server.stop())
    assert "Traceback" not in server_log, server_log
    assert " 500 " not in server_log
    outage_lines = [line for line in log if "the database is unavailable" in line]
    assert 1 <= len(outage_lines) <= 4, server_log  # one a process (the workers, and the master at most)
    assert "127.0.0.1" not in server_log.replace(f"http://127.0.0.1:{server.port}", "")
    assert "kari@example.no" not in server_log


def test_choices_and_beacons_kept_by_a_server_killed_during_the_outage_are_stored_by_the_next_drain(
    serve, outage, published
):
    server, _, data = serve
    assert server.beacon("/").status == 204
    wait_for(lambda: Hit.objects.count() == 1, what="the first hit to be stored", timeout=20)
    outage.cut()
    wait_for(lambda: not server.healthy(), what="/healthz to say the database is down", timeout=30)
    answers = [server.choose("accept_all", published.consent_revision) for _ in range(5)]
    assert [a.status for a in answers] == [202] * 5
    for _ in range(10):
        assert server.beacon("/").status == 204
    time.sleep(3)  # the buffer's next write fails, and the hits go to the spool file
    spooled = sorted((data / "spool").rglob("*.jsonl"))
    assert spooled and all(path.stat().st_mode & 0o777 == 0o600 for path in spooled)
    assert (data / "spool").stat().st_mode & 0o777 == 0o700

    # SIGKILL, the master and its workers at once: no shutdown hook runs. What the server kept
    # is in its spool files, and nothing else.
    killed = _process_tree(server.pid)
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(_alive(pid) for pid in killed), what="the server's processes to die", timeout=30)
    outage.restore()

    spool.ROOT = data / "spool"

    def all_stored() -> bool:
        # Drains until everything kept is stored: on a loaded machine a file can still be held for a
        # moment by a process the kernel has not finished tearing down, and the drain then waits for it.
        spool.drain_all()
        return Hit.objects.count() == 11 and ConsentEvent.objects.count() == len(answers)

    wait_for(all_stored, what="the next drains to store what the killed server kept", timeout=30)
    assert spool.drain_all() == 0  # a further drain stores nothing twice
    assert Hit.objects.count() == 11
    assert sorted(ConsentEvent.objects.values_list("consent_id", flat=True)) == sorted(
        json.loads(a.content)["consent_id"] for a in answers
    )
    assert not list((data / "spool").rglob("*.jsonl"))


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has closed its files, and so let go of its locks


def dt_from(timestamp: float) -> Any:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp - 1, tz=dt.UTC)
