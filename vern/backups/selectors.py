"""What the console and ``vern check --deploy`` say about backups."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.backups.models import Backup
from vern.jobs.models import Job, Schedule
from vern.registry.surface import Tile

NIGHTLY_JOB = "backups.nightly"
# A nightly backup a little late (a long one, a worker restarted at 03:30) is not yet a warning.
OVERDUE_AFTER = dt.timedelta(hours=26)


def last_success() -> Backup | None:
    return Backup.objects.filter(status=Backup.Status.OK).order_by("-finished_at", "-pk").first()


def last_attempt() -> Backup | None:
    return Backup.objects.exclude(status=Backup.Status.RUNNING).order_by("-started_at", "-pk").first()


def kept_count() -> int:
    return Backup.objects.filter(status=Backup.Status.OK, deleted_at__isnull=True).count()


def worker_runs(now: dt.datetime) -> bool:
    """Whether a worker ran periodic jobs here within the last 26 hours (one queues mail every minute)."""
    return Schedule.objects.filter(last_enqueued_at__gte=now - OVERDUE_AFTER).exists()


def nightly_has_come_due() -> bool:
    """Whether the worker has queued the nightly backup at least once: before that, none is missing."""
    return Job.objects.filter(name=NIGHTLY_JOB).exists() or Backup.objects.filter(trigger="nightly").exists()


def overdue(now: dt.datetime | None = None) -> bool:
    """A worker runs here, its nightly backup has come due, and no backup succeeded for 26 hours."""
    now = now or timezone.now()
    if not worker_runs(now) or not nightly_has_come_due():
        return False
    success = last_success()
    return success is None or success.finished_at is None or success.finished_at < now - OVERDUE_AFTER


def console_tiles(user: User) -> list[Tile]:
    if not user.can(Capability.OPERATE):
        return []
    success, attempt = last_success(), last_attempt()
    failed = attempt is not None and attempt.status == Backup.Status.FAILED
    if failed:
        assert attempt is not None
        text = _("The last backup failed (%(when)s): %(error)s") % {
            "when": date_format(timezone.localtime(attempt.started_at), "SHORT_DATETIME_FORMAT"),
            "error": attempt.error[:160],
        }
    elif success is not None and success.finished_at is not None:
        text = _("Encrypted, made nightly. The last one: %(when)s.") % {
            "when": date_format(timezone.localtime(success.finished_at), "SHORT_DATETIME_FORMAT")
        }
    else:
        text = _("Encrypted, made nightly by the worker. None has been made yet.")
    return [Tile(_("Backups"), text, reverse("ops:jobs"), kept_count(), alert=failed or overdue())]
