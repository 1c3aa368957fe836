from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vern.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from vern.accounts import checks  # noqa: F401 (registers the checks)
