"""``vern rights replay-erasures`` erases again, after a backup is restored, everyone in the erasure journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.audit.services import Actor
from vern.rights.journal import JournalUnavailable, describe, is_legacy_file, journal_url, legacy_path
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
            help="another copy of the erasure journal: a SQLite file, a postgres:// URL, or the text file "
            "erasure-journal.txt of an earlier version (default: ERASURE_JOURNAL_URL, or "
            "erasure-journal.sqlite3 in the data dir, with erasure-journal.txt if it is there)",
        )
        replay.add_argument(
            "--other-systems",
            action="store_true",
            help="erase again in the company's other systems (the declaration's connectors) too: only when one "
            "of them was itself restored from a backup older than some erasures (people erased long ago may "
            "have come back to them since)",
        )

    def handle(
        self, *args: Any, action: str, journal: str | None = None, other_systems: bool = False, **options: Any
    ) -> None:
        if action != "replay-erasures":  # argparse allows only the subcommands above
            raise CommandError(f"rights: unknown action {action!r}")
        url: str | None = None
        legacy: Path | None = None
        if journal is not None and "://" in journal:
            url = journal
            if url.startswith("sqlite:") and not Path(describe(url)).is_file():
                raise CommandError(f"rights: no journal file at {describe(url)}")
        elif journal is not None:
            path = Path(journal)
            if not path.is_file():
                raise CommandError(f"rights: no journal file at {journal}")
            if is_legacy_file(path):
                legacy = path  # a text journal of an earlier version
            else:
                url = f"sqlite:///{path.resolve()}"
        else:
            configured = journal_url()
            if configured.startswith("sqlite:") and not Path(describe(configured)).is_file():
                self.stderr.write(
                    f"rights: no journal at {describe(configured)}; replaying the database's tombstones"
                    + (" and the journal file of an earlier version" if legacy_path().is_file() else "")
                    + " only"
                )
        try:
            counts = replay_tombstones(actor=Actor.cli(), journal=url, legacy_file=legacy, other_systems=other_systems)
        except JournalUnavailable as exc:
            raise CommandError(f"rights: {exc}") from None
        for label, erased in counts.items():
            self.stdout.write(f"{label:32} erased {erased}")
        self.stdout.write(f"{sum(counts.values())} rows erased again")
