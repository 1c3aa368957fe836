"""Tables partitioned by day on PostgreSQL, so that expiry drops whole days instead of deleting rows.

Append-heavy tables with a short life (raw analytics hits, the technical log)
grow by millions of rows a day on a busy site. Deleting a month-old day row by
row writes as much as inserting it did; dropping the day's partition is one
catalogue change. On PostgreSQL such a table is created ``PARTITION BY RANGE``
on its time column, with one partition per UTC day named ``<table>_pYYYYMMDD``;
the worker creates them a week ahead, and a write to a day that has none
creates it first. On SQLite the table is an ordinary one, and expiry deletes in
batches along the time index (the retention engine's usual path).

PostgreSQL requires the partition key in the primary key, so the key is
``(id, <time column>)``; Django still addresses rows by ``id``, which stays
unique because it comes from one sequence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.db import ProgrammingError, connection, models, transaction

_NAME = re.compile(r"^(?P<table>[a-z0-9_]+)_p(?P<day>\d{8})$")
_known: set[str] = set()  # partitions this process has seen or made
_UNDEFINED_TABLE = "42P01"


def supported() -> bool:
    return connection.vendor == "postgresql"


def partition_name(table: str, day: dt.date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def create_partitioned_table(schema_editor: Any, model: type[models.Model], key: str) -> None:
    """Create ``model``'s table (partitioned by day on ``key`` on PostgreSQL) with its indexes."""
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.create_model(model)
        return
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    sequence = f"{table}_{pk.column}_seq"
    columns = []
    for field in model._meta.local_fields:
        if field.primary_key:
            columns.append(f"{schema_editor.quote_name(field.column)} bigint NOT NULL DEFAULT nextval('{sequence}')")
            continue
        definition, params = schema_editor.column_sql(model, field, include_default=False)
        assert not params, "partitioned tables take no column defaults in the database"
        columns.append(f"{schema_editor.quote_name(field.column)} {definition}")
    key_field = model._meta.get_field(key)
    assert isinstance(key_field, models.Field)
    quoted_key = schema_editor.quote_name(key_field.column)
    columns.append(f"PRIMARY KEY ({schema_editor.quote_name(pk.column)}, {quoted_key})")
    schema_editor.execute(f"CREATE SEQUENCE {sequence}")
    schema_editor.execute(
        f"CREATE TABLE {schema_editor.quote_name(table)} ({', '.join(columns)}) PARTITION BY RANGE ({quoted_key})"
    )
    schema_editor.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.{pk.column}")
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)


def drop_partitioned_table(schema_editor: Any, model: type[models.Model]) -> None:
    schema_editor.delete_model(model)  # drops the partitions and the owned sequence with it


def is_partitioned(model: type[models.Model]) -> bool:
    if not supported():
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [model._meta.db_table],
        )
        return cursor.fetchone() is not None


def partitions(model: type[models.Model]) -> list[tuple[str, dt.date]]:
    """The table's day partitions, oldest first, as (name, day)."""
    if not supported():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s AND pg_table_is_visible(p.oid)",
            [model._meta.db_table],
        )
        found = []
        for (name,) in cursor.fetchall():
            match = _NAME.match(name)
            if match:
                found.append((name, dt.datetime.strptime(match["day"], "%Y%m%d").replace(tzinfo=dt.UTC).date()))
    return sorted(found, key=lambda item: item[1])


def ensure_partitions(model: type[models.Model], days: Iterable[dt.date]) -> list[str]:
    """Create the partitions of these UTC days that do not exist yet; returns the ones made."""
    if not supported():
        return []
    table = model._meta.db_table
    made = []
    for day in sorted(set(days)):
        name = partition_name(table, day)
        if name in _known:
            continue
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        end = start + dt.timedelta(days=1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                # IF NOT EXISTS: two processes may race to make the same day.
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{table}" '
                    f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
                made.append(name)
        _known.add(name)
    return made


def ensure_ahead(model: type[models.Model], today: dt.date, days_ahead: int) -> list[str]:
    return ensure_partitions(model, (today + dt.timedelta(days=n) for n in range(days_ahead + 1)))


def whole_days_before(model: type[models.Model], cutoff: dt.datetime) -> list[tuple[str, dt.date]]:
    """Partitions all of whose rows lie before ``cutoff`` (their day ended at or before it)."""
    last = cutoff.astimezone(dt.UTC).date()
    return [(name, day) for name, day in partitions(model) if day + dt.timedelta(days=1) <= last]


def _checked(model: type[models.Model], name: str) -> str:
    if not _NAME.match(name) or not name.startswith(model._meta.db_table + "_p"):
        raise ValueError(f"{name!r} is not a partition of {model._meta.db_table}")
    return name


def count_rows(model: type[models.Model], name: str) -> int | None:
    """How many rows one day of ``model`` holds; None if that partition is gone (another sweep dropped it)."""
    name = _checked(model, name)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (checked above)
            return int(cursor.fetchone()[0])
    except ProgrammingError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == _UNDEFINED_TABLE:
            _known.discard(name)
            return None
        raise


def drop_partition(model: type[models.Model], name: str, *, rows: int | None = None) -> int:
    """Drop one day of ``model``; returns how many rows it held.

    ``rows`` is the count the caller already took, when no row can have arrived since;
    without it, the rows are counted here, just before the drop.
    Waits at most 2 s for the lock (dropping a partition locks its parent table against
    every other use for that instant); raises ``OperationalError`` if it was not had.
    """
    name = _checked(model, name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '2s'")
        if rows is None:
            cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (checked above)
            rows = int(cursor.fetchone()[0])
        cursor.execute(f'DROP TABLE "{name}"')
    _known.discard(name)
    return rows


def lock_table_against_writes(model: type[models.Model]) -> None:
    """In the current transaction on PostgreSQL, keep others from writing to ``model``'s table."""
    if supported():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN SHARE MODE")


def forget() -> None:
    """Forget the partitions seen, e.g. after a test database was rebuilt."""
    _known.clear()
