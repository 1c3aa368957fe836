"""``vern run`` (what ``make run`` calls): migrate, then the web server and the worker together."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def _vern_command() -> str:
    candidate = Path(sys.executable).parent / "vern"
    return str(candidate) if candidate.exists() else f"{sys.executable} -m vern"


def first_account_command() -> tuple[str, bool]:
    """The command that creates the first staff account in the database this server uses.

    It carries ``VERN_DATA_DIR`` and ``DATABASE_URL`` when they are set, so that it
    works as printed from another terminal. A ``DATABASE_URL`` with a password is
    left out of the printed line (it would land in terminal scrollback and logs);
    the second value then says that the reader must set it as for this server.
    """
    env: list[str] = []
    needs_database_url = False
    for name in ("DJANGO_SETTINGS_MODULE", "VERN_DATA_DIR", "DATABASE_URL"):
        value = os.environ.get(name)
        if not value or (name == "DJANGO_SETTINGS_MODULE" and value == "vern.settings"):
            continue
        if name == "DATABASE_URL" and re.search(r"://[^/@]*:[^/@]*@", value):
            needs_database_url = True
            continue
        env.append(f"{name}={shlex.quote(value)}")
    command = " ".join([*env, _vern_command(), "staff add --email you@example.com --role admin --role privacy_officer"])
    return command, needs_database_url


class Command(BaseCommand):
    help = "Migrate the database, then run the web server and the background worker until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"database ready: {settings.DATABASES['default']['NAME']}")
        self._publish_first_declaration()
        # The processor register starts from the published policy's processors, once (ADR 0015).
        call_command("processors", "seed", verbosity=0)
        base = [sys.executable, "-m", "vern"]
        children = [subprocess.Popen([*base, "serve"]), subprocess.Popen([*base, "worker"])]  # noqa: S603

        def stop(signum: int, frame: FrameType | None) -> None:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        local = f"http://127.0.0.1:{settings.PORT}"
        if self._wait_until_up(f"{local}/healthz", children):
            self._welcome(local)
        exit_code = 0
        while any(child.poll() is None for child in children):
            for child in children:
                code = child.poll()
                if code not in (None, 0, -signal.SIGTERM):
                    exit_code = code or 1
                    stop(signal.SIGTERM, None)
            time.sleep(0.3)
        if exit_code:
            raise CommandError(f"a vern process stopped unexpectedly (exit status {exit_code})")

    def _publish_first_declaration(self) -> None:
        """A fresh install serves its policy at once: the configured declaration becomes version 1."""
        from vern.audit.services import Actor
        from vern.declaration.loading import DeclarationInvalid
        from vern.declaration.selectors import latest_version
        from vern.declaration.services import declaration_publish

        if latest_version() is not None:
            return
        path = settings.VERN_DECLARATION
        try:
            version = declaration_publish(
                source=path.read_text(encoding="utf-8"), actor=Actor.cli(), note="First publication"
            )
        except DeclarationInvalid as exc:
            raise CommandError(
                f"{path} cannot be published: {exc.problems[0]} (see `vern declaration check`)"
            ) from None
        self.stdout.write(f"published the privacy declaration {path.name} as version {version.number}")

    def _wait_until_up(self, url: str, children: list[subprocess.Popen[bytes]]) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(child.poll() is not None for child in children):
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own loopback URL)
                    if response.status == 200:
                        return True
            except OSError:
                time.sleep(0.3)
        return False

    def _welcome(self, local: str) -> None:
        from vern.accounts.models import User

        lines = [
            "",
            f"  vern is running at {local}/   (English: {local}/en/)",
            f"  staff console:     {local}/staff/",
        ]
        if not User.objects.filter(is_active=True).exists():
            command, needs_database_url = first_account_command()
            lines += [
                "",
                "  No staff login yet. In another terminal, create the first one",
                "  (administrator and privacy officer, what a one-person privacy team needs) with:",
                f"    {command}",
            ]
            if needs_database_url:
                lines.append("  with DATABASE_URL set as for this server (its password is not printed here).")
            lines.append("  It prints a link where you choose the password.")
        lines += ["", "  Press Ctrl+C to stop.", ""]
        self.stdout.write("\n".join(lines))
