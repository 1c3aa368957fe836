from __future__ import annotations

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "vern.site"
    label = "site"
    verbose_name = "Public site"

    def ready(self) -> None:
        # The site is the floor where two domain apps meet: the analytics beacon learns
        # from consent whether the visitor allowed statistics, without importing it.
        from vern.analytics import capture
        from vern.consent.choice import consent_id_allowing

        capture.statistics_consent = consent_id_allowing
