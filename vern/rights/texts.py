"""How the privacy center names things to people: a request's reference, a day, a link, what was done.

Mail and pages both use these, in the reader's language; none of them reads or
writes a request.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vern.declaration.schema import Declaration
from vern.declaration.selectors import localise
from vern.rights.models import Request, Right

# "29. desember 2026", "29 December 2026": a date as people write it, not "Dec. 29, 2026".
DAY_FORMAT = {"nb": "j. F Y", "en": "j F Y"}


def reference_of(request: Request) -> str:
    """How the request is named in mail and on screen: a number, nothing about the person."""
    return f"R-{request.pk}"


def day_text(day: dt.date, language: str) -> str:
    """A day in a text to the person, in their language."""
    with translation.override(language):
        return date_format(day, DAY_FORMAT[language])


def public_link(name: str, language: str, **kwargs: object) -> str:
    with translation.override(language):
        return settings.VERN_PUBLIC_URL + reverse(name, kwargs=kwargs or None)


def authority_of(declaration: Declaration, language: str) -> dict[str, str]:
    """The supervisory authority, as the mail templates need it (P17)."""
    authority = declaration.authority
    return {
        "name": str(localise(authority.name, language)),
        "address": str(localise(authority.address, language)),
        "email": str(authority.email),
        "website": str(authority.website),
        "complaint_text": str(localise(authority.complaint_text, language)),
    }


def outcome_text(right: str, done: bool) -> str:
    """One line for the answer: what the request asked for, and what we did about it."""
    name = str(Right(right).label)
    if done:
        return _("%(right)s: done.") % {"right": name}
    return _("%(right)s: see our answer below.") % {"right": name}


def outcome_lines(request: Request, *, backups_gone_by: dt.date | None = None) -> list[str]:
    """One line per right asked for, in the request's language, saying what was done; after an
    erasure, the day by which no backup holds the person any more (R16)."""
    with translation.override(request.language):
        lines = [outcome_text(right, right in request.done) for right in request.rights]
        if Right.ERASURE in request.done and backups_gone_by is not None:
            lines.append(backups_text(backups_gone_by, request.language))
        return lines


def backups_text(day: dt.date, language: str) -> str:
    """The erasure receipt's promise about backups, in the person's language."""
    with translation.override(language):
        return _(
            "Our encrypted backups made before the erasure are deleted by %(day)s at the latest. Should we "
            "ever restore one before then, you are erased from it again at once."
        ) % {"day": day_text(day, language)}
