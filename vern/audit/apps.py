from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class AuditConfig(AppConfig):
    name = "vern.audit"
    label = "audit"
    verbose_name = "Audit log"

    def surface(self) -> Surface:
        from vern.audit.chain import AUDIT_CHAIN  # an app's modules load once the models have

        return Surface(chains=(AUDIT_CHAIN,))
