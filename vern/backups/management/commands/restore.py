"""``vern restore FILE``: verify a backup completely, put it in place, migrate, and replay erasures."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils.translation import gettext as _

from vern.audit.services import Actor
from vern.backups.services import BackupError, backup_restore, backup_verify


def _explain(exc: BackupError) -> str:
    """One translated line for each reason a backup cannot be restored."""
    params = {**exc.params, "reason": str(exc)}
    texts = {
        "missing": _("there is no file at %(path)s"),
        "not_a_backup": _("this is not a vern backup file"),
        "unknown_key": _(
            "the backup was encrypted with the key %(key_id)s, which is not in VERN_ENCRYPTION_KEYS: add the old key "
            "back (after the current one) to restore it"
        ),
        "wrong_key": _(
            "the key %(key_id)s in VERN_ENCRYPTION_KEYS is not the key this backup was encrypted with (wrong key)"
        ),
        "corrupted": _("the backup is corrupted or was altered (%(reason)s)"),
        "truncated": _("the backup is truncated: the file is incomplete (%(reason)s)"),
        "other_database": _("the backup is of a %(backup)s database, but vern's database is %(current)s"),
        "newer_schema": _(
            "the backup comes from a newer vern (%(version)s) with a database schema this version does not know: "
            "upgrade vern first"
        ),
        "damaged": _("the database inside the backup is damaged (%(reason)s)"),
        "restore_failed": _("the restore failed and the database is unchanged (%(reason)s)"),
        "no_tool": "%(reason)s",
        "journal": _(
            "the erasure journal cannot be read, and without it people erased since the backup would come back "
            "(%(reason)s)"
        ),
        "replay_failed": _(
            "the backup is in place, but the erasure journal could not be replayed (%(reason)s). Keep vern "
            "stopped, make the journal reachable and run `vern rights replay-erasures`"
        ),
    }
    template = texts.get(exc.code, "%(reason)s")
    try:
        return template % params
    except (KeyError, ValueError):
        return str(exc)


class Command(BaseCommand):
    help = (
        "Restore an encrypted backup made by `vern backup`: it is decrypted and checked completely before "
        "anything is touched, put in place of vern's database, migrated if older, and then the erasure journal "
        "is replayed so that nobody erased since the backup comes back. Stop the web servers and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the backup file (vern-backup-….vbak)")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        parser.add_argument(
            "--check",
            action="store_true",
            help="only verify the file (key, checksum, schema) and change nothing: a restore drill's first step",
        )
        parser.add_argument(
            "--other-systems",
            action="store_true",
            help="erase again in the company's other systems too (the declaration's connectors): only when one of "
            "them was itself restored from a backup older than some erasures",
        )

    def handle(
        self,
        *args: Any,
        file: Path,
        yes: bool = False,
        check: bool = False,
        other_systems: bool = False,
        **options: Any,
    ) -> None:
        try:
            verified = backup_verify(file.expanduser())
        except BackupError as exc:
            raise CommandError(
                _("cannot restore: %(reason)s. Nothing was changed.") % {"reason": _explain(exc)}
            ) from None
        try:
            self.stdout.write(
                _(
                    "%(file)s: a %(database)s backup made %(created)s by vern %(version)s; decrypted and verified "
                    "(%(size)s bytes, SHA-256 %(sha)s)."
                )
                % {
                    "file": file.name,
                    "database": verified.database,
                    "created": verified.created_at,
                    "version": verified.header.get("vern_version", "?"),
                    "size": verified.size,
                    "sha": verified.sha256,
                }
            )
            if check:
                self.stdout.write(_("The backup can be restored. Nothing was changed."))
                return
            target = connection.settings_dict.get("NAME")
            if not yes:
                if not sys.stdin.isatty():
                    raise CommandError(_("refusing to restore without confirmation: run it in a terminal or add --yes"))
                answer = input(
                    _("This replaces everything in the database %(target)s with the backup. Type yes to go on: ")
                    % {"target": target}
                )
                if answer.strip().lower() not in ("yes", "ja"):
                    raise CommandError(_("restore cancelled. Nothing was changed."))
        except BaseException:
            verified.discard()
            raise
        try:
            restored = backup_restore(verified, actor=Actor.cli(), other_systems=other_systems)
        except BackupError as exc:
            raise CommandError(_("restore failed: %(reason)s") % {"reason": _explain(exc)}) from None
        if restored.migrated:
            self.stdout.write(
                _("The backup was older than this vern: %(n)s migrations applied.") % {"n": restored.migrated}
            )
        self.stdout.write(
            _("Restored. Erasure journal replayed: %(n)s records of erased people removed again.")
            % {"n": sum(restored.erased_again.values())}
        )
        if other_systems:
            self.stdout.write(
                _("Other systems: %(n)s rows of erased people erased again.") % {"n": sum(restored.elsewhere.values())}
            )
            for source, n in sorted(restored.elsewhere.items()):
                self.stdout.write(f"  {source}: {n}")
        else:
            self.stdout.write(
                _(
                    "The company's other systems were not touched: this restore brought nothing back there. If one "
                    "of them was restored from an older backup too, run: vern rights replay-erasures --other-systems"
                )
            )
