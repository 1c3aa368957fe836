from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class RetentionConfig(AppConfig):
    name = "vern.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        from vern.retention import checks  # noqa: F401 (registers the checks)

    def surface(self) -> Surface:
        from vern.retention import selectors  # an app's modules load once the models have

        return Surface(
            console_tiles=(selectors.console_tiles,),
            # A legal hold on a person keeps their data from an erasure request too (Art. 17(3)(e)).
            erasure_checks=(selectors.person_on_hold,),
        )
