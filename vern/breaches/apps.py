from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class BreachesConfig(AppConfig):
    """The security registers: personal-data breaches on their 72-hour clock, and the risk register
    with its reviews and DPIA screenings (ADR 0016 says why both live here)."""

    name = "vern.breaches"
    label = "breaches"
    verbose_name = "Breaches and risks"

    def surface(self) -> Surface:
        from vern.breaches import selectors  # an app's modules load once its models have

        return Surface(
            console_tiles=(selectors.console_tiles,),
            record_sections=(selectors.record_sections,),
            last_risk_review=selectors.last_risk_review,
        )
