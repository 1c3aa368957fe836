"""One request's page, and the steps of its workflow: start, assign, note, verify the phone, extend,
answer and refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.lib.days import local_day
from vern.registry import surface
from vern.rights import deadlines, selectors
from vern.rights.access import get_request_for_staff
from vern.rights.models import CLOSED_STATUSES, Request, Right
from vern.rights.services.erasure import Action
from vern.rights.services.steps import WHILE_OPEN, RequestRefused
from vern.rights.services.workflow import (
    phone_verify,
    request_answer,
    request_assign,
    request_extend,
    request_message,
    request_note,
    request_refuse,
    request_start,
)
from vern.rights.staff_forms import AnswerForm, AssignForm, ExtendForm, MessageForm, NoteForm, RefuseForm, refusal_of
from vern.rights.staff_views.pages import (
    PACKAGE_KINDS,
    Deadline,
    can,
    confirm_page,
    date_text,
    detail_url,
    key_names,
    model_title,
    rights_of,
    viewed,
)
from vern.rights.staff_views.timeline import timeline
from vern.rights.stages import stages_of
from vern.rights.texts import reference_of

S = Request.Status


def _discovery(subject: Request) -> list[dict[str, Any]]:
    """The person's records in every registered model, and what an erasure would do to each."""
    return [
        {
            "name": model_title(found.entry.label),
            "count": found.count,
            "mode": found.entry.erasure,
            "mode_text": str(Action(found.entry.erasure).label)
            if found.entry.erasure in Action.values
            else found.entry.erasure,
        }
        for found in selectors.discover(subject)
    ]


def _actions(subject: Request, staff: User) -> dict[str, bool]:
    """Which steps the page offers: only those the status allows (``TRANSITIONS``)."""
    is_open = subject.status in WHILE_OPEN
    today = local_day(timezone.now())
    rights = set(subject.rights)
    return {
        "start": can(subject, S.IN_PROGRESS),
        "assign": is_open,
        "assign_me": is_open and subject.assigned_to_id != staff.pk,
        "verify_phone": is_open and bool(subject.phone_index) and not subject.phone_verified,
        "extend": can(subject, S.EXTENDED) and subject.extended_to is None and today <= subject.due_on,
        "extend_too_late": can(subject, S.EXTENDED) and subject.extended_to is None and today > subject.due_on,
        "answer": can(subject, S.ANSWERED),
        "refuse": can(subject, S.REFUSED),
        "erasure": is_open and Right.ERASURE in rights and Right.ERASURE not in subject.done,
        "erasure_receipt": Right.ERASURE in subject.done,
        "rectify": is_open and Right.RECTIFICATION in rights,
        "objection": is_open and Right.OBJECTION in rights and Right.OBJECTION not in subject.done,
        "restriction": Right.RESTRICTION in rights,
        # A request answered by itself (the copy went out automatically) may need a new link later.
        "package": (is_open or subject.status == S.ANSWERED)
        and bool(subject.email)
        and bool(rights & set(PACKAGE_KINDS)),
        "message": is_open and bool(subject.email),
        "any_step": is_open,
    }


def _detail(request: HttpRequest, staff: User, subject: Request, status: int = 200, **forms: Any) -> HttpResponse:
    viewed(staff, subject, "detail")
    now = timezone.now()
    confirmed = subject.status not in (S.AWAITING_CONFIRMATION, S.LAPSED)
    officers = selectors.privacy_officers()
    context = {
        "subject": subject,
        "reference": reference_of(subject),
        "deadline": Deadline.of(subject, now),
        "rights": rights_of(subject),
        "stages": stages_of(subject),
        "timeline": timeline(subject),
        "discovery": _discovery(subject) if confirmed else None,
        "found_by": key_names(selectors.person_keys(subject).keys()),  # the kinds, each under every stored form
        "phone_unverified": bool(subject.phone_index) and not subject.phone_verified,
        "actions": _actions(subject, staff),
        "restriction": selectors.active_restriction(subject),
        "packages": [(kind, str(Right(kind).label)) for kind in PACKAGE_KINDS if kind in subject.rights],
        "note_form": forms.get("note_form") or NoteForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(officers=officers, initial={"assignee": subject.assigned_to_id or ""}),
        "extend_form": forms.get("extend_form") or ExtendForm(request=subject),
        # The extension form opens on demand; it stays open when it comes back with a problem.
        "extend_open": "extend_form" in forms,
        "message_form": forms.get("message_form") or MessageForm(),
        "latest_extension": deadlines.latest_extension(subject.due_on),
        "is_closed": subject.status in CLOSED_STATUSES,
        # The company's other systems, through the registry's surface: what they did for this request,
        # and, while it is open, why it cannot yet be closed as complete.
        "elsewhere": surface.request_notes(subject.pk),
        "blockers": surface.completion_blockers(subject.pk) if subject.status not in CLOSED_STATUSES else [],
    }
    return render(request, "rights/staff/detail.html", context, status=status)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    return _detail(request, staff, subject)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    return staff_step(
        request,
        lambda: request_start(request=subject, staff=staff),
        refused=RequestRefused,
        explain=refusal_of,
        done=_("Work on the request has started."),
        then=detail_url(subject),
    )


