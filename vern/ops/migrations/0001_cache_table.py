"""The database cache's table (rate-limit buckets), created by migrate like every other table.

A migration rather than a post_migrate hook: Django sends post_migrate only for
apps with models, and `ops` has none.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Does nothing when CACHES uses Redis, and nothing for a table that exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
