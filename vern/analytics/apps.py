from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class AnalyticsConfig(AppConfig):
    name = "vern.analytics"
    label = "analytics"
    verbose_name = "Analytics and technical logs"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from vern.analytics.techlog import login_failed

        user_login_failed.connect(login_failed, dispatch_uid="vern.analytics.login_failed")

    def surface(self) -> Surface:
        from vern.analytics import goals, selectors  # an app's modules load once the models have

        # Goals reached that other apps report (enquiries, newsletter, rights), counted without a cookie.
        return Surface(console_tiles=(selectors.console_tiles,), goal_recorders=(goals.record,))
