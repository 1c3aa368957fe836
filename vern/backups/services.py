"""Encrypted backups: making one, deleting those past the declared period, and restoring one (R16, P18).

- ``backup_create`` takes a consistent snapshot (``engines.snapshot``), seals it chunk by chunk
  with AES-256-GCM (``vern.lib.sealed``) under a key derived from the current key of
  ``VERN_ENCRYPTION_KEYS`` (docs/adr/0010-backups.md), and writes it 0600 into the 0700 backup
  directory under a temporary name that becomes the real one only once it is complete.
- ``backups_prune`` deletes the files older than the declaration's ``security.backup_period``:
  the erasure receipt promises that no backup holds an erased person after it.
- ``backup_verify`` decrypts a file completely and checks its checksum and schema before anything
  is touched; ``backup_restore`` then puts it in place, migrates it if it is older than the code,
  and replays the erasure journal, so that nobody erased since the snapshot comes back.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import vern
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.backups import engines
from vern.backups.models import Backup
from vern.declaration.durations import Duration
from vern.declaration.selectors import published_declaration
from vern.keys.services import keys_rotate
from vern.lib import sealed
from vern.lib.keys import index_keys, keyring
from vern.lib.logs import redact
from vern.lib.private import FILE_MODE, private_directory
from vern.registry.entries import entries
from vern.rights.journal import JournalUnavailable, journal_read
from vern.rights.services.replay import replay_tombstones

log = logging.getLogger(__name__)

PREFIX = "vern-backup-"
SUFFIX = ".vbak"
_NAME = re.compile(r"^vern-backup-\d{8}T\d{6}Z-\d+\.vbak$")
# A nightly job that runs again (a worker died after the backup) does not make a second one.
NIGHTLY_AGAIN_AFTER = dt.timedelta(hours=20)
# Leftovers of a process that died mid-way (".partial", snapshot and restore copies) go after this.
LEFTOVER_AGE = dt.timedelta(hours=12)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; ``code`` names the reason for translated messages."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def backup_directory() -> Path:
    return Path(settings.VERN_BACKUP_DIR)


def _root_key(key_id: str) -> bytes | None:
    """The backup key of ``key_id`` is derived from the encryption key of that id (ADR 0010)."""
    return keyring().keys.get(key_id)


def _applied_migrations() -> list[str]:
    applied = MigrationRecorder(connection).applied_migrations()
    return sorted(f"{app}.{name}" for app, name in applied)


def _manifest(created_at: dt.datetime) -> dict[str, Any]:
    return {
        "vern_version": vern.__version__,
        "database": engines.kind(),
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "migrations": _applied_migrations(),
    }


def _sync_directory(path: Path) -> None:
    """The directory entry of a renamed file is durable too (POSIX), not only the file's bytes."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# ------------------------------------------------------------------ making a backup


def backup_create(
    *, trigger: str = Backup.Trigger.COMMAND, directory: Path | None = None, chunk: int = sealed.CHUNK
) -> Backup:
    """Write one encrypted backup of vern's database; raises ``BackupError`` (and records why) if it fails."""
    now = timezone.now()
    ring = keyring()
    record = Backup.objects.create(trigger=trigger, started_at=now, key_id=ring.current)
    record.name = f"{PREFIX}{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{record.pk}{SUFFIX}"
    record.save(update_fields=["name"])
    partial: Path | None = None
    try:
        target_dir = private_directory(directory or backup_directory())
        record.database = engines.kind()
        final = target_dir / record.name
        partial = target_dir / (record.name + ".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.chmod(partial, FILE_MODE)  # whatever the umask
        with engines.snapshot(target_dir) as source, os.fdopen(descriptor, "wb") as out:
            trailer = sealed.seal(
                source, out, manifest=_manifest(now), key_id=ring.current, root_key=ring.keys[ring.current], chunk=chunk
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
        _sync_directory(target_dir)
    except (OSError, engines.EngineError) as exc:
        if partial is not None:
            partial.unlink(missing_ok=True)
        record.status = Backup.Status.FAILED
        # pg_dump's message names the server (perhaps by its address): shortened, as in every log line,
        # so that the audit log, which refuses a full IP address, records the failure.
        record.error = redact(str(exc))[:2000]
        record.finished_at = timezone.now()
        record.save(update_fields=["status", "error", "finished_at", "database"])
        audit_record(
            action=AuditEvent.BACKUP_FAILED,
            actor=Actor.system() if trigger == Backup.Trigger.NIGHTLY else Actor.cli(),
            object_type="backups.backup",
            object_id=record.pk,
            data={"error": record.error[:300]},
        )
        log.error("backup %s failed: %s", record.pk, record.error)
        code = "no_tool" if isinstance(exc, engines.NoTool) else "failed"
        raise BackupError(code, record.error) from exc
    record.status = Backup.Status.OK
    record.size = final.stat().st_size
    record.sha256 = trailer.sha256
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "size", "sha256", "finished_at", "database"])
    audit_record(
        action=AuditEvent.BACKUP_CREATED,
        actor=Actor.system() if trigger == Backup.Trigger.NIGHTLY else Actor.cli(),
        object_type="backups.backup",
        object_id=record.pk,
        data={"file": record.name, "bytes": record.size, "key_id": record.key_id, "database": record.database},
    )
    log.info("backup %s written: %s bytes", record.name, record.size)
    return record


