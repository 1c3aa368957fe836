from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vern.keys.selectors import is_kept, key_use_count, key_use_record, unattributed, verdicts
from vern.keys.services import BATCH_SIZE, Progress, keys_rotate
from vern.lib.keys import index_keys, keyring

SETTING = {"encryption": "VERN_ENCRYPTION_KEYS", "index": "VERN_INDEX_KEYS"}


class Command(BaseCommand):
    help = (
        "Rotate keys. `vern keys rotate` re-encrypts every encrypted value and recomputes every blind "
        "index under the first key of each list, in batches, while the site serves; `vern keys status` "
        "counts the values per key and says which old key can be retired."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser("rotate", help="re-encrypt and re-index under the current keys (resumable)")
        rotate.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"rows per batch (default {BATCH_SIZE})")
        rotate.add_argument(
            "--max-batches", type=int, default=None, help="stop after this many batches; run again to continue"
        )
        rotate.add_argument(
            "--pause", type=float, default=0.0, help="seconds to wait between batches, to spare a busy database"
        )
        sub.add_parser("status", help="count the stored values per key and record the count for `vern check --deploy`")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "rotate":
            self._rotate(batch_size=options["batch_size"], max_batches=options["max_batches"], pause=options["pause"])
        else:
            self._status()

    def _rotate(self, *, batch_size: int, max_batches: int | None, pause: float) -> None:
        if batch_size < 1 or (max_batches is not None and max_batches < 1) or not 0 <= pause <= 60:
            raise CommandError("--batch-size and --max-batches must be at least 1, and --pause 0 to 60 seconds")
        ring, keys = keyring(), index_keys()
        self.stdout.write(f"rotating to encryption key {ring.current!r} and index key {keys.current!r}")

        def tick(progress: Progress) -> None:
            if progress.batches % 50 == 0:
                self.stdout.write(f"  {progress.batches} batches, {progress.values_reencrypted} values re-encrypted")

        progress = keys_rotate(batch_size=batch_size, max_batches=max_batches, pause=pause, after_batch=tick)
        self.stdout.write(
            f"{progress.values_reencrypted} values re-encrypted, {progress.indexes_recomputed} indexes recomputed, "
            f"{progress.search_digests_rebuilt} enquiries' search digests rebuilt, "
            f"{progress.rows_changed_meanwhile} rows read again after a concurrent change"
        )
        if progress.values_unreadable:
            self.stderr.write(
                f"keys: {progress.values_unreadable} values could not be read (their key is not configured, or "
                "they are damaged); they were left as they are. `vern keys status` names the columns."
            )
        if progress.references_duplicate:
            self.stderr.write(
                f"keys: {progress.references_duplicate} keyed references already exist under the new key; the old "
                "ones stay and match while the old index key is configured"
            )
        if not progress.complete:
            self.stdout.write(f"stopped after {progress.batches} batches: run `vern keys rotate` again to continue")
            return
        self.stdout.write("rotation finished")
        self._status(count=False)

    def _status(self, *, count: bool = True) -> None:
        ring, keys = keyring(), index_keys()
        if count:
            uses = key_use_count(ring=ring, keys=keys)
            key_use_record(uses)
        else:
            from vern.keys.selectors import key_use_recorded

            uses = key_use_recorded()
        failed = False
        orphans = unattributed(uses)
        for verdict in verdicts(uses, ring=ring, keys=keys):
            if verdict.current:
                state = "current"
            elif not verdict.configured:
                state = f"NOT CONFIGURED in {SETTING[verdict.kind]}"
                failed = failed or verdict.values > 0
            elif verdict.values == 0:
                state = "can be retired once no backup written under it is kept"
                if verdict.kind == "index" and orphans:
                    state += "; references below that it made will no longer match"
            elif all(is_kept(column) for column in verdict.columns):
                state = "keep: hash chain rows still carry its mac until retention removes them"
            else:
                state = "in use: run `vern keys rotate`"
            self.stdout.write(f"{verdict.kind} key {verdict.key_id!r}: {verdict.values} values ({state})")
            for column, values in sorted(verdict.columns.items()):
                self.stdout.write(f"    {column}: {values}")
        if orphans and len(keys.keys) > 1:
            self.stdout.write(
                f"{sum(orphans.values())} keyed references have no stored email or phone (erased people, objections), "
                "so their key cannot be told; those made with an old index key match only while it is configured:"
            )
            for column, values in sorted(orphans.items()):
                self.stdout.write(f"    {column}: {values}")
        if failed:
            raise CommandError("stored values use a key that is not configured: they cannot be read or found")
