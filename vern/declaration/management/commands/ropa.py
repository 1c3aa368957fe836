"""``vern ropa --format md|csv|json``: the record of processing activities (GDPR Art. 30)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.declaration import ropa
from vern.declaration.selectors import published_declaration


class Command(BaseCommand):
    help = "Print the record of processing activities (Art. 30) from the published declaration and the registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["md", "csv", "json"], default="md")
        parser.add_argument("--language", choices=["nb", "en"], default="nb")

    def handle(self, *args: Any, format: str, language: str, **options: Any) -> None:
        declaration = published_declaration()
        if declaration is None:
            raise CommandError(
                "no declaration is published yet; `vern run` publishes the first, or `vern policy publish --file FILE`"
            )
        record = ropa.build(declaration, language)
        text = {
            "md": lambda: ropa.as_markdown(record, language),
            "csv": lambda: ropa.as_csv(record),
            "json": lambda: ropa.as_json(record),
        }[format]()
        self.stdout.write(text, ending="")
