"""Objection and restriction on the console: the decision on an objection, and the end of a restriction."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.rights import selectors
from vern.rights.access import get_request_for_staff
from vern.rights.models import Right
from vern.rights.services.restriction import objection_decide, restriction_schedule_lift
from vern.rights.services.steps import WHILE_OPEN, RequestRefused
from vern.rights.staff_forms import ObjectionForm, RestrictionLiftForm, refusal_of
from vern.rights.staff_views.pages import confirm_page, date_text, detail_url


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def objection(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision on an objection to processing on legitimate interest (Art. 21(1))."""
    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.OBJECTION in subject.rights
    if request.method != "POST":
        return confirm_page(request, staff, subject, "objection", form=ObjectionForm(), allowed=allowed)
    form = ObjectionForm(request.POST)
    done = staff_step(
        request,
        lambda: objection_decide(
            request=subject,
            staff=staff,
            decision=form.cleaned_data["decision"],
            grounds=form.cleaned_data["grounds"],
        ),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_("The decision on the objection is recorded."),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return confirm_page(request, staff, subject, "objection", status=400, form=form, allowed=allowed)


def _lift_announced(lift_on: dt.date) -> str:
    return _("The person has been told that the restriction ends on %(date)s.") % {"date": date_text(lift_on)}


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def restriction(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's active restriction, and announcing its end (Art. 18(3): they are told first)."""
    staff, subject = get_request_for_staff(request, pk)
    active = selectors.active_restriction(subject)
    form = RestrictionLiftForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if active is None:
            messages.error(request, _("There is no restriction in force for this person."))
        else:
            restricted = active
            done = staff_step(
                request,
                lambda: restriction_schedule_lift(
                    restriction=restricted, staff=staff, lift_on=form.cleaned_data["lift_on"]
                ),
                refused=RequestRefused,
                explain=refusal_of,
                form=form,
                done=lambda lifted: _lift_announced(form.cleaned_data["lift_on"]),
                then=detail_url(subject),
            )
            if done is not None:
                return done
    return confirm_page(request, staff, subject, "restriction", status=status, form=form, active=active)
