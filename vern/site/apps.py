from __future__ import annotations

from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "vern.site"
    label = "site"
    verbose_name = "Public site"
