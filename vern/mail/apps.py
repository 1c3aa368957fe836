from __future__ import annotations

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "vern.mail"
    label = "mail"
    verbose_name = "Email outbox"
