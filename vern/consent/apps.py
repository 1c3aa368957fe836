from __future__ import annotations

from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "vern.consent"
    label = "consent"
    verbose_name = "Cookie consent"

    def ready(self) -> None:
        from vern.consent import checks  # noqa: F401 (registers the checks)
