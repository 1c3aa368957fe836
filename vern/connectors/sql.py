"""Another system's SQL database (PostgreSQL, or MariaDB/MySQL) as a source of personal data.

Every statement is parameterised: the person's address or number, the cut-off time of a retention
sweep, always travel as parameters. Table and column names come from the declaration, where the
schema allows only ``[A-Za-z_][A-Za-z0-9_]*``; they are quoted for the dialect and used only after
``problems`` found each of them in the database's own catalogue (``information_schema``). Reading
runs in a read-only transaction; an erasure counts what it would change (its dry run), changes it
in the same transaction, and rolls back if the database changed a different number of rows. A
connector declared ``read_only`` is never written to.

Drivers: psycopg (already vern's PostgreSQL driver) and PyMySQL (pure Python, so it installs
without a compiler or the MariaDB client library; ADR 0018).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

import phonenumbers

from vern.connectors.config import ConnectorFailed, secret_value
from vern.declaration.durations import Duration
from vern.declaration.schema import Connector, ConnectorTable
from vern.registry.surface import ExternalRows, ExternalStep, Person

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


@dataclass
class Database:
    """An open connection to the other system, with its dialect's quoting."""

    dialect: str  # "postgresql" or "mysql"
    connection: Any

    def quote(self, name: str) -> str:
        if not NAME.match(name):  # the schema allows no other names; checked again where it is used
            raise ConnectorFailed(f"{name!r} is not a plain table or column name")
        return f'"{name}"' if self.dialect == "postgresql" else f"`{name}`"

    def execute(self, statement: str, parameters: Sequence[Any] = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(statement, tuple(parameters))
        return cursor


def _connect(url: str, timeout: int) -> Database:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("postgres", "postgresql"):
        import psycopg

        try:
            connection = psycopg.connect(
                url.replace("postgres://", "postgresql://", 1),
                connect_timeout=timeout,
                options=f"-c statement_timeout={timeout * 1000}",
            )
        except psycopg.Error as exc:
            raise ConnectorFailed(f"cannot connect to the PostgreSQL database: {_first_line(exc)}") from None
        return Database("postgresql", connection)
    if scheme in ("mysql", "mariadb"):
        import pymysql
        from pymysql.constants import CLIENT

        parts = urlsplit(url)
        try:
            mysql_connection = pymysql.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or ""),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/"),
                charset="utf8mb4",
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
                autocommit=False,
                # An UPDATE's row count is the rows it matched, as in PostgreSQL, not only those whose
                # value differed: a correction to the value a row already holds still counts that row.
                client_flag=CLIENT.FOUND_ROWS,
            )
        except pymysql.MySQLError as exc:
            raise ConnectorFailed(f"cannot connect to the MariaDB/MySQL database: {_first_line(exc)}") from None
        return Database("mysql", mysql_connection)
    raise ConnectorFailed(f"the URL's scheme {scheme!r} is not postgresql or mysql")


def _first_line(exc: BaseException) -> str:
    """A driver's message without what could hold a password (the URL is never part of it)."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@contextmanager
def opened(connector: Connector, *, read_only: bool) -> Iterator[Database]:
    """A connection in one transaction: committed when the block ends, rolled back on an error."""
    database = _connect(secret_value(connector.url_env), connector.timeout_seconds)
    try:
        if database.dialect == "postgresql":
            database.connection.read_only = read_only or connector.read_only
        else:
            database.execute("START TRANSACTION READ ONLY" if read_only or connector.read_only else "START TRANSACTION")
        yield database
        database.connection.commit()
    except ConnectorFailed:
        database.connection.rollback()
        raise
    except Exception as exc:
        database.connection.rollback()
        raise ConnectorFailed(f"{connector.id}: {type(exc).__name__}: {_first_line(exc)}") from None
    finally:
        database.connection.close()


# ------------------------------------------------------------------ checking the declaration against the database


def _columns(database: Database, table: str) -> dict[str, tuple[bool, str]]:
    """The table's columns: name → (may hold NULL, data type), from the catalogue."""
    current = "current_schema()" if database.dialect == "postgresql" else "DATABASE()"
    statement = "SELECT column_name, is_nullable, data_type FROM information_schema.columns WHERE table_schema = "
    cursor = database.execute(statement + current + " AND table_name = %s", [table])
    return {
        str(name): (str(nullable).upper() == "YES", str(kind).lower()) for name, nullable, kind in cursor.fetchall()
    }