def backup_nightly() -> Backup | None:
    """The worker's nightly backup, then the deletion of those past the declared period.

    Safe to run again: a second run within 20 hours of a successful one makes no second backup.
    """
    since = timezone.now() - NIGHTLY_AGAIN_AFTER
    made = None
    if not Backup.objects.filter(
        trigger=Backup.Trigger.NIGHTLY, status=Backup.Status.OK, started_at__gt=since
    ).exists():
        made = backup_create(trigger=Backup.Trigger.NIGHTLY)
    backups_prune()
    return made


# ------------------------------------------------------------------ the files in the directory


@dataclass(frozen=True)
class Found:
    path: Path
    header: dict[str, Any] | None
    problem: str = ""

    @property
    def created_at(self) -> dt.datetime | None:
        if self.header is None:
            return None
        try:
            moment = dt.datetime.fromisoformat(str(self.header.get("created_at")))
        except ValueError:
            return None
        return moment if moment.tzinfo else None


def backups_found(directory: Path | None = None) -> list[Found]:
    """The backup files in the directory, oldest first, each with its manifest (read without the key)."""
    folder = directory or backup_directory()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if not _NAME.match(path.name):
            continue
        try:
            with path.open("rb") as stream:
                header, _raw = sealed.read_header(stream)
            found.append(Found(path=path, header=header))
        except (OSError, sealed.SealedError) as exc:
            found.append(Found(path=path, header=None, problem=str(exc)))
    return found


def backup_period() -> Duration | None:
    """How long backups are kept, as the published declaration says; None when it says nothing."""
    declaration = published_declaration()
    if declaration is None or not declaration.security.backup_period:
        return None
    return Duration.parse(declaration.security.backup_period)


def backups_prune(*, now: dt.datetime | None = None, directory: Path | None = None) -> list[str]:
    """Delete the backups made longer ago than the declared backup period; their names.

    Without a declared period nothing is deleted (and the log says so): deleting needs a rule.
    A file whose manifest cannot be read is left for a person to look at.
    """
    now = now or timezone.now()
    folder = directory or backup_directory()
    _remove_leftovers(folder, now)
    period = backup_period()
    if period is None:
        log.warning("no backup period is declared (security.backup_period): no backup is deleted")
        return []
    cutoff = period.before(now)
    deleted = []
    for found in backups_found(folder):
        created = found.created_at
        if found.header is None or created is None:
            log.warning("backup %s has no readable manifest and is kept: %s", found.path.name, found.problem)
            continue
        if created < cutoff:
            found.path.unlink(missing_ok=True)
            deleted.append(found.path.name)
    if deleted:
        _sync_directory(folder)
        Backup.objects.filter(name__in=deleted, deleted_at__isnull=True).update(deleted_at=now)
        audit_record(
            action=AuditEvent.BACKUPS_PRUNED,
            actor=Actor.system(),
            object_type="backups.backup",
            data={"files": deleted, "period": str(period)},
        )
        log.info("%d backup(s) past the declared period of %s deleted", len(deleted), period)
    return deleted


