"""The database itself refuses to change an audit row.

A trigger raises on UPDATE of ``audit_entry`` on PostgreSQL and SQLite alike.
Deletion is not blocked here, because retention will prune the oldest rows and
the test database is flushed between tests; ``vern audit verify`` detects any
deleted row through the gap it leaves in the chain.
"""

from django.db import migrations

POSTGRES_UP = [
    """
    CREATE OR REPLACE FUNCTION vern_audit_entry_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only: UPDATE of audit_entry is refused';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_entry_immutable BEFORE UPDATE ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION vern_audit_entry_immutable()
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_entry_immutable ON audit_entry",
    "DROP FUNCTION IF EXISTS vern_audit_entry_immutable()",
]
SQLITE_UP = [
    """
    CREATE TRIGGER audit_entry_immutable BEFORE UPDATE ON audit_entry
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE of audit_entry is refused');
    END
    """
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_entry_immutable"]
STATEMENTS = {
    "postgresql": (POSTGRES_UP, POSTGRES_DOWN),
    "sqlite": (SQLITE_UP, SQLITE_DOWN),
}


def _run(schema_editor, which):
    up_down = STATEMENTS.get(schema_editor.connection.vendor)
    if up_down is None:
        raise RuntimeError(f"vern supports SQLite and PostgreSQL, not {schema_editor.connection.vendor}")
    for statement in up_down[which]:
        schema_editor.execute(statement, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, 0)


def backwards(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
