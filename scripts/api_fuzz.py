#!/usr/bin/env python3
"""Fuzz vern's JSON APIs with schemathesis, against the OpenAPI document vern itself serves.

    .venv/bin/python scripts/api_fuzz.py        (``make api-fuzz``; ``.ci/run`` after each test run)

It makes a fresh database of the kind ``DATABASE_URL`` names (a SQLite file in a
temporary directory, or ``<name>_api_fuzz`` on the same PostgreSQL server), so a
run starts from the same state every time and never touches your data. Then, as
``make run`` does, it migrates and publishes the default declaration, starts
``vern serve`` on a free loopback port, and runs ``schemathesis run`` against
``/api/openapi.json`` with every check, a fixed seed and a bounded number of
examples. schemathesis keeps its state (``.hypothesis/``) in the temporary
directory. The server is stopped and the database dropped at the end; the exit
status is schemathesis's (0: no failure).

Settings for the run: ``API_FUZZ_EXAMPLES`` (examples per operation, default
300), ``API_FUZZ_SEED`` (default 1). What schemathesis is told to expect is in
``EXPECTATIONS`` below, each with the reason.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from vern.lib.crypto import Keyring, generate_key

ROOT = Path(__file__).resolve().parent.parent

# What schemathesis is told to expect beyond its defaults, each with the reason. Every other
# check stays as strict as schemathesis makes it.
EXPECTATIONS = """
# A body larger than an endpoint reads (a beacon 2 KB, a consent choice 4 KB, an enquiry 64 KB) is
# refused unparsed with 413. JSON Schema cannot bound the size of a whole body, so a body the schema
# allows may be too large, and one it forbids may be refused for its size before anything else.
# In the same way, gunicorn refuses a request line longer than 4,094 bytes with 414, and the
# longest query values an API takes, percent-encoded, can be longer than that.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428", "429", "5xx"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "414"]

# Server state: a choice is recorded only for the consent revision the published policy has now,
# and only for the optional cookie categories it declares. A schema cannot carry either (the
# banner on the page gives them), so a well-formed choice for any other revision or category is
# refused with 422 ("revision" or "category").
[[operations]]
include-operation-id = "chooseConsent"
checks.positive_data_acceptance.expected-statuses = ["2xx", "413", "422"]

# Server state: an enquiry needs a one-time token the server issued (GET /api/enquiries/form), at
# least 3 seconds old and not used before, so a well-formed enquiry from schemathesis is refused
# with 422 ("token"), and a plain form post gets the form page again (400) to send once more.
[[operations]]
include-operation-id = "submitEnquiry"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "413", "422"]

# Server state: a hit is counted only for one of the site's pages (its URL map and published
# declaration decide); any other well-formed path is refused with 422.
[[operations]]
include-operation-id = "analyticsEvent"
checks.positive_data_acceptance.expected-statuses = ["2xx", "413", "422"]

# The calendar and the clock: a period must name days that exist (2026-02-30 does not), start
# before it ends, end by today and last at most 400 days. The schema gives the form of a day
# (year-month-day), not which days exist or today's date, so a well-formed period may be refused with 400.
[[operations]]
include-operation-id = "analyticsStats"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "414"]

