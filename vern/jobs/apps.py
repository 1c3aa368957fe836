from __future__ import annotations

import importlib

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "vern.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        # Every app declares its jobs in <app>/jobs.py; importing them registers them.
        autodiscover_modules("jobs")
        for module in settings.VERN_EXTRA_JOB_MODULES:
            importlib.import_module(module)
