"""``vern processors seed|export``: start the register from the published policy; print it as CSV or JSON."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.selectors import declaration_of, latest_version
from vern.processors import selectors
from vern.processors.services import register_seed


class Command(BaseCommand):
    help = "The processor register: start it from the published declaration (seed), or print it (export)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("seed", help="Fill the register from the published declaration, once.")
        export = sub.add_parser("export", help="Print the register.")
        export.add_argument("--format", choices=["csv", "json"], default="json")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "seed":
            current = latest_version()
            if current is None:
                raise CommandError("no declaration is published yet; publish one first")
            added = register_seed(declaration=declaration_of(current), policy_version=current.number, actor=Actor.cli())
            if options["verbosity"] > 0:
                self.stdout.write(f"the processor register has {added} new processor(s) from version {current.number}")
            return
        rows = selectors.export_rows()
        audit_record(
            action=AuditEvent.PROCESSOR_REGISTER_EXPORTED,
            actor=Actor.cli(),
            object_type="processors.processor",
            data={"format": options["format"]},
        )
        text = selectors.export_csv(rows) if options["format"] == "csv" else selectors.export_json(rows)
        self.stdout.write(text, ending="")