TEXT_TYPES = ("char", "text", "varchar", "character varying", "character", "citext", "tinytext", "mediumtext")


def table_problems(database: Database, table: ConnectorTable) -> list[str]:
    """What in the declaration of ``table`` the database does not have (missing table or column)."""
    columns = _columns(database, table.name)
    if not columns:
        return [f"table {table.name!r} does not exist"]
    wanted = [name for names in table.identifiers.values() for name in names]
    wanted += [*table.export, *table.blank, *table.rectify]
    if table.retention is not None:
        wanted.append(table.retention.column)
    problems = [f"column {table.name}.{name} does not exist" for name in dict.fromkeys(wanted) if name not in columns]
    for name in table.blank if table.erasure == "blank" else ():
        if name in columns and not columns[name][0] and not any(t in columns[name][1] for t in TEXT_TYPES):
            problems.append(f"column {table.name}.{name} can be neither NULL nor empty text, so it cannot be blanked")
    for name in table.rectify:
        if name in columns and not any(t in columns[name][1] for t in TEXT_TYPES):
            problems.append(f"column {table.name}.{name} is not text, so it cannot be corrected here")
    return problems


def problems(connector: Connector) -> list[str]:
    """Every way the database does not fit the declaration; empty when it does (and it was reached)."""
    with opened(connector, read_only=True) as database:
        return [problem for table in connector.tables for problem in table_problems(database, table)]


def _checked(database: Database, connector: Connector) -> None:
    found = [problem for table in connector.tables for problem in table_problems(database, table)]
    if found:
        raise ConnectorFailed(f"{connector.id}: " + "; ".join(found))


# ------------------------------------------------------------------ finding a person


def _phone_spellings(phone: str) -> list[str]:
    """An E.164 number and its national digits, the two ways another system commonly stores it."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return [phone]
    return list(dict.fromkeys([phone, str(parsed.national_number)]))


def _match(database: Database, table: ConnectorTable, person: Person) -> tuple[str, list[Any]]:
    """The WHERE condition and parameters that find the person's rows in ``table`` ("" if nothing can)."""
    clauses: list[str] = []
    parameters: list[Any] = []
    if person.email:
        for column in table.identifiers.get("email", []):
            clauses.append(f"LOWER({database.quote(column)}) = %s")
            parameters.append(person.email.strip().lower())
    if person.phone:
        spellings = _phone_spellings(person.phone)
        for column in table.identifiers.get("phone", []):
            clauses.append(f"{database.quote(column)} IN ({', '.join(['%s'] * len(spellings))})")
            parameters.extend(spellings)
    return " OR ".join(f"({clause})" for clause in clauses), parameters


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None  # binary data has no readable form; the column should not be exported
    return value


def source_of(connector: Connector, table: ConnectorTable) -> str:
    return f"{connector.id}.{table.name}"


def find(connector: Connector, person: Person) -> list[ExternalRows]:
    """The person's rows in every declared table, with the exported columns, read-only."""
    found = []
    with opened(connector, read_only=True) as database:
        _checked(database, connector)
        for table in connector.tables:
            condition, parameters = _match(database, table, person)
            if not condition:
                continue
            columns = ", ".join(database.quote(name) for name in table.export)
            cursor = database.execute(
                f"SELECT {columns} FROM {database.quote(table.name)} WHERE {condition}",  # noqa: S608 (names checked and quoted, values bound)
                parameters,
            )
            rows = tuple(
                {name: _plain(value) for name, value in zip(table.export, row, strict=True)}
                for row in cursor.fetchall()
            )
            found.append(
                ExternalRows(
                    source=source_of(connector, table),
                    title=str(table.title.en if person.language == "en" else table.title.nb),
                    purpose=connector.purpose,
                    fields=tuple(table.export),
                    rows=rows,
                    portable=table.portable,
                    contacts={kind: tuple(names) for kind, names in table.identifiers.items()},
                    rectifiable=() if connector.read_only else tuple(table.rectify),
                )
            )
    return found


# ------------------------------------------------------------------ erasing: the dry run, then the change


