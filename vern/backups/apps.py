from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class BackupsConfig(AppConfig):
    name = "vern.backups"
    label = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        from vern.backups import checks  # noqa: F401 (registers the checks)

    def surface(self) -> Surface:
        from vern.backups import selectors  # an app's modules load once the models have

        return Surface(console_tiles=(selectors.console_tiles,))
