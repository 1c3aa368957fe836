"""Shared fixtures: personas, a real SMTP server and a real IMAP server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from vern.testing import IMAPServer, SMTPServer, running_dovecot


@pytest.fixture(autouse=True, scope="session")
def _analytics_writes_only_when_asked() -> None:
    """Hits that pages of any test send wait in memory until a test writes them (``BUFFER.flush``):
    a writer thread would put them in the database outside the test's transaction."""
    from vern.analytics.buffer import BUFFER
    from vern.jobs.spool import DRAINER

    BUFFER.background = False
    DRAINER.background = False


@pytest.fixture(autouse=True)
def spool_root(tmp_path: Any) -> Iterator[Any]:
    """Each test's own spool directory (what is kept while the database is down), never ``var/``."""
    from vern.jobs import spool

    spool.ROOT = tmp_path / "spool"
    yield spool.ROOT
    spool.ROOT = None


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's default language: ``vern``'s command line activates the
    terminal's language for its process, and a test that runs it in-process must not hand that
    language to whichever test runs next on the same worker."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_analytics_state() -> Iterator[None]:
    """No hits, salts, settings or partitions cached from an earlier test, whose writes were rolled back."""
    from vern.analytics import capture, salts
    from vern.analytics.buffer import BUFFER
    from vern.consent.choice import forget_published
    from vern.lib import partitions

    def forget() -> None:
        BUFFER.discard()
        capture.forget_settings()
        capture._window.forget()
        salts.forget_cached()
        partitions.forget()
        forget_published()

    forget()
    yield
    forget()


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _dovecot() -> Iterator[IMAPServer]:
    """One dovecot for the session (it takes a moment to start), in a directory its mail user can enter."""
    import shutil
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="vern-imap-"))
    root.chmod(0o755)
    try:
        with running_dovecot(root / "dovecot") as server:
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap_server(_dovecot: IMAPServer, settings: Any) -> Iterator[IMAPServer]:
    """The support mailbox: vern's settings point at the real dovecot, and every folder starts empty."""
    _dovecot.empty()
    settings.IMAP_URL = _dovecot.url
    settings.IMAP_PASSWORD = _dovecot.password
    settings.IMAP_CA_FILE = str(_dovecot.ca_file)
    yield _dovecot


# ------------------------------------------------------------------ the erasure journal


@pytest.fixture(scope="session")
def _journal_server() -> Iterator[str]:
    """Where the suite's erasure journals live: on PostgreSQL runs, a database of its own beside
    the test database (as ``docs/deploy.md`` sets it up with several machines); else "" (files)."""
    import psycopg
    from django.conf import settings
    from psycopg import sql

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        yield ""
        return
    # One per pytest-xdist process: a shared one would be dropped under another process's feet.
    name = f"{database['NAME']}_erasure_journal{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    host, port = str(database.get("HOST") or "localhost"), int(database.get("PORT") or 5432)
    user, password = str(database.get("USER") or ""), str(database.get("PASSWORD") or "")

    def server_connection() -> psycopg.Connection[Any]:
        return psycopg.connect(dbname="postgres", host=host, port=port, user=user, password=password, autocommit=True)

    with server_connection() as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    auth = f"{user}:{password}@" if password else f"{user}@"
    yield f"postgres://{auth}{host}:{port}/{name}"
    with server_connection() as server:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def erasure_journal(settings: Any, tmp_path: Any, _journal_server: str) -> Iterator[str]:
    """Each test's own erasure journal, never the one in ``var/``: a file in the test's folder, or on
    PostgreSQL runs an empty table in the journal database. Its URL is ``ERASURE_JOURNAL_URL``."""
    if not _journal_server:
        settings.ERASURE_JOURNAL_URL = f"sqlite:///{tmp_path / 'erasure-journal.sqlite3'}"
        yield settings.ERASURE_JOURNAL_URL
        return
    import psycopg

    from vern.rights.journal import TABLE

    settings.ERASURE_JOURNAL_URL = _journal_server
    yield _journal_server
    with psycopg.connect(_journal_server, autocommit=True) as journal:
        journal.execute(f"DROP TABLE IF EXISTS {TABLE}")


# ------------------------------------------------------------------ personas


@dataclass
class Personas:
    admin: Any
    privacy_officer: Any
    sales: Any
    deactivated: Any

    def all(self) -> dict[str, Any]:
        return {
            "admin": self.admin,
            "privacy_officer": self.privacy_officer,
            "sales": self.sales,
            "deactivated": self.deactivated,
        }


@pytest.fixture
def personas(db: None) -> Personas:
    """Alice the administrator, Pia the privacy officer, Sam from sales, and Dag, who has left."""
    from vern.accounts.models import RoleGrant, User

    def make(email: str, name: str, role: str, *, active: bool = True) -> User:
        user = User.objects.create_user(email=email, password=None, name=name, is_active=active)
        RoleGrant.objects.create(user=user, role=role)
        return user

    return Personas(
        admin=make("alice@example.com", "Alice Admin", "admin"),
        privacy_officer=make("pia@example.com", "Pia Personvern", "privacy_officer"),
        sales=make("sam@example.com", "Sam Salg", "sales"),
        deactivated=make("dag@example.com", "Dag Deaktivert", "admin", active=False),
    )


# ------------------------------------------------------------------ browser

CHROMIUM = os.environ.get("VERN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (``make test`` installs it if missing)."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is missing at {CHROMIUM}; run scripts/ensure-chromium (make test does)")
    # Playwright's sync API keeps an event loop on this thread, which Django's ORM takes
    # for async code; the tests only touch the database between browser calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageWatch:
    """What a page did that a visitor would not want: errors, blocked content, other sites."""

    console_errors: list[str]
    other_origins: list[str]
    failed: list[str]


@pytest.fixture
def browser_page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context per test (no cookies), watching console errors and foreign requests."""
    from urllib.parse import urlsplit

    context = chromium.new_context(viewport=VIEWPORTS["desktop"], locale="nb-NO")
    page = context.new_page()
    own = urlsplit(live_server.url).netloc
    watch = PageWatch(console_errors=[], other_origins=[], failed=[])
    page.on("console", lambda m: watch.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    page.on(
        "request",
        lambda r: (
            watch.other_origins.append(r.url)
            if urlsplit(r.url).netloc not in (own, "") and not r.url.startswith(("data:", "about:"))
            else None
        ),
    )
    page.on("requestfailed", lambda r: watch.failed.append(r.url))
    page.watch = watch
    page.base = live_server.url
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> None:
    """Keep a picture for people to look at (set VERN_SCREENSHOTS=dir); costs nothing otherwise."""
    folder = os.environ.get("VERN_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


# ------------------------------------------------------------------ declaration


@pytest.fixture
def default_source() -> str:
    """The text of the default declaration (the Kaukus policy)."""
    from django.conf import settings

    return settings.VERN_DECLARATION.read_text(encoding="utf-8")


@pytest.fixture
def published(db: None, default_source: str) -> Any:
    """The default Kaukus declaration, published as version 1."""
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    return declaration_publish(source=default_source, actor=Actor.cli(), note="First publication")