def _blanks(database: Database, table: ConnectorTable) -> tuple[str, str, list[Any]]:
    """(SET clause, condition of rows still holding something, parameters of the SET) for blanking."""
    columns = _columns(database, table.name)
    sets, pending, values = [], [], []
    for name in table.blank:
        quoted = database.quote(name)
        nullable = columns[name][0]
        sets.append(f"{quoted} = %s")
        values.append(None if nullable else "")
        pending.append(f"({quoted} IS NOT NULL AND {quoted} <> '')" if not nullable else f"{quoted} IS NOT NULL")
    return ", ".join(sets), " OR ".join(pending), values


def _erase_rows(
    database: Database, table: ConnectorTable, condition: str, parameters: list[Any], *, dry_run: bool
) -> int:
    """Count the rows an erasure of ``condition`` changes; unless ``dry_run``, change exactly those."""
    name = database.quote(table.name)
    if table.erasure == "blank":
        set_clause, pending, values = _blanks(database, table)
        condition = f"({condition}) AND ({pending})"
    cursor = database.execute(f"SELECT COUNT(*) FROM {name} WHERE {condition}", parameters)  # noqa: S608
    count = int(cursor.fetchone()[0])
    if dry_run or not count:
        return count
    if table.erasure == "blank":
        cursor = database.execute(f"UPDATE {name} SET {set_clause} WHERE {condition}", [*values, *parameters])  # noqa: S608
    else:
        cursor = database.execute(f"DELETE FROM {name} WHERE {condition}", parameters)  # noqa: S608
    if cursor.rowcount != count:
        raise ConnectorFailed(f"{table.name}: the dry run counted {count} rows but {cursor.rowcount} changed")
    return count


def erase(connector: Connector, person: Person, *, dry_run: bool) -> list[ExternalStep]:
    """Delete or blank the person's rows as each table declares; with ``dry_run``, only count them.

    All tables of a connector change in one transaction: a failure in one changes none of them.
    """
    steps = []
    with opened(connector, read_only=dry_run) as database:
        _checked(database, connector)
        for table in connector.tables:
            condition, parameters = _match(database, table, person)
            if not condition:
                continue
            title = str(table.title.en if person.language == "en" else table.title.nb)
            source = source_of(connector, table)
            if table.erasure == "retain" or connector.read_only:
                cursor = database.execute(
                    f"SELECT COUNT(*) FROM {database.quote(table.name)} WHERE {condition}",  # noqa: S608
                    parameters,
                )
                count = int(cursor.fetchone()[0])
                note = "read_only" if connector.read_only and table.erasure != "retain" else ""
                steps.append(ExternalStep(source=source, title=title, count=count, action="retain", note=note))
                continue
            count = _erase_rows(database, table, condition, parameters, dry_run=dry_run)
            action = "anonymise" if table.erasure == "blank" else "delete"
            fields = tuple(table.blank) if table.erasure == "blank" else ()
            steps.append(ExternalStep(source=source, title=title, count=count, action=action, fields=fields))
    return steps


# ------------------------------------------------------------------ retention


def sweep(connector: Connector, now: dt.datetime, *, dry_run: bool, is_held: Callable[[str], bool]) -> dict[str, int]:
    """Remove (or count) the rows of tables with a declared period whose time column is past it.

    A row whose address belongs to a held person (an open request, a legal hold: ``is_held`` of the
    lowercased address) is spared. A read-only connector is only counted.
    """
    removed: dict[str, int] = {}
    with opened(connector, read_only=dry_run or connector.read_only) as database:
        _checked(database, connector)
        for table in connector.tables:
            if table.retention is None or table.erasure == "retain":
                continue
            cutoff = Duration.parse(table.retention.period).before(now)
            if database.dialect == "mysql":
                cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)  # MariaDB stores naive times (UTC)
            condition = f"{database.quote(table.retention.column)} < %s"
            parameters: list[Any] = [cutoff]
            for column in table.identifiers.get("email", []):
                quoted = database.quote(column)
                cursor = database.execute(
                    f"SELECT DISTINCT LOWER({quoted}) FROM {database.quote(table.name)} WHERE {condition}",  # noqa: S608
                    parameters,
                )
                held = sorted(str(value) for (value,) in cursor.fetchall() if value and is_held(str(value)))
                if held:
                    condition += f" AND ({quoted} IS NULL OR LOWER({quoted}) NOT IN ({', '.join(['%s'] * len(held))}))"
                    parameters.extend(held)
            removed[source_of(connector, table)] = _erase_rows(
                database, table, condition, parameters, dry_run=dry_run or connector.read_only
            )
    return removed


