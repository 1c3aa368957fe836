"""The other systems the connector tests talk to, for real: a "møteadm" database on this machine's
MariaDB and PostgreSQL servers, and a small webhook service on loopback that keeps the contract."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pymysql

from vern.connectors.webhook import sign, verify

MARIADB_HOST, MARIADB_PORT, MARIADB_USER = "127.0.0.1", 3306, "root"
POSTGRES = os.environ.get("VERN_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = f"connectors_moeteadm_{os.getpid()}"

# One table blanked by an erasure (the account stays, without the person), one deleted, with a period.
DDL = {
    "mysql": [
        "CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(254) NULL, name VARCHAR(200) NULL, "
        "phone VARCHAR(40) NULL, plan VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL)",
        "CREATE TABLE logins (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(254) NOT NULL, at DATETIME NOT NULL, "
        "ip VARCHAR(45) NOT NULL)",
    ],
    "postgresql": [
        "CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(254) NULL, name VARCHAR(200) NULL, "
        "phone VARCHAR(40) NULL, plan VARCHAR(20) NOT NULL, created_at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE logins (id SERIAL PRIMARY KEY, email VARCHAR(254) NOT NULL, at TIMESTAMPTZ NOT NULL, "
        "ip VARCHAR(45) NOT NULL)",
    ],
}

CONNECTOR_YAML = """
connectors:
  - id: moeteadm
    name: møteadm
    kind: sql
    purpose: operations
    url_env: VERN_TEST_MOETEADM_URL
    timeout_seconds: 5
    tables:
      - name: users
        title: {nb: Brukere i møteadm, en: Users of møteadm}
        identifiers: {email: [email], phone: [phone]}
        export: [name, email, phone, plan, created_at]
        erasure: blank
        blank: [name, email, phone]
        portable: true
      - name: logins
        title: {nb: Innlogginger i møteadm, en: Sign-ins to møteadm}
        identifiers: {email: [email]}
        export: [at, ip]
        erasure: delete
        retention: {column: at, period: 1 month}
"""


def mariadb_url() -> str:
    return f"mysql://root@127.0.0.1:3306/{DATABASE}"


def postgres_url() -> str:
    return POSTGRES.rsplit("/", 1)[0] + f"/{DATABASE}"


@contextmanager
def created_databases() -> Iterator[None]:
    """The test "møteadm" database on both servers, for the session; dropped afterwards."""
    admin = pymysql.connect(host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password="", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{DATABASE}`")
    with psycopg.connect(POSTGRES, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{DATABASE}"')
        pg.execute(f'CREATE DATABASE "{DATABASE}"')
    try:
        yield
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        admin.close()
        with psycopg.connect(POSTGRES, autocommit=True) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


@contextmanager
def moeteadm(dialect: str) -> Iterator[Any]:
    """A connection to the test møteadm database (autocommit), for arranging rows and looking."""
    if dialect == "mysql":
        connection: Any = pymysql.connect(
            host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password="", database=DATABASE, autocommit=True
        )
    else:
        connection = psycopg.connect(postgres_url(), autocommit=True)
    try:
        yield connection
    finally:
        connection.close()


def rows(dialect: str, statement: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with moeteadm(dialect) as connection:
        cursor = connection.cursor()
        cursor.execute(statement, parameters)
        return [tuple(row) for row in cursor.fetchall()]


def reset(dialect: str, people: list[tuple[str, str, str, str]], logins: list[tuple[str, Any, str]]) -> None:
    """Fresh tables holding ``people`` (email, name, phone, plan) and ``logins`` (email, at, ip)."""
    with moeteadm(dialect) as connection:
        cursor = connection.cursor()
        for table in ("users", "logins"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in DDL[dialect]:
            cursor.execute(statement)
        for email, name, phone, plan in people:
            cursor.execute(
                "INSERT INTO users (email, name, phone, plan, created_at) VALUES (%s, %s, %s, %s, %s)",
                (email, name, phone, plan, "2026-01-05 10:00:00"),
            )
        for email, at, ip in logins:
            cursor.execute("INSERT INTO logins (email, at, ip) VALUES (%s, %s, %s)", (email, at, ip))


# ------------------------------------------------------------------ a webhook service keeping the contract


@dataclass
class WebhookService:
    """Holds rows per address; answers find, export and erase, signed; or misbehaves as told."""

    secret: str
    data: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mode: str = "ok"  # ok, bad_signature, slow
    calls: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    url: str = ""

    def answer(self, payload: dict[str, Any]) -> dict[str, Any]:
        email = str(payload.get("identifiers", {}).get("email", "")).lower()
        mine = self.data.get(email, [])
        if payload["action"] == "export":
            tickets = {"source": "tickets", "title": {"nb": "Saker", "en": "Tickets"}, "rows": mine}
            return {"sources": [{**tickets, "fields": ["subject", "opened"], "rectifiable": ["subject"]}]}
        if payload["action"] == "rectify":
            changes = payload.get("changes", {})
            if payload.get("source") != "tickets" or set(changes) - {"subject"}:
                return {"sources": [{"source": str(payload.get("source")), "count": 0}]}
            for row in mine:
                row.update(changes)
            return {"sources": [{"source": "tickets", "count": len(mine)}]}
        if payload["action"] == "erase":
            count = len(mine)
            if not payload.get("dry_run"):
                self.data.pop(email, None)
            return {"sources": [{"source": "tickets", "title": "Tickets", "count": count, "action": "delete"}]}
        return {"sources": [{"source": "tickets", "count": len(mine)}]}


@contextmanager
def webhook_service(secret: str) -> Iterator[WebhookService]:
    service = WebhookService(secret=secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(
                secret, self.headers.get("X-Vern-Timestamp", ""), body, self.headers.get("X-Vern-Signature", "")
            ):
                service.refused += 1
                self.send_response(401)
                self.end_headers()
                return
            payload = json.loads(body)
            service.calls.append(payload)
            if service.mode == "slow":
                time.sleep(1.5)  # the service is slow: longer than the connector's timeout of 1 s
            answer = json.dumps(service.answer(payload)).encode()
            stamp = str(int(time.time()))
            signature = sign("not-the-secret" if service.mode == "bad_signature" else secret, stamp, answer)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Vern-Timestamp", stamp)
                self.send_header("X-Vern-Signature", signature)
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # vern gave up waiting

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_address[1]}/vern"
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
