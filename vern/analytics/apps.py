from __future__ import annotations

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "vern.analytics"
    label = "analytics"
    verbose_name = "Analytics and technical logs"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from vern.accounts.selectors import TILE_SOURCES
        from vern.analytics.selectors import console_tiles
        from vern.analytics.techlog import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="vern.analytics.login_failed")
        if console_tiles not in TILE_SOURCES:
            TILE_SOURCES.append(console_tiles)
