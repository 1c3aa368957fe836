"""Test helpers: child vern processes, a real SMTP server on loopback, another site.

Only the test suite and the benchmarks import this module (it needs the dev dependencies)."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # tests only; its stubs are not worth a dependency
from aiosmtpd.controller import Controller
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url_for_children() -> str:
    """A DATABASE_URL for the database this test runs against, for child processes."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{settings['NAME']}"


def vern_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="vern.settings_test",
        DATABASE_URL=database_url_for_children(),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_vern(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vern", *args],
        env=env if env is not None else vern_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def start_vern(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vern", *args],
        env=env if env is not None else vern_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )


def wait_for(predicate: Any, *, timeout: float = 20, interval: float = 0.1, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ------------------------------------------------------------------ a network between vern and its database


@contextlib.contextmanager
def database_unreachable() -> Iterator[None]:
    """This process's next connections fail as when the database is down: SQLite cannot open its
    file, PostgreSQL refuses the connection (a closed port). For tests in a transaction=True test."""
    connection.close()
    real = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/directory/vern.sqlite3"
    else:
        connection.settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(real)


class TCPProxy:
    """A TCP proxy on loopback that forwards to ``target`` and can cut the line and restore it.

    ``cut()`` closes every open connection (both ends, as a failing network or a database
    restart does) and, until ``restore()``, answers each new connection by closing it at once:
    the client sees "server closed the connection unexpectedly", as it would while the
    database restarts. Use ``with TCPProxy(("127.0.0.1", 5432)) as proxy:``; ``proxy.port``.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut = False
        self._closed = False
        self.connections = 0  # accepted and forwarded, for tests to see that traffic went through

    def __enter__(self) -> TCPProxy:
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        self._listener.close()
        self._close_all()

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
        self._close_all()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def _close_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                cut = self._cut
            if cut:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
                self.connections += 1
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A real Redis (Debian's redis-server, which ``make test`` installs) on a free loopback port,
    keeping nothing on disk; yields its ``REDIS_URL``."""
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607 (Debian's, on PATH)
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _redis_answers(port), what="redis-server to listen", timeout=20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# ------------------------------------------------------------------ the API's description


def schema_of(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema from ``/api/openapi.json``, its references resolvable on their own."""
    return {**schema, "components": document["components"]}


def body_allowed(document: dict[str, Any], component: str, value: Any) -> bool:
    """Whether the document's schema ``component`` allows ``value``."""
    schema = schema_of(document, {"$ref": f"#/components/schemas/{component}"})
    return bool(jsonschema.Draft202012Validator(schema).is_valid(value))


def assert_declared(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    """The answer a test got is one the document declares: its status, media type and body."""
    operation = document["paths"][path][method.lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{method} {path} answered {response.status_code}, which is not declared"
    media_type = response.get("Content-Type", "").split(";")[0]
    if not declared.get("content"):
        assert not response.content, f"{method} {path} {response.status_code} has a body, but none is declared"
        return
    assert media_type in declared["content"], f"{method} {path} {response.status_code} answered {media_type}"
    schema = declared["content"][media_type].get("schema")
    if media_type == "application/json" and schema is not None:
        jsonschema.validate(json.loads(response.content), schema_of(document, schema))


# ------------------------------------------------------------------ SMTP


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    greetings: int = 0  # EHLO/HELO commands seen: one per connection
    refuse_greeting: bool = False  # answer EHLO and HELO with 554, as a server out of service does
    refuse_sender: bool = False  # answer MAIL FROM with 550

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> Any:
        self.greetings += 1
        if self.refuse_greeting:
            return ["554 5.3.2 service not available"]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        if self.refuse_greeting:
            return "554 5.3.2 service not available"
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_sender:
            return "550 5.7.1 sender refused"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("bounce"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPServer:
    """A real SMTP server on loopback (aiosmtpd) that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# ------------------------------------------------------------------ another site


class OtherSite:
    """Another site of the company on its own origin (127.0.0.1, a free port), serving one page.

    ``with OtherSite() as site:`` gives ``site.origin`` to declare; set ``site.page`` (HTML)
    before the browser asks for it.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.page = ""
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(site.page.encode())

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    def __enter__(self) -> OtherSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# ------------------------------------------------------------------ a real IMAP server


@dataclass
class IMAPServer:
    """Debian's dovecot on loopback, with its own configuration, TLS certificate and maildirs in ``root``."""

    root: Path
    port: int
    user: str
    password: str
    ca_file: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imaps://{self.user.replace('@', '%40')}@127.0.0.1:{self.port}"

    def client(self) -> Any:
        import ssl

        from imapclient import IMAPClient

        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=context, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX", *, arrived: dt.datetime | None = None) -> None:
        """Put a message in the mailbox by IMAP APPEND, as a mail server would deliver it; ``arrived``
        sets the server's INTERNALDATE (when it came)."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, msg_time=arrived)
        finally:
            client.logout()

    def folder(self, name: str) -> list[bytes]:
        """Every message in a folder (empty when the folder does not exist)."""
        client = self.client()
        try:
            if not client.folder_exists(name):
                return []
            client.select_folder(name, readonly=True)
            uids = client.search(["NOT", "DELETED"])
            return [data[b"BODY[]"] for _, data in sorted(client.fetch(uids, ["BODY.PEEK[]"]).items())] if uids else []
        finally:
            client.logout()

    def empty(self) -> None:
        """Delete every message in every folder, for the next test."""
        client = self.client()
        try:
            for _flags, _delimiter, name in client.list_folders():
                client.select_folder(name)
                uids = client.search()
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
        finally:
            client.logout()


def _self_signed(root: Path) -> tuple[Path, Path]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vern test IMAP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextlib.contextmanager
def running_dovecot(root: Path) -> Iterator[IMAPServer]:
    """Start dovecot (``dovecot -F -c <own config>``) as this user on a free loopback port, with TLS only.

    Run by root (as CI is), the login and mail processes use the users Debian's package creates
    (dovenull, dovecot), since dovecot refuses to give mail to uid 0."""
    import grp
    import pwd

    dovecot = os.environ.get("VERN_DOVECOT", "/usr/sbin/dovecot")
    root.mkdir(parents=True, exist_ok=True)
    cert, key = _self_signed(root)
    if os.getuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
    mail_uid = pwd.getpwnam(internal_user).pw_uid
    mail_gid = pwd.getpwnam(internal_user).pw_gid
    home = root / "home"
    home.mkdir(exist_ok=True)
    os.chown(home, mail_uid, mail_gid)
    user, password = "support@kaukus.test", "imap-test-password"
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(mail_gid).gr_name}
first_valid_uid = {min(mail_uid, 100)}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No penalty for the tests' wrong passwords (it would delay every login after one by seconds).
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
    )
    process = subprocess.Popen([dovecot, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = IMAPServer(root=root, port=port, user=user, password=password, ca_file=cert, process=process)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot stopped: {process.stderr.read().decode() if process.stderr else ''} {log}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError("dovecot did not start listening in time")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