def _assigned(assignee: User | None, staff: User) -> str:
    if assignee is None:
        return _("The request is no longer assigned to anyone.")
    if assignee.pk == staff.pk:
        return _("The request is assigned to you.")
    return _("The request is assigned to %(name)s.") % {"name": assignee.name}


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    officers = selectors.privacy_officers()
    data = request.POST.copy()
    if data.get("me"):
        data["assignee"] = str(staff.pk)
    form = AssignForm(data, officers=officers)
    if not form.is_valid():
        return _detail(request, staff, subject, status=400, assign_form=form)
    assignee: User | None = form.cleaned_data["assignee"]
    return staff_step(
        request,
        lambda: request_assign(request=subject, staff=staff, assignee=assignee),
        refused=RequestRefused,
        explain=refusal_of,
        done=_assigned(assignee, staff),
        then=detail_url(subject),
    )


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    form = NoteForm(request.POST)
    done = staff_step(
        request,
        lambda: request_note(request=subject, staff=staff, note=form.cleaned_data["note"]),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_("The note is added to the timeline."),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return _detail(request, staff, subject, status=400, note_form=form)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def message(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    form = MessageForm(request.POST)
    done = staff_step(
        request,
        lambda: request_message(request=subject, staff=staff, message=form.cleaned_data["message"]),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_("The message is sent to the person and shown on their status page."),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return _detail(request, staff, subject, status=400, message_form=form)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def verify_phone(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    return staff_step(
        request,
        lambda: phone_verify(request=subject, staff=staff),
        refused=RequestRefused,
        explain=refusal_of,
        done=_("The phone number is verified: records found by it are now included."),
        then=detail_url(subject),
    )


def _extended(until: dt.date) -> str:
    return _("The deadline is extended to %(date)s. The person has been sent the new date and your reasons.") % {
        "date": date_text(until)
    }


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def extend(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    form = ExtendForm(request.POST, request=subject)
    done = staff_step(
        request,
        lambda: request_extend(
            request=subject, staff=staff, until=form.cleaned_data["until"], reason=form.cleaned_data["reason"]
        ),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=lambda extended: _extended(form.cleaned_data["until"]),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return _detail(request, staff, subject, status=400, extend_form=form)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    if request.method != "POST":
        return confirm_page(request, staff, subject, "answer", form=AnswerForm(), allowed=can(subject, S.ANSWERED))
    form = AnswerForm(request.POST)
    done = staff_step(
        request,
        lambda: request_answer(request=subject, staff=staff, message=form.cleaned_data["message"]),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_("The request is answered. The person has been sent the answer."),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return confirm_page(request, staff, subject, "answer", status=400, form=form, allowed=can(subject, S.ANSWERED))


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    if request.method != "POST":
        return confirm_page(request, staff, subject, "refuse", form=RefuseForm(), allowed=can(subject, S.REFUSED))
    form = RefuseForm(request.POST)
    done = staff_step(
        request,
        lambda: request_refuse(
            request=subject,
            staff=staff,
            ground=form.cleaned_data["ground"],
            justification=form.cleaned_data["justification"],
        ),
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_("The request is refused. The person has been sent the reasons."),
        then=detail_url(subject),
    )
    if done is not None:
        return done
    return confirm_page(request, staff, subject, "refuse", status=400, form=form, allowed=can(subject, S.REFUSED))
