from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "vern.registry"
    label = "registry"
    verbose_name = "Personal-data registry"

    def ready(self) -> None:
        from vern.registry import checks  # noqa: F401 (registers the checks)
