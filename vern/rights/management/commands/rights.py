"""``vern rights replay-erasures`` erases again, after a backup is restored, everyone in the erasure journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import Actor
from vern.rights.services.erasure import journal_path, replay_tombstones


class Command(BaseCommand):
    help = (
        "Rights requests. `replay-erasures`, to run after restoring a database backup, erases again the "
        "people in the erasure journal (the tombstones and the journal file outside the database)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        replay = sub.add_parser(
            "replay-erasures", help="erase again what a restored backup brought back; safe to run more than once"
        )
        replay.add_argument(
            "--journal",
            type=Path,
            default=None,
            help="the erasure journal file kept outside the database (default: erasure-journal.txt in the data dir)",
        )

    def handle(self, *args: Any, action: str, journal: Path | None = None, **options: Any) -> None:
        if action != "replay-erasures":  # argparse allows only the subcommands above
            raise CommandError(f"rights: unknown action {action!r}")
        if journal is not None and not journal.is_file():
            raise CommandError(f"rights: no journal file at {journal}")
        path = journal or journal_path()
        if not path.is_file():
            self.stderr.write(f"rights: no journal file at {path}; replaying the database's tombstones only")
        counts = replay_tombstones(actor=Actor.cli(), journal_file=path)
        for label, erased in counts.items():
            self.stdout.write(f"{label:32} erased {erased}")
        self.stdout.write(f"{sum(counts.values())} rows erased again")
