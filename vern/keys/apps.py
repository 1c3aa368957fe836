from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class KeysConfig(AppConfig):
    name = "vern.keys"
    label = "keys"
    verbose_name = "Key rotation"

    def ready(self) -> None:
        from vern.keys import checks  # noqa: F401 (registers the checks)

    def surface(self) -> Surface:
        from vern.keys import selectors  # an app's modules load once its models have

        return Surface(index_forms=selectors.every_form)
