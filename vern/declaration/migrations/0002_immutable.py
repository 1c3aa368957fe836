"""Published policy versions cannot be changed: a trigger refuses UPDATE.

Deletion is left to the database's owner (the test suite flushes tables
between tests); vern itself never deletes a version.
"""

from django.db import migrations

STATEMENTS = {
    "postgresql": (
        [
            """
            CREATE OR REPLACE FUNCTION vern_policy_version_immutable() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'a published policy version cannot be changed';
            END;
            $$ LANGUAGE plpgsql
            """,
            """
            CREATE TRIGGER policy_version_immutable BEFORE UPDATE ON declaration_policyversion
                FOR EACH ROW EXECUTE FUNCTION vern_policy_version_immutable()
            """,
        ],
        [
            "DROP TRIGGER IF EXISTS policy_version_immutable ON declaration_policyversion",
            "DROP FUNCTION IF EXISTS vern_policy_version_immutable()",
        ],
    ),
    "sqlite": (
        [
            """
            CREATE TRIGGER policy_version_immutable BEFORE UPDATE ON declaration_policyversion
            BEGIN
                SELECT RAISE(ABORT, 'a published policy version cannot be changed');
            END
            """
        ],
        ["DROP TRIGGER IF EXISTS policy_version_immutable"],
    ),
}


def _run(schema_editor, which):
    for statement in STATEMENTS[schema_editor.connection.vendor][which]:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("declaration", "0001_initial")]
    operations = [migrations.RunPython(lambda apps, se: _run(se, 0), lambda apps, se: _run(se, 1))]
