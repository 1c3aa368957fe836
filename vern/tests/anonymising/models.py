from __future__ import annotations

from django.db import models

from vern.lib.fields import EncryptedTextField


class Attendee(models.Model):
    """Someone who signed up for a webinar: the count of attendees per city outlives them."""

    email = EncryptedTextField(null=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    name = EncryptedTextField(null=True)
    city = models.CharField(max_length=100)
    webinar = models.CharField(max_length=100)
    registered_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "anonymising"
        verbose_name = "webinar attendee"

    class Privacy:
        purpose = "operations"
        retention = "mail_log"
        identifiers = {"email": "email_index"}
        clock = "registered_at"
        erasure = "anonymise"
        anonymise = ("email", "email_index", "name")
        export = ("name", "email", "city", "webinar", "registered_at")


class Question(models.Model):
    """A question the attendee asked: theirs, so it goes when they are anonymised."""

    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE)
    text = EncryptedTextField()

    class Meta:
        app_label = "anonymising"

    class Privacy:
        part_of = "attendee"
        export = ("text",)
