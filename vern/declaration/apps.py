from __future__ import annotations

from django.apps import AppConfig


class DeclarationConfig(AppConfig):
    name = "vern.declaration"
    label = "declaration"
    verbose_name = "Privacy declaration"

    def ready(self) -> None:
        from vern.declaration import checks  # noqa: F401 (registers the checks)
