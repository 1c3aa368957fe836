"""Rights requests (GDPR Art. 15-22), their timeline, and what fulfilling them leaves behind.

A request is found by the blind indexes of the email and phone it gives, and by
the consent id of the visitor's cookie when it was sent from the privacy center.
Contact details and free text are encrypted at rest. After an erasure, the
person's requests keep only those keyed indexes: the record that the request
was answered remains (Art. 5(2)), the address does not (P23).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vern.lib.fields import EncryptedTextField

PURPOSE = "privacy_compliance"
RETENTION = "rights_requests"


class Right(models.TextChoices):
    """The rights of the declaration (their ids), in the policy's order."""

    ACCESS = "access", pgettext_lazy("right", "Access")
    RECTIFICATION = "rectification", pgettext_lazy("right", "Rectification")
    ERASURE = "erasure", pgettext_lazy("right", "Erasure")
    RESTRICTION = "restriction", pgettext_lazy("right", "Restriction")
    PORTABILITY = "portability", pgettext_lazy("right", "Data portability")
    OBJECTION = "objection", pgettext_lazy("right", "Objection")
    WITHDRAW_CONSENT = "withdraw_consent", pgettext_lazy("right", "Withdraw consent")


class Request(models.Model):
    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
        LAPSED = "lapsed", _("Not confirmed in time")
        CONFIRMED = "confirmed", _("Confirmed")
        IN_PROGRESS = "in_progress", _("In progress")
        EXTENDED = "extended", _("Extended")
        ANSWERED = "answered", _("Answered")
        REFUSED = "refused", _("Refused")

    class Channel(models.TextChoices):
        FORM = "form", _("Privacy center")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Telephone")
        LETTER = "letter", _("Letter")
        IN_PERSON = "in_person", _("In person")

    class Ground(models.TextChoices):
        """Why a request is refused (Art. 12(2), 12(5)); each needs a written justification."""

        UNFOUNDED = "unfounded", _("Manifestly unfounded")
        EXCESSIVE = "excessive", _("Excessive, in particular repetitive")
        IDENTITY = "identity", _("The person's identity could not be established")
        EXEMPT = "exempt", _("An exception in the law applies")

    rights = models.JSONField(default=list)  # Right values, at least one
    done = models.JSONField(default=list, blank=True)  # the rights already fulfilled
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=24, choices=Status.choices)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="nb")
    email = EncryptedTextField(blank=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    # A phone number proves nothing by itself: records found only by it are included once
    # staff have verified it (for example by calling the number).
    phone_verified = models.BooleanField(default=False)
    consent_id = models.CharField(max_length=32, blank=True, db_index=True)
    details = EncryptedTextField(blank=True)
    # An objection to direct marketing: absolute (Art. 21(3)), so it is carried out without a decision.
    marketing_objection = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField()  # the last day to answer, in Europe/Oslo (R11)
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = EncryptedTextField(blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The confirmation link: only a keyed hash of its random token is stored.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # The status link the person follows their request by (``services/tokens.py``): reusable for
    # viewing, so the token itself is kept, encrypted, for the later mails; it is looked up by its hash.
    status_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status_token = EncryptedTextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    refusal_ground = models.CharField(max_length=16, choices=Ground.choices, blank=True)
    outcome = EncryptedTextField(blank=True)  # the answer, or the justification of a refusal
    reminded = models.JSONField(default=list, blank=True)  # days-before-due of reminders sent (7, 2)
    # A keyed digest of the staff form's one-time nonce: a double click registers one request.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Set when an erasure cleared the contact fields of this request (it keeps the keyed indexes).
    contact_erased_at = models.DateTimeField(null=True, blank=True)
    # Where staff registered it from in another app (``"enquiry"`` and its id, and the console's
    # address of it): one source registers one request, so a second click finds the first.
    source = models.CharField(max_length=16, blank=True)
    source_id = models.PositiveIntegerField(null=True, blank=True)
    source_url = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("rights request")
        verbose_name_plural = _("rights requests")
        indexes = [
            models.Index(fields=["status", "due_on"], name="rights_request_queue"),
            models.Index(fields=["closed_at"], name="rights_request_closed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email_index="") | ~models.Q(phone_index=""), name="rights_request_has_a_way_back"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="refused") | ~models.Q(refusal_ground=""),
                name="rights_refusal_has_a_ground",
            ),
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=models.Q(source_id__isnull=False),
                name="rights_one_request_per_source",
            ),
        ]

    class Privacy:
        purpose = PURPOSE
        retention = RETENTION
        # Not by consent id: a browser may be shared, and a request's text is the person's own.
        identifiers = {"email": "email_index", "phone": "phone_index"}
        clock = "received_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 5(2) and 17(3)(e): the record that a request was received and answered; after an erasure it "
            "keeps only keyed references to the person, not the address, phone or text."
        )
        bases = ("c",)
        export = (
            "rights",
            "channel",
            "status",
            "language",
            "email",
            "phone",
            "details",
            "received_at",
            "verified_at",
            "due_on",
            "extended_to",
            "extension_reason",
            "closed_at",
            "refusal_ground",
            "outcome",
        )

    def __str__(self) -> str:
        return f"request #{self.pk} ({self.status})"

    @property
    def deadline(self):  # type: ignore[no-untyped-def]
        """The day the answer is due: the extended date when there is one."""
        return self.extended_to or self.due_on

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def subject_key(self) -> str:
        """The key the audit log and holds name the person by: the email's index, else the phone's."""
        return self.email_index or self.phone_index


