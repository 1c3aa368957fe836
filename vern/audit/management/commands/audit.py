from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import audit_anchor, audit_verify


class Command(BaseCommand):
    help = "Work with the audit log. `vern audit verify` recomputes the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check that no row was edited, inserted or deleted")
        verify.add_argument(
            "--anchor",
            action="append",
            default=[],
            help="SEQ:MAC from an audit checkpoint log line; the row must still be there, unchanged",
        )
        sub.add_parser("anchor", help="print SEQ:MAC of the newest row, to keep outside the database")

    def handle(self, *args: Any, action: str, anchor: list[str] | None = None, **options: Any) -> None:
        if action == "anchor":
            self.stdout.write(audit_anchor())
            return
        result = audit_verify(anchors=anchor)
        if result.problems:
            for problem in result.problems:
                self.stderr.write(f"audit: {problem}")
            raise CommandError(
                f"audit log verification FAILED: {len(result.problems)} problem(s) in {result.rows} rows"
            )
        self.stdout.write(f"audit log verified: {result.rows} rows, chain intact")
