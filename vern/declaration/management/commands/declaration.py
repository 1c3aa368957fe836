"""``vern declaration check [FILE]``: validate a declaration; each problem names its path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.rules import art13_checklist
from vern.declaration.services import declaration_validate


class Command(BaseCommand):
    help = "Work with privacy declarations. `vern declaration check [FILE]` validates one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="validate a declaration (default: VERN_DECLARATION)")
        check.add_argument("file", nargs="?", help="the YAML file to check")

    def handle(self, *args: Any, action: str, file: str | None = None, **options: Any) -> None:
        path = Path(file) if file else Path(settings.VERN_DECLARATION)
        try:
            loaded = load(path)
            declaration_validate(loaded.source)
        except DeclarationInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{path}: {problem}")
            raise CommandError(f"{path}: {len(exc.problems)} problem(s); it cannot be published") from None
        d = loaded.declaration
        checklist = art13_checklist(d)
        present = sum(item.ok for item in checklist)
        self.stdout.write(
            f"{path}: valid. {len(d.purposes)} purposes, {len(d.cookies.cookies)} cookies in "
            f"{len(d.cookies.categories)} categories, {len(d.processors)} processor(s), "
            f"{len(d.retention.rules)} retention rules; Art. 13 checklist {present}/{len(checklist)}."
        )
