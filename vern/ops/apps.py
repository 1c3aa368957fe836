from __future__ import annotations

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "vern.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from vern.ops import checks  # noqa: F401 (registers the checks)
