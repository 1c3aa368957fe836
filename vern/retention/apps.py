from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "vern.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from vern.accounts.selectors import TILE_SOURCES
        from vern.retention import checks  # noqa: F401 (registers the checks)
        from vern.retention.selectors import console_tiles

        if console_tiles not in TILE_SOURCES:
            TILE_SOURCES.append(console_tiles)
