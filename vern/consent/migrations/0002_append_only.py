"""Consent events and the texts they point at are proof: the database refuses to change them (UPDATE)."""

from django.db import migrations

STATEMENTS = {
    "postgresql": (
        [
            """
            CREATE OR REPLACE FUNCTION vern_consent_event_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'consent records are append-only: UPDATE of % is refused', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql
            """,
            """
            CREATE TRIGGER consent_event_immutable BEFORE UPDATE ON consent_consentevent
                FOR EACH ROW EXECUTE FUNCTION vern_consent_event_immutable()
            """,
            """
            CREATE TRIGGER consent_snapshot_immutable BEFORE UPDATE ON consent_snapshot
                FOR EACH ROW EXECUTE FUNCTION vern_consent_event_immutable()
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS consent_snapshot_immutable ON consent_snapshot",
            "DROP TRIGGER IF EXISTS consent_event_immutable ON consent_consentevent",
            "DROP FUNCTION IF EXISTS vern_consent_event_immutable()",
        ],
    ),
    "sqlite": (
        [
            """
            CREATE TRIGGER consent_event_immutable BEFORE UPDATE ON consent_consentevent
            BEGIN
                SELECT RAISE(ABORT, 'consent events are append-only: UPDATE of consent_consentevent is refused');
            END
            """,
            """
            CREATE TRIGGER consent_snapshot_immutable BEFORE UPDATE ON consent_snapshot
            BEGIN
                SELECT RAISE(ABORT, 'consent snapshots are append-only: UPDATE of consent_snapshot is refused');
            END
            """,
        ],
        ["DROP TRIGGER IF EXISTS consent_snapshot_immutable", "DROP TRIGGER IF EXISTS consent_event_immutable"],
    ),
}


def _run(schema_editor, which):
    for statement in STATEMENTS[schema_editor.connection.vendor][which]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(lambda apps, se: _run(se, 0), lambda apps, se: _run(se, 1))]
