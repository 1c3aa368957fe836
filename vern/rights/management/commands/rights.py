"""``vern rights replay-erasures`` erases again, after a backup is restored, everyone in the erasure journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import Actor
from vern.rights.journal import JournalUnavailable, describe, journal_url
from vern.rights.services.replay import replay_tombstones


class Command(BaseCommand):
    help = (
        "Rights requests. `replay-erasures`, to run after restoring a database backup, erases again the "
        "people in the erasure journal (the tombstones and the journal kept in a database of its own)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        replay = sub.add_parser(
            "replay-erasures", help="erase again what a restored backup brought back; safe to run more than once"
        )
        replay.add_argument(
            "--journal",
            default=None,
            help="another copy of the erasure journal: a SQLite file or a postgres:// URL "
            "(default: ERASURE_JOURNAL_URL, or erasure-journal.sqlite3 in the data dir)",
        )

    def handle(self, *args: Any, action: str, journal: str | None = None, **options: Any) -> None:
        if action != "replay-erasures":  # argparse allows only the subcommands above
            raise CommandError(f"rights: unknown action {action!r}")
        url = journal_url()
        if journal is not None:
            url = journal if "://" in journal else f"sqlite:///{Path(journal).resolve()}"
            if url.startswith("sqlite:") and not Path(journal).is_file():
                raise CommandError(f"rights: no journal file at {journal}")
        elif url.startswith("sqlite:") and not Path(describe(url)).is_file():
            self.stderr.write(f"rights: no journal at {describe(url)}; replaying the database's tombstones only")
        try:
            counts = replay_tombstones(actor=Actor.cli(), journal=url)
        except JournalUnavailable as exc:
            raise CommandError(f"rights: {exc}") from None
        for label, erased in counts.items():
            self.stdout.write(f"{label:32} erased {erased}")
        self.stdout.write(f"{sum(counts.values())} rows erased again")
