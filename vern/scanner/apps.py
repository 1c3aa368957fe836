from __future__ import annotations

from django.apps import AppConfig


class ScannerConfig(AppConfig):
    name = "vern.scanner"
    label = "scanner"
    verbose_name = "Cookie and consent scanner"