[[operations]]
include-operation-id = "analyticsPixel"
checks.positive_data_acceptance.expected-statuses = ["2xx", "414", "422"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log(message: str) -> None:
    print(f"api-fuzz: {message}", flush=True)


class Database:
    """A database of its own for the run, of the kind ``DATABASE_URL`` names."""

    def __init__(self, url: str, directory: Path) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("", "sqlite", "postgres", "postgresql"):
            raise SystemExit(f"api-fuzz: DATABASE_URL must be sqlite:// or postgres://, not {parts.scheme}://")
        self.postgres = parts.scheme in ("postgres", "postgresql")
        if self.postgres:
            self.name = f"{parts.path.lstrip('/') or 'vern'}_api_fuzz"
            self.admin = urlunsplit(parts._replace(path="/postgres"))
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        else:
            self.url = f"sqlite:///{directory / 'vern.sqlite3'}"

    def create(self) -> None:
        if self.postgres:
            self._sql(f'DROP DATABASE IF EXISTS "{self.name}"', f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.postgres:
            self._sql(f'DROP DATABASE IF EXISTS "{self.name}"')

    def _sql(self, *statements: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement.encode())


def _vern(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "vern", *args], env=env, cwd=ROOT, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"api-fuzz: `vern {' '.join(args)}` failed")


# A staff member who may read statistics, and a statistics API token of theirs, printed for the run.
STATS_ACCESS_SETUP = """
from vern.accounts.models import RoleGrant, User
from vern.analytics.reading_services import stats_token_create
user = User.objects.create_user(email="fuzz@example.com", password=None, name="API fuzzing")
RoleGrant.objects.create(user=user, role="sales")
print(stats_token_create(actor=user, name="API fuzzing")[1])
"""


def _stats_token(env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "vern", "django", "shell", "-c", STATS_ACCESS_SETUP],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit("api-fuzz: could not make a statistics token")
    return done.stdout.strip().splitlines()[-1]


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("api-fuzz: the server stopped before it answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("api-fuzz: the server did not answer within a minute")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="vern-api-fuzz-"))
    (workdir / "data").mkdir()
    database = Database(os.environ.get("DATABASE_URL", ""), workdir)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="vern.settings",
        DATABASE_URL=database.url,
        VERN_DATA_DIR=str(workdir / "data"),
        VERN_PUBLIC_URL=base,
        PORT=str(port),
        VERN_BIND="127.0.0.1",
        VERN_WEB_WORKERS="2",
        EMAIL_URL="console://",
        # Fresh keys for a fresh database (PostgreSQL never makes them up).
        SECRET_KEY=generate_key() + generate_key(),
        VERN_ENCRYPTION_KEYS=Keyring.generate_setting(),
        VERN_INDEX_KEY=generate_key(),
        # Every request comes from 127.0.0.1: the rate limits per network would answer most of
        # the run with 429 and test nothing else, so they are raised for it.
        VERN_ANALYTICS_RATE="1000000",
        VERN_CONSENT_RATE="1000000",
        PYTHONUNBUFFERED="1",
    )
    server: subprocess.Popen[bytes] | None = None
    status = 2
    try:
        database.create()
        _log(f"database {database.url.rsplit('/', 1)[-1]}, server {base}")
        _vern("migrate", "--verbosity", "0", env=env)
        # Without VERN_DECLARATION the policy is the console's (ADR 0013): publish the shipped file once.
        shipped = ROOT / "vern" / "declaration" / "default" / "kaukus.yaml"
        _vern("policy", "publish", "--file", str(shipped), "--note", "API fuzzing", env=env)
        token = _stats_token(env)
        with (workdir / "server.log").open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "vern", "serve"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_until_up(f"{base}/healthz", server)
        config = workdir / "schemathesis.toml"
        config.write_text(EXPECTATIONS, encoding="utf-8")
        command = [
            str(Path(sys.executable).parent / "st"),
            "--config-file",
            str(config),
            "run",
            f"{base}/api/openapi.json",
            "--checks",
            "all",
            "--seed",
            os.environ.get("API_FUZZ_SEED", "1"),
            "--max-examples",
            os.environ.get("API_FUZZ_EXAMPLES", "300"),
            "--generation-database",
            "none",
            "--no-color",
            # The APIs act only for this site's pages and declared sites, as the browser's
            # Origin header shows; schemathesis calls as a page of this site.
            "--header",
            f"Origin: {base}",
            # The statistics API reads only with a staff member's token; the other APIs ignore it.
            "--header",
            f"Authorization: Bearer {token}",
        ]
        status = subprocess.run(command, cwd=workdir, check=False).returncode  # noqa: S603
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            logged = (workdir / "server.log").read_text(encoding="utf-8", errors="replace")
            if "Traceback" in logged:
                _log("the server logged an error:")
                print(logged[logged.index("Traceback") :][:6000], flush=True)
                status = status or 1
        database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    _log("no failures" if status == 0 else f"failed (exit status {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
