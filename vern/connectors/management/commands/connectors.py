"""``vern connectors check``: reach each declared connector and compare it with the declaration.

One line per connector; exit status 1 when any configured connector fails. A connector whose URL
variable is unset is listed as not configured and does not fail the command.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vern.connectors import services
from vern.connectors.config import NotConfigured, declared


class Command(BaseCommand):
    help = "Check the company's other systems named in the published declaration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        connectors = declared()
        if not connectors:
            self.stdout.write("no connectors are declared")
            return
        failed = 0
        for connector in connectors:
            try:
                problems = services.connector_check(connector)
            except NotConfigured as exc:
                self.stdout.write(f"{connector.id}: not configured ({exc})")
                continue
            if problems:
                failed += 1
                self.stdout.write(f"{connector.id}: FAILED: {'; '.join(problems)}")
            else:
                self.stdout.write(f"{connector.id}: ok ({connector.kind})")
        if failed:
            sys.exit(1)
