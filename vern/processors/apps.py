from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class ProcessorsConfig(AppConfig):
    name = "vern.processors"
    label = "processors"
    verbose_name = "Processor register"

    def surface(self) -> Surface:
        from vern.processors import selectors, subscribers  # an app's modules load once its models have
        from vern.processors.models import ChangeSubscriber

        return Surface(
            # People told of changes of sub-processors: kept as the newsletter's rule says, and a
            # rights request that withdraws consent ends their subscription.
            due={ChangeSubscriber: subscribers.due_subscribers},
            withdrawers=(subscribers.withdraw_for_rights_request,),
            console_tiles=(selectors.console_tiles,),
            declaration_checks=(selectors.declaration_problems,),
            processor_register=selectors.register,
        )
