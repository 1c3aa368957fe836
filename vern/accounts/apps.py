from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vern.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