def _remove_leftovers(folder: Path, now: dt.datetime) -> None:
    """Half-written files of processes that died: a partial backup, a snapshot or restore copy."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        leftover = path.name.endswith(".partial") or path.name.startswith((".snapshot-", ".restore-"))
        if not leftover:
            continue
        try:
            changed = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
        except FileNotFoundError:
            continue
        if now - changed > LEFTOVER_AGE:
            path.unlink(missing_ok=True)


def backups_record_directory(directory: Path | None = None) -> int:
    """Record again the backups in the directory that the database does not know as made (after a
    restore, its rows are those of the snapshot's time); how many rows were written."""
    written = 0
    for found in backups_found(directory):
        if found.header is None:
            continue
        row = Backup.objects.filter(name=found.path.name).first()
        if row is not None and row.status == Backup.Status.OK:
            continue
        created = found.created_at or timezone.now()
        values = {
            "status": Backup.Status.OK,
            "database": str(found.header.get("database", "")),
            "key_id": str(found.header.get("key_id", "")),
            "size": found.path.stat().st_size,
            "started_at": created,
            "finished_at": created,
            "error": "",
        }
        if row is None:
            Backup.objects.create(name=found.path.name, **values)
        else:
            Backup.objects.filter(pk=row.pk).update(**values)
        written += 1
    return written


# ------------------------------------------------------------------ restoring


@dataclass
class Verified:
    """A backup that decrypted completely and whose checksum holds, ready to restore."""

    source: Path
    payload: Path
    header: dict[str, Any]
    sha256: str
    size: int
    missing_migrations: list[str] = field(default_factory=list)

    @property
    def created_at(self) -> str:
        return str(self.header.get("created_at", "?"))

    @property
    def database(self) -> str:
        return str(self.header.get("database", "?"))

    def discard(self) -> None:
        self.payload.unlink(missing_ok=True)


def _sealed_error(exc: sealed.SealedError) -> BackupError:
    key_id = getattr(exc, "key_id", "")
    return BackupError(exc.code, str(exc), key_id=key_id)


def backup_verify(path: Path) -> Verified:
    """Decrypt the whole file into a private copy and check everything a restore depends on.

    Nothing of vern's database is touched. Raises ``BackupError`` with the code ``missing``,
    ``journal``, ``not_a_backup``, ``unknown_key``, ``wrong_key``, ``corrupted``, ``truncated``,
    ``other_database``, ``newer_schema`` or ``damaged``.
    """
    if not path.is_file():
        raise BackupError("missing", f"no file at {path}", path=str(path))
    try:
        journal_read()  # the replay after the restore must be able to read it: checked before anything changes
    except JournalUnavailable as exc:
        raise BackupError("journal", str(exc)) from None
    workdir = private_directory(backup_directory())
    payload = workdir / f".restore-{os.getpid()}.payload"
    descriptor = os.open(payload, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with path.open("rb") as source, os.fdopen(descriptor, "wb") as out:
            header, trailer = sealed.unseal(source, out.write, key_for=_root_key)
            out.flush()
            os.fsync(out.fileno())
        verified = Verified(source=path, payload=payload, header=header, sha256=trailer.sha256, size=trailer.size)
        current = engines.kind()
        if verified.database != current:
            raise BackupError(
                "other_database",
                f"the backup is of a {verified.database} database, vern's database is {current}",
                backup=verified.database,
                current=current,
            )
        recorded: set[tuple[str, str]] = set()
        for item in header.get("migrations", []):
            app, _, name = str(item).partition(".")
            recorded.add((app, name))
        known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
        newer = sorted(f"{app}.{name}" for app, name in recorded - known)
        if newer:
            raise BackupError(
                "newer_schema",
                f"the backup was made by a newer vern ({header.get('vern_version')}): migrations "
                f"{', '.join(newer[:5])} are unknown here",
                version=str(header.get("vern_version", "?")),
            )
        try:
            in_payload = engines.applied_migrations_of_payload(payload, verified.database)
        except engines.EngineError as exc:
            raise BackupError("damaged", str(exc)) from None
        if in_payload is not None and in_payload != recorded:
            raise BackupError("damaged", "the database in the backup does not match its manifest")
        verified.missing_migrations = sorted(f"{app}.{name}" for app, name in known - recorded)
        return verified
    except sealed.SealedError as exc:
        payload.unlink(missing_ok=True)
        raise _sealed_error(exc) from None
    except BaseException:
        payload.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Restored:
    migrated: int
    erased_again: dict[str, int]  # rows per model of vern's and per source of another system
    elsewhere: dict[str, int] = field(default_factory=dict)  # the sources of other systems among them


def backup_restore(verified: Verified, *, actor: Actor, other_systems: bool = False) -> Restored:
    """Put a verified backup in place of vern's database, migrate it when it is older than the
    code, and replay the erasure journal; the private copy is removed whatever happens. With
    ``other_systems`` the replay reaches the company's other systems too (``replay_tombstones``)."""
    try:
        try:
            engines.restore(verified.payload, verified.database)
        except engines.EngineError as exc:
            raise BackupError("restore_failed", str(exc)) from None
    finally:
        verified.discard()
    if verified.missing_migrations:
        call_command("migrate", interactive=False, verbosity=0)
    # The snapshot's blind indexes are under the index key of its time. An erasure since then may have
    # been journalled under a newer one (the journal keeps only keyed digests), so the restored rows are
    # first brought under the current keys, or the replay would not find the person (docs/adr/0003-keys.md).
    if len(index_keys().keys) > 1:
        keys_rotate(actor=actor)
    # Everyone erased since the snapshot (and before it, should its tombstones be incomplete).
    try:
        erased_again = replay_tombstones(actor=actor, other_systems=other_systems)
    except JournalUnavailable as exc:
        raise BackupError("replay_failed", str(exc)) from None
    backups_record_directory()
    audit_record(
        action=AuditEvent.BACKUP_RESTORED,
        actor=actor,
        object_type="backups.backup",
        data={
            "file": verified.source.name,
            "created_at": verified.created_at,
            "sha256": verified.sha256,
            "migrations_applied": len(verified.missing_migrations),
            "erased_again": sum(erased_again.values()),
        },
    )
    log.info(
        "backup %s restored; %d rows erased again from the journal", verified.source.name, sum(erased_again.values())
    )
    own = {entry.label for entry in entries()}
    elsewhere = {label: n for label, n in erased_again.items() if label not in own}
    return Restored(migrated=len(verified.missing_migrations), erased_again=erased_again, elsewhere=elsewhere)
