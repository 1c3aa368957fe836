from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vern.audit.events import event_label


class Entry(models.Model):
    """One audited event. Rows are only ever added: a database trigger refuses UPDATE.

    Each row carries ``mac``, a keyed hash over its own fields and the previous
    row's ``mac``; ``seq`` counts rows without gaps. ``vern audit verify``
    recomputes the chain, so an edited, inserted or deleted row shows.
    ``subject_key`` is the blind index of the person the event is about, never
    the raw identifier, and ``data`` holds old and new values without raw
    personal data.
    """

    class ActorKind(models.TextChoices):
        STAFF = "staff", "staff"
        SYSTEM = "system", "system"
        VISITOR = "visitor", "visitor"
        CLI = "cli", "command line"

    seq = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # A plain id, not a foreign key: the log must outlive and never change with the accounts table.
    actor_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    subject_key = models.CharField(max_length=64, blank=True, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    class Privacy:
        purpose = "operations"
        retention = "audit_trail"
        # subject_key is the blind index of the person's email, or of the phone number when
        # no email is known; the indexes of the two kinds never collide.
        identifiers = {"email": "subject_key", "phone": "subject_key"}
        clock = "created_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 17(3)(b) and (e): the log proves how personal data was handled (Art. 5(2), 30); "
            "it holds no contact data, only a keyed reference to the person."
        )
        export = ("created_at", "actor_kind", "action", "object_type", "object_id", "data")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    @property
    def action_label(self) -> str:
        """What happened, as staff read it on a timeline, in the active language."""
        return event_label(self.action)


class Head(models.Model):
    """The end of the chain: the last row's number and mac, updated with every append.

    Appends lock this single row, so two transactions never chain onto the same
    predecessor; and a deletion of the newest rows leaves the head pointing past
    the end, which ``verify`` reports. Someone who deletes the newest rows *and*
    rewrites the head is caught only by an anchor kept outside the database: the
    daily ``audit.checkpoint`` job logs the head, and ``vern audit verify --anchor``
    checks the log against such a line.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="")
    # Retention removes the oldest rows; the chain then starts after the last removed row,
    # whose number and mac are kept here so that the rest can still be verified.
    floor_seq = models.BigIntegerField(default=0)
    floor_mac = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("end of a hash chain")
        verbose_name_plural = _("ends of hash chains")

    class Privacy:
        not_personal = "The number and hash of the newest audit row."

    def __str__(self) -> str:
        return f"head at #{self.seq}"
