from __future__ import annotations

from django.apps import AppConfig


class AnonymisingConfig(AppConfig):
    name = "vern.tests.anonymising"
    label = "anonymising"
    verbose_name = "Webinar attendees (tests only)"
