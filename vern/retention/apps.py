from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "vern.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from vern.accounts.selectors import TILE_SOURCES
        from vern.registry import hooks
        from vern.retention import checks  # noqa: F401 (registers the checks)
        from vern.retention.selectors import console_tiles, person_on_hold

        if console_tiles not in TILE_SOURCES:
            TILE_SOURCES.append(console_tiles)
        # A legal hold on a person keeps their data from an erasure request too (Art. 17(3)(e)).
        hooks.add_erasure_check(person_on_hold)