# ------------------------------------------------------------------ replaying erasures after a restore


def replay(connector: Connector, *, matches: Callable[[str, str], bool], dry_run: bool = False) -> dict[str, int]:
    """Erase again the rows whose identifier is an erased person's (``matches(kind, value)``).

    The other system stores identifiers as they are, and the journal keeps only keyed digests: each
    distinct value of an identifier column is digested and compared. Erasing is the erasure's own
    (dry run, change, same count); a row already blanked or deleted counts 0, so running it twice
    does nothing more. A read-only connector and a retained table are left alone.
    """
    erased: dict[str, int] = {}
    if connector.read_only:
        return erased
    with opened(connector, read_only=dry_run) as database:
        _checked(database, connector)
        for table in connector.tables:
            if table.erasure == "retain":
                continue
            clauses: list[str] = []
            parameters: list[Any] = []
            for kind, names in table.identifiers.items():
                for column in names:
                    quoted = database.quote(column)
                    cursor = database.execute(
                        f"SELECT DISTINCT {quoted} FROM {database.quote(table.name)} WHERE {quoted} IS NOT NULL",  # noqa: S608
                    )
                    values = sorted(
                        {str(value) for (value,) in cursor.fetchall() if value and matches(kind, str(value))}
                    )
                    if values:
                        clauses.append(f"{quoted} IN ({', '.join(['%s'] * len(values))})")
                        parameters.extend(values)
            if clauses:
                condition = " OR ".join(f"({clause})" for clause in clauses)
                erased[source_of(connector, table)] = _erase_rows(
                    database, table, condition, parameters, dry_run=dry_run
                )
            else:
                erased[source_of(connector, table)] = 0
    return erased


# ------------------------------------------------------------------ rectification (Art. 16)


class Refused(ConnectorFailed):
    """The correction cannot be made as asked: it does not fit the declaration (a column not declared,
    a read-only connector), or the person's rows changed since the officer looked. Not a fault of the
    connector, so its health stays as it was."""


def rectify(connector: Connector, table_name: str, person: Person, changes: dict[str, str], *, expected: int) -> int:
    """Set the declared ``changes`` on the person's rows of one table; the number of rows changed.

    In one transaction: the rows are counted first (the dry run); the count must be the ``expected``
    rows the officer saw; the UPDATE must then change exactly that many, or all is rolled back.
    """
    table = next((t for t in connector.tables if t.name == table_name), None)
    if table is None:
        raise Refused(f"{connector.id}: no table {table_name!r} is declared")
    if connector.read_only:
        raise Refused(f"{connector.id}: the connector is read-only")
    refused = sorted(name for name in changes if name not in table.rectify)
    if refused or not changes:
        raise Refused(f"{connector.id}: {table.name}: these columns may not be corrected: {', '.join(refused) or '-'}")
    with opened(connector, read_only=False) as database:
        _checked(database, connector)
        condition, parameters = _match(database, table, person)
        if not condition:
            raise Refused(f"{connector.id}: {table.name}: the person cannot be found by what the request holds")
        name = database.quote(table.name)
        cursor = database.execute(f"SELECT COUNT(*) FROM {name} WHERE {condition}", parameters)  # noqa: S608
        count = int(cursor.fetchone()[0])
        if count != expected or count == 0:  # the rows changed since the officer looked: not a fault
            raise Refused(
                f"{connector.id}: {table.name}: {count} rows of the person are there now, not the {expected} shown; "
                "nothing was changed"
            )
        ordered = sorted(changes)
        sets = ", ".join(f"{database.quote(column)} = %s" for column in ordered)
        cursor = database.execute(
            f"UPDATE {name} SET {sets} WHERE {condition}",  # noqa: S608 (names checked and quoted, values bound)
            [*(changes[column] for column in ordered), *parameters],
        )
        if cursor.rowcount != count:
            raise Refused(
                f"{connector.id}: {table.name}: the dry run counted {count} rows but {cursor.rowcount} changed; "
                "nothing was changed"
            )
    return count
