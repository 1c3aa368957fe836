"""What the console home shows each staff member: a tile per tool their roles allow."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from vern.accounts.models import RoleGrant, User
from vern.accounts.roles import Capability, Role
from vern.jobs.models import Job
from vern.mail.models import OutboxMessage
from vern.registry import surface
from vern.registry.surface import Tile

DELAYED_MAIL_ATTEMPTS = 3


def active_holders(role: Role) -> list[User]:
    """The active staff who hold ``role``, oldest account first (whom to tell of something)."""
    return list(
        User.objects.filter(is_active=True, pk__in=RoleGrant.objects.filter(role=role).values("user_id")).order_by("pk")
    )


def failing_jobs_count() -> int:
    return Job.objects.filter(Q(status=Job.Status.FAILED) | Q(status=Job.Status.QUEUED, attempts__gt=0)).count()


def troubled_mail_count() -> int:
    return OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.FAILED)
        | Q(status=OutboxMessage.Status.QUEUED, attempts__gte=DELAYED_MAIL_ATTEMPTS)
    ).count()


def console_tiles(user: User) -> list[Tile]:
    tiles: list[Tile] = []
    if user.can(Capability.MANAGE_STAFF):
        tiles.append(
            Tile(
                _("Staff accounts"),
                _("Add staff, change roles, deactivate accounts."),
                reverse("accounts:people"),
                User.objects.filter(is_active=True).count(),
            )
        )
    if user.can(Capability.OPERATE):
        failing = failing_jobs_count()
        tiles.append(
            Tile(
                _("Background jobs"),
                _("Jobs that failed or are being retried."),
                reverse("ops:jobs"),
                failing,
                alert=failing > 0,
            )
        )
        troubled = troubled_mail_count()
        tiles.append(
            Tile(
                _("Mail outbox"),
                _("Mail that is delayed or could not be delivered."),
                reverse("ops:outbox"),
                troubled,
                alert=troubled > 0,
            )
        )
    if user.can(Capability.MANAGE_DECLARATION):
        tiles.append(
            Tile(
                _("Privacy declaration"),
                _("The published policy, the draft's problems, and publishing."),
                reverse("declaration_staff:overview"),
            )
        )
        tiles.append(
            Tile(
                _("Record of processing"),
                _("The Art. 30 record, generated from the declaration."),
                reverse("declaration_staff:record"),
            )
        )
    if user.can(Capability.READ_CONSENT):
        tiles.append(
            Tile(
                _("Proof of consent"),
                _("Every cookie choice, by consent id, with what was shown."),
                reverse("consent_staff:search"),
            )
        )
    if user.can(Capability.READ_AUDIT):
        tiles.append(
            Tile(
                _("Audit log"),
                _("Who saw or changed what, and proof that the log is intact."),
                reverse("ops:audit"),
            )
        )
    # The apps above this one give theirs in their surfaces, so that the console needs no import upwards.
    tiles.extend(surface.console_tiles(user))
    return tiles
