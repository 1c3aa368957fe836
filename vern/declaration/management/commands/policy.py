"""``vern policy publish [--significant] [--note …] [--file FILE]``: publish the declaration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import Actor
from vern.declaration.loading import DeclarationInvalid
from vern.declaration.services import NothingChanged, declaration_publish


class Command(BaseCommand):
    help = "Publish the privacy declaration as a new, immutable version of the policy."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        publish = sub.add_parser("publish", help="publish VERN_DECLARATION (or --file) as the next version")
        publish.add_argument("--file", help="the declaration to publish (default: VERN_DECLARATION)")
        publish.add_argument("--significant", action="store_true", help="announce the change on the website")
        publish.add_argument("--note", default="", help="what changed and why, for the version list")

    def handle(self, *args: Any, action: str, file: str | None, significant: bool, note: str, **o: Any) -> None:
        if not file and not settings.VERN_DECLARATION_IN_FILE:
            # Without VERN_DECLARATION the policy is edited in the console (ADR 0013): publishing
            # the shipped file would quietly undo what the privacy officer published there.
            raise CommandError(
                "VERN_DECLARATION is not set: the declaration is edited and published in the staff console. "
                "Set VERN_DECLARATION to keep it in a file, or give --file FILE to publish one file once."
            )
        path = Path(file) if file else Path(settings.VERN_DECLARATION)
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            version = declaration_publish(source=source, actor=Actor.cli(), significant=significant, note=note)
        except DeclarationInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(
                f"not published: {len(exc.problems)} problem(s); the site keeps the last version"
            ) from None
        except NothingChanged as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"published version {version.number} ({version.published_at:%Y-%m-%d %H:%M} UTC), "
            f"consent revision {version.consent_revision}"
        )
