"""Enquiries from the contact and demo forms, and those staff register from email or telephone.

Contact details and free text are encrypted at rest; a person is found by the
blind indexes of their email and phone, and the inbox searches names and
organisations through keyed digests of their words (``SearchTerm``), so no
plain text is ever compared in the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vern.lib.fields import EncryptedTextField

PURPOSE = "enquiries"


class Enquiry(models.Model):
    class Kind(models.TextChoices):
        CONTACT = "contact", _("Enquiry")
        DEMO = "demo", _("Demo booking")

    class Channel(models.TextChoices):
        FORM = "form", _("Form on this site")
        EMBEDDED = "embedded", _("Form on another of our sites")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Telephone")

    class Status(models.TextChoices):
        """Where the relationship with the person stands (and so which retention rule applies)."""

        NEW = "new", _("New")
        OPEN = "open", _("Contacted")
        CUSTOMER = "customer", _("Customer")

    class State(models.TextChoices):
        """Where the work on the enquiry stands: open until answered, closed when nothing is left to do."""

        OPEN = "open", pgettext_lazy("enquiry state", "Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class TimeOfDay(models.TextChoices):
        ANY = "any", _("Any time")
        MORNING = "morning", _("Morning (08–11)")
        MIDDAY = "midday", _("Midday (11–13)")
        AFTERNOON = "afternoon", _("Afternoon (13–16)")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    # The staff member who answers it; None: nobody yet (the inbox's "unassigned").
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = EncryptedTextField()
    email = EncryptedTextField(blank=True)
    email_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone = EncryptedTextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    organisation = EncryptedTextField()
    message = EncryptedTextField(blank=True)
    preferred_date = models.DateField(null=True, blank=True)
    preferred_time = models.CharField(max_length=16, choices=TimeOfDay.choices, blank=True)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="nb")
    # What the person was told when the data was collected (P3, P5): the declared purpose,
    # the legal basis for this kind of enquiry, and the number of the policy version in force.
    purpose = models.CharField(max_length=64, default=PURPOSE)
    legal_basis = models.CharField(max_length=1)
    policy_version = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)
    # The retention clock (24 months after the last contact, P11).
    last_contact_at = models.DateTimeField(default=timezone.now)
    became_customer_at = models.DateTimeField(null=True, blank=True)
    customer_note = EncryptedTextField(blank=True)
    relationship_ended_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A keyed digest of the form's one-time token: a form sent twice makes one enquiry.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Staff confirmed it is a rights request and registered it in the request queue (through the
    # Surface: the id of the request there), so it is answered there, not twice.
    rights_request_id = models.PositiveIntegerField(null=True, blank=True)
    rights_registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("enquiry")
        verbose_name_plural = _("enquiries")
        indexes = [
            models.Index(fields=["-received_at"], name="enquiry_received"),
            models.Index(fields=["status", "last_contact_at"], name="enquiry_status_contact"),
            models.Index(fields=["state", "owner"], name="enquiry_state_owner"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(legal_basis__in=["a", "b", "c", "d", "e", "f"]), name="enquiry_basis_is_art6"
            ),
            models.CheckConstraint(
                condition=~models.Q(email_index="") | ~models.Q(phone_index=""), name="enquiry_has_a_way_back"
            ),
            models.CheckConstraint(
                condition=models.Q(status="customer", became_customer_at__isnull=False) | ~models.Q(status="customer"),
                name="enquiry_customer_has_date",
            ),
        ]

    class Privacy:
        purpose = PURPOSE
        retention = "enquiries"  # with its exception: a customer follows the customer rule
        identifiers = {"email": "email_index", "phone": "phone_index"}
        clock = "last_contact_at"
        erasure = "delete"
        bases = ("f", "b")
        export = (
            "kind",
            "channel",
            "status",
            "state",
            "name",
            "email",
            "phone",
            "organisation",
            "message",
            "preferred_date",
            "preferred_time",
            "language",
            "purpose",
            "legal_basis",
            "policy_version",
            "received_at",
            "last_contact_at",
            "became_customer_at",
            "relationship_ended_at",
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_customer(self) -> bool:
        return self.status == self.Status.CUSTOMER


class ContactLog(models.Model):
    """One contact with the person after the enquiry: each moves the retention clock."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Telephone")
        MEETING = "meeting", _("Meeting")
        REPLY = "reply", _("Reply from the console")

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    happened_at = models.DateTimeField()
    note = EncryptedTextField(blank=True)
    # A reply written in the console: its subject (the note is its text), the mail in the outbox
    # that carries it, and a keyed digest of the reply form's one-time token, so that a form
    # sent twice (a retry, a double click) sends one mail.
    subject = EncryptedTextField(blank=True)
    mail = models.ForeignKey("mail.OutboxMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reply_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("contact log entry")
        verbose_name_plural = _("contact log")
        indexes = [models.Index(fields=["enquiry", "-happened_at"], name="contact_log_enquiry")]

    class Privacy:
        part_of = "enquiry"
        export = ("kind", "happened_at", "subject", "note")

    def __str__(self) -> str:
        return f"{self.kind} {self.happened_at:%Y-%m-%d}"


class SearchTerm(models.Model):
    """A keyed digest of a folded word (or word start) of an enquiry's name, organisation or email address."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("search term of an enquiry")
        verbose_name_plural = _("search index of enquiries")
        indexes = [models.Index(fields=["digest", "enquiry"], name="search_term_digest")]
        constraints = [models.UniqueConstraint(fields=["enquiry", "digest"], name="one_term_per_enquiry")]

    class Privacy:
        part_of = "enquiry"
        export = ()  # derived from the name and organisation, which are exported themselves

    def __str__(self) -> str:
        return self.digest[:8]


class MailboxMessage(models.Model):
    """A message read from the support mailbox, kept with the enquiry it started or joined.

    ``key`` is a keyed digest of its Message-ID: a message read twice (a worker that died
    between storing it and moving it on the server) is stored once, and a reply naming it in
    In-Reply-To or References joins its enquiry. The Message-ID itself is kept encrypted,
    to find the message on the server again when the enquiry is deleted.
    """

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="mails")
    contact = models.ForeignKey(ContactLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=64, unique=True)
    message_id = EncryptedTextField()
    subject = EncryptedTextField(blank=True)
    text = EncryptedTextField(blank=True)
    # Attachments too big to keep: their names and sizes, one "name (bytes)" a line.
    left_out = EncryptedTextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The mail's words seem to ask for a right (access, erasure…): the enquiry's page tells staff.
    asks_for_rights = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("email from the support mailbox")
        verbose_name_plural = _("emails from the support mailbox")
        indexes = [models.Index(fields=["enquiry", "-received_at"], name="mailbox_message_enquiry")]

    class Privacy:
        part_of = "enquiry"
        export = ("subject", "text", "left_out", "received_at")

    def __str__(self) -> str:
        return f"mail #{self.pk}"


class MailboxAttachment(models.Model):
    """A file that came with a message from the mailbox: its content encrypted (base64 inside)."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(MailboxMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = EncryptedTextField()
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    content = EncryptedTextField()

    class Meta:
        verbose_name = _("attachment of an email")
        verbose_name_plural = _("attachments of emails")

    class Privacy:
        part_of = "enquiry"
        export = ("filename", "content_type", "size", "content")

    def __str__(self) -> str:
        return f"attachment #{self.pk}"


class MailboxDeletion(models.Model):
    """A message to delete from the mailbox's vern folder, because its enquiry was deleted (by
    retention, an erasure request or staff). Written in the transaction that deletes the
    enquiry, and removed only once the server has deleted the message: retried until done."""

    message_id = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("mailbox deletion")
        verbose_name_plural = _("mailbox deletions")

    class Privacy:
        not_personal = (
            "The Message-ID of a mail whose enquiry is gone, kept (encrypted) only until the mail "
            "is deleted from the mailbox; it names no person vern could look up."
        )
        not_personal_fields = ("message_id", "last_error")

    def __str__(self) -> str:
        return f"mailbox deletion #{self.pk}"


class MailboxStatus(models.Model):
    """How the last readings of the support mailbox went (one row), for the inbox page."""

    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # What went wrong, as a code the inbox page puts in words (``mailbox.error_text``); never an address.
    last_error = models.TextField(blank=True)
    taken = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    # The skipped folder as the last reading found it, after deleting what was past
    # VERN_MAILBOX_SKIPPED_DAYS: how many messages wait there, and when the oldest arrived.
    skipped_waiting = models.PositiveIntegerField(default=0)
    skipped_oldest_at = models.DateTimeField(null=True, blank=True)
    skipped_deleted = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reading of the support mailbox")
        verbose_name_plural = _("readings of the support mailbox")

    class Privacy:
        not_personal = "When the mailbox was last read, counts, and the last error in words without addresses."
        # "skipped…": counts of messages, and the arrival time of the oldest skipped one (no sender)
        not_personal_fields = ("last_error", "skipped", "skipped_waiting", "skipped_oldest_at", "skipped_deleted")

    def __str__(self) -> str:
        return "mailbox status"
