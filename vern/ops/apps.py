from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OpsConfig(AppConfig):
    name = "vern.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from vern.ops import checks  # noqa: F401 (registers the checks)

        post_migrate.connect(_create_cache_table, sender=self)


def _create_cache_table(using: str = "default", **kwargs: Any) -> None:
    # The database cache holds rate-limit buckets; its table is not a migration.
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