OPEN_STATUSES = (
    Request.Status.CONFIRMED,
    Request.Status.IN_PROGRESS,
    Request.Status.EXTENDED,
)
CLOSED_STATUSES = (Request.Status.ANSWERED, Request.Status.REFUSED, Request.Status.LAPSED)


class Event(models.Model):
    """One step in a request's timeline: who did what, when; free text is encrypted."""

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = EncryptedTextField(blank=True)
    data = models.JSONField(default=dict, blank=True)  # counts, model names, field names: never an identifier

    class Meta:
        verbose_name = _("step in a rights request")
        verbose_name_plural = _("steps in rights requests")
        indexes = [models.Index(fields=["request", "at"], name="rights_event_timeline")]

    class Privacy:
        part_of = "request"
        export = ("at", "kind", "note", "data")

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"


class Download(models.Model):
    """A single-use link to a request's access or portability package, built when it is opened."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Copy of your data")
        PORTABILITY = "portability", _("Your data in a machine-readable format")

    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="downloads")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("download link")
        verbose_name_plural = _("download links")

    class Privacy:
        part_of = "request"
        export = ("kind", "created_at", "expires_at", "downloaded_at")

    def __str__(self) -> str:
        return f"{self.kind} download #{self.pk}"


class Restriction(models.Model):
    """Art. 18: the person's data is kept but not otherwise used; lifted only after they are told."""

    subject_key = models.CharField(max_length=64, db_index=True)
    request = models.ForeignKey(Request, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    lift_at = models.DateTimeField(null=True, blank=True)  # set when the person has been told it will end
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("restriction of processing")
        verbose_name_plural = _("restrictions of processing")
        indexes = [models.Index(fields=["lifted_at", "subject_key"], name="rights_restriction_active")]

    class Privacy:
        purpose = PURPOSE
        retention = RETENTION
        identifiers = {"email": "subject_key", "phone": "subject_key"}
        clock = "started_at"
        erasure = "retain"
        retain_reason = _("Art. 18 and 17(3)(e): the record of a restriction, kept by a keyed reference only.")
        export = ("started_at", "lift_at", "lifted_at")

    def __str__(self) -> str:
        return f"restriction #{self.pk}"


class Suppression(models.Model):
    """An address that must never get direct marketing again (Art. 21(3)), by its keyed index only."""

    subject_key = models.CharField(max_length=64, unique=True)
    request = models.ForeignKey(Request, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("objection to direct marketing")
        verbose_name_plural = _("objections to direct marketing")

    class Privacy:
        purpose = PURPOSE
        retention = "marketing_objections"
        identifiers = {"email": "subject_key", "phone": "subject_key"}
        clock = "created_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 21(3) and 17(3)(b): to keep the promise never to send direct marketing again, a keyed "
            "reference to the address is kept; it cannot be turned back into the address."
        )
        export = ("created_at",)

    def __str__(self) -> str:
        return f"suppression #{self.pk}"


class Tombstone(models.Model):
    """The erasure journal: keyed references of erased people, replayed after a backup is restored (R16)."""

    class Kind(models.TextChoices):
        EMAIL = "email", "email"
        PHONE = "phone", "phone"
        CONSENT_ID = "consent_id", "consent id"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=64)  # the blind index (email, phone) or the random consent id
    erased_at = models.DateTimeField(default=timezone.now)
    request = models.ForeignKey(Request, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("erasure journal entry")
        verbose_name_plural = _("erasure journal")
        indexes = [models.Index(fields=["key"], name="rights_tombstone_key")]

    class Privacy:
        purpose = PURPOSE
        retention = RETENTION
        identifiers = {"email": "key", "phone": "key", "consent_id": "key"}
        clock = "erased_at"
        erasure = "retain"
        retain_reason = _(
            "Art. 17(1) and (3)(e): the keyed reference that lets an erasure be repeated after a backup is restored."
        )
        export = ("kind", "erased_at")

    def __str__(self) -> str:
        return f"tombstone #{self.pk}"
