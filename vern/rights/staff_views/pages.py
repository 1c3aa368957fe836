"""What the console's pages about a request share: the deadline in words, names, and the confirm page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vern.accounts.models import User
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.rights import deadlines
from vern.rights.models import Request, Right
from vern.rights.services.steps import TRANSITIONS
from vern.rights.texts import reference_of

PACKAGE_KINDS = (Right.ACCESS.value, Right.PORTABILITY.value)


def is_model(label: str) -> bool:
    """Whether ``label`` names an installed model (not another system's source, ``moeteadm.users``)."""
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return False
    return True


def model_title(label: str) -> str:
    """A model's own name for its rows (``verbose_name_plural``), in the staff member's language; a
    label that names no model (one since removed) is shown as it is."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(capfirst(model._meta.verbose_name_plural))


def field_titles(label: str, fields: Iterable[str]) -> list[str]:
    """A model's fields by their own names (``verbose_name``), not as the code spells them."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return [str(name).replace("_", " ") for name in fields]
    titles = []
    for name in fields:
        try:
            titles.append(str(model._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            titles.append(str(name).replace("_", " "))
    return titles


def date_text(day: dt.date | str) -> str:
    if isinstance(day, str):
        try:
            return date_text(dt.date.fromisoformat(day))
        except ValueError:
            return day
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def key_names(kinds: Iterable[Any]) -> str:
    """The keys a person was found by, as words: "email address and phone number"."""
    names = {"email": _("email address"), "phone": _("phone number"), "consent_id": _("cookie choice")}
    words = [names.get(str(kind), str(kind)) for kind in kinds]
    if len(words) < 2:
        return "".join(words)
    return _("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


@dataclass(frozen=True)
class Deadline:
    """The due date of a request and how it stands today, in words (not colour alone)."""

    day: dt.date
    days: int
    text: str
    overdue: bool
    soon: bool

    @classmethod
    def of(cls, request: Request, now: dt.datetime) -> Deadline:
        day = request.deadline
        days = deadlines.days_left(day, now)
        if days < 0:
            text = ngettext("overdue by %(days)s day", "overdue by %(days)s days", -days) % {"days": -days}
        elif days == 0:
            text = _("due today")
        else:
            text = ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
        return cls(day=day, days=days, text=text, overdue=days < 0, soon=0 <= days <= 7)


def viewed(staff: User, subject: Request, page: str) -> None:
    """A look at a request's page: it shows the person's contact details and words (R22)."""
    audit_record(
        action=AuditEvent.RIGHTS_VIEWED,
        actor=Actor.staff(staff),
        object_type="rights.request",
        object_id=subject.pk,
        subject_key=subject.subject_key,
        data={"page": page},
    )


def detail_url(subject: Request) -> str:
    return reverse("rights_staff:detail", kwargs={"pk": subject.pk})


def can(subject: Request, to: str) -> bool:
    return to in TRANSITIONS.get(subject.status, frozenset())


def rights_of(subject: Request) -> list[dict[str, Any]]:
    """The rights the request asks for, named, each with whether it is done."""
    return [
        {"id": right, "name": str(Right(right).label), "done": right in subject.done}
        for right in subject.rights
        if right in Right.values
    ]


def confirm_page(
    request: HttpRequest, staff: User, subject: Request, template: str, status: int = 200, **context: Any
) -> HttpResponse:
    """The page that asks before a step that cannot be undone; it shows the request, so it is a look too."""
    viewed(staff, subject, template)
    now = timezone.now()
    context.update(
        {
            "subject": subject,
            "reference": reference_of(subject),
            "deadline": Deadline.of(subject, now),
            "rights": rights_of(subject),
        }
    )
    return render(request, f"rights/staff/{template}.html", context, status=status)
