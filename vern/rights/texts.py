"""Texts that name what was done for each right, for the answer mail and the staff page."""

from __future__ import annotations

from django.utils.translation import gettext as _

from vern.rights.models import Right


def outcome_text(right: str, done: bool) -> str:
    """One line for the answer: what the request asked for, and what we did about it."""
    name = str(Right(right).label)
    if done:
        return _("%(right)s: done.") % {"right": name}
    return _("%(right)s: see our answer below.") % {"right": name}
