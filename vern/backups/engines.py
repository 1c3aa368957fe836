"""Taking a consistent snapshot of vern's database, and putting one back: SQLite and PostgreSQL.

- **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies the database page by
  page into a new file while other processes keep writing; what it copies is one consistent
  state. A restore copies the other way, into the live database through the same API, so the
  database file is never replaced under a process that has it open (its ``-wal`` stays true to
  it) and a reader sees either the old database or the restored one.
- **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot, compressed); a restore
  drops vern's tables and loads the archive (``pg_restore`` into SQL, run by ``psql``) in one
  transaction: all or nothing. The client tools (``pg_dump``, ``pg_restore``, ``psql``) must be
  installed where the command runs (``NoTool`` says which is missing).
  Credentials go to them in the environment (``PGPASSWORD``), never on the command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.db import connection, connections

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
PG_PACKAGE = "postgresql-client (Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq)"


class EngineError(RuntimeError):
    """The snapshot or the restore could not be made; the message says why in one line."""


class NoTool(EngineError):
    def __init__(self, tool: str) -> None:
        super().__init__(
            f"{tool} is not installed (or not on PATH): backups of a PostgreSQL database need the "
            f"PostgreSQL client tools, {PG_PACKAGE}, of the server's major version or newer"
        )
        self.tool = tool


def _sqlite_path() -> str:
    return str(connection.settings_dict["NAME"])


def kind() -> str:
    """``sqlite`` or ``postgresql``: the engine of vern's database."""
    vendor = connection.vendor
    if vendor in (SQLITE, POSTGRESQL):
        return vendor
    raise EngineError(f"backups support SQLite and PostgreSQL, not {vendor}")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NoTool(name)
    return found


def missing_tools() -> list[str]:
    """The client tools a backup and a restore need here that are not installed (PostgreSQL only)."""
    if kind() != POSTGRESQL:
        return []
    return [name for name in ("pg_dump", "pg_restore", "psql") if shutil.which(name) is None]


def _pg_environment() -> dict[str, str]:
    settings = connection.settings_dict
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    pairs = {
        "PGDATABASE": settings.get("NAME"),
        "PGHOST": settings.get("HOST"),
        "PGPORT": settings.get("PORT"),
        "PGUSER": settings.get("USER"),
        "PGPASSWORD": settings.get("PASSWORD"),
    }
    options = settings.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("service", "PGSERVICE")):
        if options.get(option):
            pairs[variable] = options[option]
    environment.update({key: str(value) for key, value in pairs.items() if value})
    environment["PGCONNECT_TIMEOUT"] = "10"
    return environment


def _first_lines(stderr: bytes) -> str:
    """The error of a tool's output in one line: its ERROR lines if it has any, else its first lines."""
    text = [line.strip() for line in stderr.decode("utf-8", "replace").strip().splitlines() if line.strip()]
    errors = [line for line in text if "ERROR" in line or "error:" in line]
    return " ".join((errors or text)[:3]) or "no message"


# ------------------------------------------------------------------ snapshot


