"""What ``vern keys`` records: how many stored values use each key, and how far a rotation got."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyUse(models.Model):
    """How many stored values of one column use one key, as last counted.

    ``vern keys status`` and ``vern keys rotate`` write these rows; the deploy check reads
    them (a cheap look instead of a scan of every table), so that a key is not taken out of
    the configuration while values still need it.
    """

    class Kind(models.TextChoices):
        ENCRYPTION = "encryption", "encryption"
        INDEX = "index", "index"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key_id = models.CharField(max_length=32)
    column = models.CharField(max_length=200)  # "enquiries.Enquiry.email", or "audit.Entry.mac" for a chain
    values = models.BigIntegerField(default=0)
    counted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("key use")
        verbose_name_plural = _("key uses")
        constraints = [models.UniqueConstraint(fields=["kind", "key_id", "column"], name="one_count_per_key_column")]

    class Privacy:
        not_personal = "Counts of stored values per key id and column; no values and no keys."

    def __str__(self) -> str:
        return f"{self.kind} {self.key_id} {self.column}: {self.values}"


class RotationCursor(models.Model):
    """The last primary key a rotation step finished, per step and column, for the key it rotates to.

    A rotation that is stopped (killed, ``--max-batches``) continues after this row; a new
    current key starts the step again from the beginning.
    """

    step = models.CharField(max_length=220)  # "encrypt:enquiries.Enquiry", "index:mail.OutboxMessage.to_index"
    target_key_id = models.CharField(max_length=32)
    last_pk = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("key rotation cursor")
        verbose_name_plural = _("key rotation cursors")
        constraints = [models.UniqueConstraint(fields=["step"], name="one_cursor_per_step")]

    class Privacy:
        not_personal = "Primary keys and key ids that record how far a key rotation got."

    def __str__(self) -> str:
        return f"{self.step} → {self.target_key_id} after #{self.last_pk}"
