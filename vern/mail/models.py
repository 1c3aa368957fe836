from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.lib.fields import EncryptedTextField


class OutboxMessage(models.Model):
    """An email on its way, and the record that it went.

    Recipient, subject and bodies are personal data and are encrypted at rest;
    ``to_index`` (a blind index of the recipient) and ``about_index`` (of the
    person a mail is about, if another) find a person's mail for access and
    erasure. Legally significant mail (request receipts, answers,
    extensions) must not be lost, so it is written here in the transaction of
    the change that causes it and the worker delivers it, retrying while the SMTP
    server is unreachable.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        # Never sent: the person restricted the processing of their data, or objected to marketing.
        WITHHELD = "withheld", "withheld"

    kind = models.CharField(max_length=60)
    to_address = EncryptedTextField()
    to_index = models.CharField(max_length=64, db_index=True)
    # The person a mail is about when that is not its recipient (a notification to sales that
    # quotes an enquiry), so that their access and erasure requests find it too.
    about_index = models.CharField(max_length=64, blank=True, db_index=True)
    language = models.CharField(max_length=8)
    subject = EncryptedTextField()
    body_text = EncryptedTextField()
    body_html = EncryptedTextField(blank=True)
    message_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Mail that must reach an address the database may no longer keep (the answer to an
    # erasure request): once sent, its address, subject and bodies are blanked.
    ephemeral = models.BooleanField(default=False)
    # Mailings only (RFC 8058): the recipient's one-click unsubscribe address, sent as the
    # List-Unsubscribe header with List-Unsubscribe-Post. It carries a secret token, so it is encrypted.
    list_unsubscribe = EncryptedTextField(blank=True)
    # An answer to a mail read from the support mailbox: the Message-ID it answers and the
    # thread's References (RFC 5322 §3.6.4), so the person's mail program keeps the thread.
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    class Privacy:
        purpose = "operations"
        retention = "mail_log"
        identifiers = {"email": ("to_index", "about_index")}
        # Written, not sent: mail that never goes out must expire too.
        clock = "created_at"
        erasure = "delete"
        export = ("kind", "language", "to_address", "subject", "body_text", "status", "created_at", "sent_at")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
