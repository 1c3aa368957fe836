"""``vern scan URL [--pages N] [--format text|json] [--declaration FILE]``: does the site do what the
cookie table and the banner promise? Exit status 0 when clean, 1 with findings, 2 when the site
could not be scanned (fully)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.selectors import published_declaration
from vern.scanner import report
from vern.scanner.crawl import ScanFailed, scan
from vern.scanner.findings import findings


class Command(BaseCommand):
    help = "Scan a site in headless Chromium and compare its cookies, storage and requests with the declaration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the first page, e.g. https://www.example.no/")
        parser.add_argument("also", nargs="*", help="more pages of the same site to visit first")
        parser.add_argument("--pages", type=int, default=10, help="how many pages of the site to visit (1–200)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument("--timeout", type=float, default=180.0, help="seconds for the whole scan")
        parser.add_argument("--declaration", help="compare with this declaration file instead of the published version")
        parser.add_argument(
            "--chromium", default=os.environ.get("VERN_CHROMIUM", "/usr/bin/chromium"), help="the Chromium to run"
        )

    def handle(
        self, *args: Any, url: str, also: list[str], pages: int, format: str, timeout: float, **options: Any
    ) -> None:
        if not 1 <= pages <= 200:
            raise CommandError("--pages must be between 1 and 200")
        if options["declaration"]:
            try:
                declaration = load(Path(options["declaration"])).declaration
            except DeclarationInvalid as exc:
                raise CommandError(f"{options['declaration']}: {exc}") from exc
        else:
            found_declaration = published_declaration()
            if found_declaration is None:
                raise CommandError("no declaration is published; publish one or give --declaration FILE")
            declaration = found_declaration
        try:
            import playwright  # noqa: F401 (only to say clearly what is missing)
        except ImportError as exc:
            raise CommandError("vern scan needs Playwright: pip install 'vern[scan]' (and Debian's chromium)") from exc
        try:
            result = scan(url, also=also, pages=pages, timeout=timeout, chromium=options["chromium"])
        except ScanFailed as exc:
            self.stderr.write(f"vern scan: {exc}")
            sys.exit(2)
        found = findings(result, declaration)
        self.stdout.write(
            report.as_json(result, found) if format == "json" else report.as_text(result, found), ending=""
        )
        if found:
            sys.exit(1)
        if not result.complete:
            sys.exit(2)
