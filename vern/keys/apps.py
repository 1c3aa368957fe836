from __future__ import annotations

from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "vern.keys"
    label = "keys"
    verbose_name = "Key rotation"

    def ready(self) -> None:
        from vern.keys import checks  # noqa: F401 (registers the checks)
