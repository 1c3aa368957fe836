from __future__ import annotations

from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "vern.consent"
    label = "consent"
    verbose_name = "Cookie consent"

    def ready(self) -> None:
        from vern.consent import checks  # noqa: F401 (registers the checks)
        from vern.consent.services import withdraw_for_rights_request
        from vern.registry import hooks

        # A rights request that withdraws consent reaches cookie consent through the registry.
        hooks.add_withdrawer(withdraw_for_rights_request)
