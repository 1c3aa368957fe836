"""``vern backup``: one encrypted backup of vern's database now (the worker makes one nightly)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from vern.backups.services import BackupError, backup_create, backup_directory, backups_found


class Command(BaseCommand):
    help = (
        "Write an encrypted backup of vern's database (SQLite online backup, or pg_dump) with its manifest, "
        "0600 in a 0700 directory: VERN_BACKUP_DIR, by default VERN_DATA_DIR/backups. `--list` shows the "
        "backups there. Restore one with `vern restore FILE`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", type=Path, default=None, help="the directory to write to (default: VERN_BACKUP_DIR)"
        )
        parser.add_argument("--list", action="store_true", help="list the backups in the directory instead")

    def handle(self, *args: Any, output: Path | None = None, list: bool = False, **options: Any) -> None:
        directory = (output or backup_directory()).expanduser().resolve()
        if list:
            found = backups_found(directory)
            if not found:
                self.stdout.write(_("No backups in %(dir)s.") % {"dir": directory})
            for item in found:
                if item.header is None:
                    self.stdout.write(f"{item.path.name}  {_('unreadable')}: {item.problem}")
                    continue
                header = item.header
                self.stdout.write(
                    f"{item.path.name}  {header.get('created_at')}  {header.get('database')}  "
                    f"vern {header.get('vern_version')}  {_('key')} {header.get('key_id')}  "
                    f"{item.path.stat().st_size} B"
                )
            return
        try:
            made = backup_create(directory=directory)
        except BackupError as exc:
            raise CommandError(_("backup failed, nothing was written: %(reason)s") % {"reason": exc}) from None
        self.stdout.write(
            _("Encrypted backup written: %(path)s (%(size)s bytes, key %(key)s, payload SHA-256 %(sha)s)")
            % {"path": directory / made.name, "size": made.size, "key": made.key_id, "sha": made.sha256}
        )
