from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class ConnectorsConfig(AppConfig):
    name = "vern.connectors"
    label = "connectors"
    verbose_name = "The company's other systems"

    def surface(self) -> Surface:
        from vern.connectors import checks, selectors, services

        return Surface(
            external_finders=(services.find_person,),
            external_erasers=(services.erase_person,),
            completion_blockers=(services.completion_blockers,),
            request_notes=(services.request_notes,),
            external_sweeps=(services.sweep,),
            external_replays=(services.replay,),
            external_correctables=(services.correctables,),
            external_rectifiers=(services.rectify,),
            declaration_checks=(checks.declared_columns,),
            console_tiles=(selectors.console_tiles,),
        )
