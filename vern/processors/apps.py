from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class ProcessorsConfig(AppConfig):
    name = "vern.processors"
    label = "processors"
    verbose_name = "Processor register"

    def surface(self) -> Surface:
        from vern.processors import selectors  # an app's modules load once its models have

        return Surface(
            console_tiles=(selectors.console_tiles,),
            declaration_checks=(selectors.declaration_problems,),
            processor_register=selectors.register,
        )