@contextmanager
def snapshot(workdir: Path) -> Iterator[IO[bytes]]:
    """A readable stream of a consistent snapshot of the database.

    SQLite is copied into a file in ``workdir`` (0600, removed afterwards); PostgreSQL is
    streamed from ``pg_dump`` without touching the disk.
    """
    if kind() == SQLITE:
        copy = workdir / f".snapshot-{os.getpid()}.sqlite3"
        try:
            descriptor = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
            os.close(descriptor)
            # A connection of its own, read-only: it copies what is committed, whatever transaction
            # Django's connection in this process is in.
            source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True, timeout=30)
            target = sqlite3.connect(copy)
            try:
                source.backup(target)  # one consistent copy, page by page
            except sqlite3.Error as exc:
                raise EngineError(f"the SQLite online backup failed: {exc}") from None
            finally:
                target.close()
                source.close()
            with copy.open("rb") as stream:
                yield stream
        finally:
            copy.unlink(missing_ok=True)
        return

    program = tool("pg_dump")
    process = subprocess.Popen(  # noqa: S603 (fixed program and arguments)
        [program, "--format=custom", "--no-owner", "--no-privileges"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_pg_environment(),
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        yield process.stdout
        # Read whatever is left (nothing, unless the reader stopped early) so pg_dump can finish.
        while process.stdout.read(1024 * 1024):
            pass
        stderr = process.stderr.read()
        code = process.wait()
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        process.stdout.close()
        process.stderr.close()
    if code != 0:
        raise EngineError(f"pg_dump failed (exit status {code}): {_first_lines(stderr)}")


# ------------------------------------------------------------------ checking a payload before a restore


def applied_migrations_of_payload(payload: Path, database: str) -> set[tuple[str, str]] | None:
    """The migrations recorded in a SQLite payload (after checking it is a sound database); None
    for PostgreSQL, whose archive is checked by ``pg_restore --list`` instead."""
    if database == SQLITE:
        try:
            with sqlite3.connect(f"file:{payload}?mode=ro", uri=True) as db:
                verdict = db.execute("PRAGMA quick_check").fetchone()
                if not verdict or verdict[0] != "ok":
                    raise EngineError("the database in the backup is damaged (SQLite quick_check failed)")
                rows = db.execute("SELECT app, name FROM django_migrations").fetchall()
        except sqlite3.Error as exc:
            raise EngineError(f"the database in the backup cannot be read: {exc}") from None
        return {(str(app), str(name)) for app, name in rows}
    program = tool("pg_restore")
    result = subprocess.run(  # noqa: S603
        [program, "--list", str(payload)], capture_output=True, env=_pg_environment(), check=False
    )
    if result.returncode != 0:
        raise EngineError(f"pg_restore cannot read the archive in the backup: {_first_lines(result.stderr)}")
    return None


# ------------------------------------------------------------------ restore


def _live_tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


def restore(payload: Path, database: str) -> None:
    """Put the snapshot in ``payload`` in place of vern's database; all or nothing."""
    if database == SQLITE:
        connections.close_all()
        live = sqlite3.connect(_sqlite_path(), timeout=30)
        source = sqlite3.connect(f"file:{payload}?mode=ro", uri=True)
        try:
            source.backup(live)  # under SQLite's own locks: readers see the old or the new database
        except sqlite3.Error as exc:
            raise EngineError(f"the restore into SQLite failed, the database is unchanged: {exc}") from None
        finally:
            source.close()
            live.close()
        return

    program = tool("pg_restore")
    psql = tool("psql")
    # pg_restore --clean drops only what its archive holds, and fails on partitioned tables (it
    # drops a partition's inherited constraint before the parent). So every table of vern's database
    # is dropped first (a parent takes its partitions with it, a newer migration's table goes too), the
    # archive is turned into SQL by pg_restore --clean (which drops its functions and triggers too),
    # and psql runs both in one transaction:
    # all or nothing. The SQL is written next to the payload (0600) and removed afterwards.
    tables = sorted(_live_tables())
    connections.close_all()
    script = "".join(f'DROP TABLE IF EXISTS "{name}" CASCADE;\n' for name in tables)
    environment = {**_pg_environment(), "PGOPTIONS": "-c client_min_messages=warning"}
    drops, sql = payload.with_suffix(".drops.sql"), payload.with_suffix(".restore.sql")
    try:
        for path in (drops, sql):
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600))
        drops.write_text(script, encoding="utf-8")
        converted = subprocess.run(  # noqa: S603
            [program, "--clean", "--if-exists", "--no-owner", "--no-privileges", f"--file={sql}", str(payload)],
            capture_output=True,
            env=environment,
            check=False,
        )
        if converted.returncode != 0:
            raise EngineError(f"pg_restore failed, the database is unchanged: {_first_lines(converted.stderr)}")
        result = subprocess.run(  # noqa: S603
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--file={drops}",
                f"--file={sql}",
            ],
            capture_output=True,
            env=environment,
            check=False,
        )
    finally:
        drops.unlink(missing_ok=True)
        sql.unlink(missing_ok=True)
    tool_name = "psql"
    if result.returncode != 0:
        raise EngineError(f"{tool_name} failed, the database is unchanged: {_first_lines(result.stderr)}")
