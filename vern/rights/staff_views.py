"""The privacy officers' console for rights requests: the queue, each request, and every step on it.

Every page about a request shows personal data (the address, the phone, the
person's words), so each look is audited ("rights.viewed"); every step goes
through a service that checks the status it starts from and audits the change.
A refused step comes back as a ``RequestRefused`` code and is shown in the staff
member's language, never as an error page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.audit.services import Actor, audit_record
from vern.registry.entries import Entry, entries
from vern.rights import deadlines, selectors, services
from vern.rights.access import get_request_for_staff
from vern.rights.models import CLOSED_STATUSES, Event, Request, Restriction, Right
from vern.rights.services import TRANSITIONS, WHILE_OPEN, RequestRefused, reference_of
from vern.rights.staff_forms import (
    AnswerForm,
    AssignForm,
    ErasureForm,
    ExtendForm,
    NoteForm,
    ObjectionForm,
    RectifyForm,
    RefuseForm,
    RegisterForm,
    RestrictionLiftForm,
    refusal_text,
)

PAGE_SIZE = 50
VIEWS = ("open", "overdue", "awaiting", "closed")
PACKAGE_KINDS = (Right.ACCESS.value, Right.PORTABILITY.value)
S = Request.Status


# ------------------------------------------------------------------ names for people


def model_names() -> dict[str, str]:
    """The registered models, named for a privacy officer (the models' own names are for developers)."""
    return {
        "analytics.Hit": _("Page views (statistics)"),
        "analytics.LogEvent": _("Technical log"),
        "audit.Entry": _("Audit log"),
        "consent.ConsentEvent": _("Cookie consent"),
        "enquiries.Enquiry": _("Enquiries"),
        "enquiries.ContactLog": _("Contact log of an enquiry"),
        "enquiries.SearchTerm": _("Search index of an enquiry"),
        "mail.OutboxMessage": _("Emails sent"),
        "newsletter.Subscription": _("Newsletter subscriptions"),
        "retention.Hold": _("Legal holds"),
        "rights.Request": _("Rights requests"),
        "rights.Event": _("Timeline of a request"),
        "rights.Download": _("Download links of a request"),
        "rights.Restriction": _("Restrictions of processing"),
        "rights.Suppression": _("Blocked from marketing"),
        "rights.Tombstone": _("Erasure journal"),
    }


def model_name(label: str, model: type[models.Model] | None = None) -> str:
    name = model_names().get(label)
    if name is not None:
        return name
    return str(model._meta.verbose_name_plural).capitalize() if model is not None else label


def erasure_modes() -> dict[str, str]:
    return {"delete": _("Deleted"), "anonymise": _("Anonymised"), "retain": _("Kept")}


def event_labels() -> dict[str, str]:
    return {
        "received": _("Received"),
        "confirmation_sent": _("Confirmation link sent"),
        "confirmed": _("Confirmed"),
        "lapsed": _("Not confirmed in time"),
        "assigned": _("Assigned"),
        "started": _("Work started"),
        "note": _("Internal note"),
        "phone_verified": _("Phone number verified"),
        "extended": _("Deadline extended"),
        "answered": _("Answered"),
        "refused": _("Refused"),
        "reminder": _("Reminder to privacy officers"),
        "marketing_suppressed": _("Address blocked from marketing"),
        "restriction_lift_announced": _("End of restriction announced"),
        "rectified": _("Corrected"),
        "objection_decided": _("Objection decided"),
        "erased": _("Erasure carried out"),
        "erasure_step": _("Erasure step"),
        "download_offered": _("Download link sent"),
        "downloaded": _("Package downloaded"),
    }


def _right_names(rights: list[str]) -> list[str]:
    return [str(Right(right).label) if right in Right.values else right for right in rights]


def _date(day: dt.date | str) -> str:
    if isinstance(day, str):
        try:
            return _date(dt.date.fromisoformat(day))
        except ValueError:
            return day
    return formats.date_format(day, "SHORT_DATE_FORMAT")


# ------------------------------------------------------------------ the queue


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


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD"])
def queue(request: HttpRequest) -> HttpResponse:
    """The requests by due date; the list names no one, so looking at it is not a look at personal data."""
    require_capability(request, Capability.HANDLE_REQUESTS)
    view = request.GET.get("view", "open")
    if view not in VIEWS:
        view = "open"
    now = timezone.now()
    page = Paginator(selectors.queue(view=view, now=now), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "request": item,
            "reference": reference_of(item),
            "rights": _right_names(item.rights),
            "deadline": Deadline.of(item, now),
        }
        for item in page.object_list
    ]
    tabs = [
        ("open", _("Open"), selectors.queue(view="open", now=now).count()),
        ("overdue", _("Overdue"), selectors.queue(view="overdue", now=now).count()),
        ("awaiting", _("Awaiting confirmation"), selectors.queue(view="awaiting", now=now).count()),
        ("closed", _("Closed"), None),
    ]
    context = {"view": view, "page": page, "rows": rows, "tabs": tabs, "closed": view == "closed"}
    return render(request, "rights/staff/queue.html", context)


# ------------------------------------------------------------------ registering (P16)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.HANDLE_REQUESTS)
    if request.method != "POST":
        return render(
            request, "rights/staff/register.html", {"form": RegisterForm(initial={"nonce": secrets.token_urlsafe(24)})}
        )
    form = RegisterForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        received_at: dt.datetime = data["received_at"]
        try:
            created = services.request_register(
                staff=staff,
                rights=data["rights"],
                channel=data["channel"],
                received_at=received_at,
                email=data["email"],
                phone=data["phone"],
                details=data["details"],
                language=data["language"],
                identity_checked=data["identity_checked"],
                marketing_objection=data["marketing_objection"],
                nonce=data["nonce"],
            )
        except RequestRefused as exc:
            form.refused(exc.code)
        else:
            if created.status == S.AWAITING_CONFIRMATION:
                messages.success(
                    request,
                    _("The request is registered. A confirmation link has gone to the person's email address."),
                )
            else:
                messages.success(request, _("The request is registered and confirmed."))
            return _back(created)
    return render(request, "rights/staff/register.html", {"form": form}, status=400)


# ------------------------------------------------------------------ one request


def _viewed(staff: User, subject: Request, page: str) -> None:
    """A look at a request's page: it shows the person's contact details and words (R22)."""
    audit_record(
        action="rights.viewed",
        actor=Actor.staff(staff),
        object_type="rights.request",
        object_id=subject.pk,
        subject_key=subject.subject_key,
        data={"page": page},
    )


def _back(subject: Request) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("rights_staff:detail", kwargs={"pk": subject.pk}), status=303)


def _can(subject: Request, to: str) -> bool:
    return to in TRANSITIONS.get(subject.status, frozenset())


def _event_detail(event: Event, names: dict[int, str]) -> str:
    data = event.data or {}
    kind = event.kind
    if kind == "received" and data.get("channel") in Request.Channel.values:
        return str(Request.Channel(data["channel"]).label)
    if kind == "confirmed":
        return _("identity checked by staff") if data.get("how") == "staff" else _("by the link")
    if kind == "assigned":
        to = data.get("to")
        return _("to %(name)s") % {"name": names.get(to, "–")} if to else _("to nobody")
    if kind == "extended" and data.get("extended_to"):
        return _("until %(date)s") % {"date": _date(data["extended_to"])}
    if kind == "restriction_lift_announced" and data.get("lift_on"):
        return _("ends on %(date)s") % {"date": _date(data["lift_on"])}
    if kind == "refused" and data.get("ground") in Request.Ground.values:
        return str(Request.Ground(data["ground"]).label)
    if kind == "reminder" and "days_left" in data:
        days = int(data["days_left"])
        return ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    if kind in ("download_offered", "downloaded") and data.get("package") in Right.values:
        return str(Right(data["package"]).label)
    if kind == "objection_decided":
        return _("upheld") if data.get("decision") == "upheld" else _("overridden")
    if kind == "rectified":
        recipients = data.get("recipients") or []
        if recipients:
            return _("recipients to tell: %(names)s") % {"names": ", ".join(str(r) for r in recipients)}
        return ""
    if kind == "erasure_step":
        count = sum(int(n) for n in (data.get("deleted") or {}).values())
        count += sum(int(n) for n in (data.get("anonymised") or {}).values())
        count += int(data.get("contact_cleared") or 0)
        name = model_name(str(data.get("model", "")))
        return ngettext("%(name)s: %(count)s record", "%(name)s: %(count)s records", count) % {
            "name": name,
            "count": count,
        }
    if kind == "erased":
        count = sum(int(n) for n in (data.get("deleted") or {}).values())
        count += sum(int(n) for n in (data.get("anonymised") or {}).values())
        return ngettext("%(count)s record removed or anonymised", "%(count)s records removed or anonymised", count) % {
            "count": count
        }
    if kind == "done_withdraw_consent" and "withdrawn" in data:
        count = int(data["withdrawn"])
        return ngettext("%(count)s consent withdrawn", "%(count)s consents withdrawn", count) % {"count": count}
    return ""


def _event_label(kind: str, registered: bool = False) -> str:
    if kind == "received" and registered:
        return _("Registered")
    label = event_labels().get(kind)
    if label is not None:
        return label
    if kind.startswith("done_") and kind[5:] in Right.values:
        return _("%(right)s: done") % {"right": Right(kind[5:]).label}
    return kind.replace("_", " ").capitalize()


def _timeline(subject: Request) -> list[dict[str, Any]]:
    events = list(subject.events.select_related("actor").order_by("at", "pk"))
    assignees = {int(e.data["to"]) for e in events if e.kind == "assigned" and isinstance(e.data.get("to"), int)}
    names = {user.pk: user.name for user in User.objects.filter(pk__in=assignees)}
    received = formats.date_format(timezone.localtime(subject.received_at), "SHORT_DATETIME_FORMAT")

    def detail(event: Event) -> str:
        text = _event_detail(event, names)
        if event.kind == "received" and event.actor_id is not None:  # registered later than it came
            return _("%(channel)s, received %(when)s") % {"channel": text, "when": received}
        return text

    return [
        {
            "at": event.at,
            "kind": event.kind,
            "label": _event_label(event.kind, registered=event.actor_id is not None),
            "detail": detail(event),
            "actor": event.actor.name if event.actor else "",
            "note": event.note,
        }
        for event in events
    ]


def _discovery(subject: Request) -> list[dict[str, Any]]:
    modes = erasure_modes()
    return [
        {
            "label": found.entry.label,
            "name": model_name(found.entry.label, found.entry.model),
            "count": found.count,
            "mode": found.entry.erasure,
            "mode_text": modes.get(found.entry.erasure, found.entry.erasure),
        }
        for found in selectors.discover(subject)
    ]


def _active_restriction(subject: Request) -> Restriction | None:
    keys = [key for key in (subject.email_index, subject.phone_index) if key]
    if not keys:
        return None
    return Restriction.objects.filter(subject_key__in=keys, lifted_at__isnull=True).order_by("pk").first()


def _actions(subject: Request, staff: User) -> dict[str, bool]:
    """Which steps the page offers: only those the status allows (``TRANSITIONS``)."""
    is_open = subject.status in WHILE_OPEN
    today = deadlines.local_day(timezone.now())
    rights = set(subject.rights)
    return {
        "start": _can(subject, S.IN_PROGRESS),
        "assign": is_open,
        "assign_me": is_open and subject.assigned_to_id != staff.pk,
        "verify_phone": is_open and bool(subject.phone_index) and not subject.phone_verified,
        "extend": _can(subject, S.EXTENDED) and subject.extended_to is None and today <= subject.due_on,
        "extend_too_late": _can(subject, S.EXTENDED) and subject.extended_to is None and today > subject.due_on,
        "answer": _can(subject, S.ANSWERED),
        "refuse": _can(subject, S.REFUSED),
        "erasure": is_open and Right.ERASURE in rights and Right.ERASURE not in subject.done,
        "erasure_receipt": Right.ERASURE in subject.done,
        "rectify": is_open and Right.RECTIFICATION in rights,
        "objection": is_open and Right.OBJECTION in rights and Right.OBJECTION not in subject.done,
        "restriction": Right.RESTRICTION in rights,
        "package": is_open and bool(subject.email) and bool(rights & set(PACKAGE_KINDS)),
        "any_step": is_open,
    }


def _detail(request: HttpRequest, staff: User, subject: Request, status: int = 200, **forms: Any) -> HttpResponse:
    _viewed(staff, subject, "detail")
    now = timezone.now()
    confirmed = subject.status not in (S.AWAITING_CONFIRMATION, S.LAPSED)
    officers = services.privacy_officers()
    context = {
        "subject": subject,
        "reference": reference_of(subject),
        "deadline": Deadline.of(subject, now),
        "rights": [
            {"id": right, "name": str(Right(right).label), "done": right in subject.done}
            for right in subject.rights
            if right in Right.values
        ],
        "timeline": _timeline(subject),
        "discovery": _discovery(subject) if confirmed else None,
        "found_by": _key_names(selectors.person_keys(subject)),
        "phone_unverified": bool(subject.phone_index) and not subject.phone_verified,
        "actions": _actions(subject, staff),
        "restriction": _active_restriction(subject),
        "packages": [(kind, str(Right(kind).label)) for kind in PACKAGE_KINDS if kind in subject.rights],
        "note_form": forms.get("note_form") or NoteForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(officers=officers, initial={"assignee": subject.assigned_to_id or ""}),
        "extend_form": forms.get("extend_form") or ExtendForm(request=subject),
        "latest_extension": deadlines.latest_extension(subject.due_on),
        "is_closed": subject.status in CLOSED_STATUSES,
    }
    return render(request, "rights/staff/detail.html", context, status=status)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    return _detail(request, staff, subject)


def _refused(request: HttpRequest, exc: RequestRefused) -> None:
    messages.error(request, refusal_text(exc.code))


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    try:
        services.request_start(request=subject, staff=staff)
    except RequestRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Work on the request has started."))
    return _back(subject)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    officers = services.privacy_officers()
    data = request.POST.copy()
    if data.get("me"):
        data["assignee"] = str(staff.pk)
    form = AssignForm(data, officers=officers)
    if not form.is_valid():
        return _detail(request, staff, subject, status=400, assign_form=form)
    assignee: User | None = form.cleaned_data["assignee"]
    try:
        services.request_assign(request=subject, staff=staff, assignee=assignee)
    except RequestRefused as exc:
        _refused(request, exc)
    else:
        if assignee is None:
            messages.success(request, _("The request is no longer assigned to anyone."))
        elif assignee.pk == staff.pk:
            messages.success(request, _("The request is assigned to you."))
        else:
            messages.success(request, _("The request is assigned to %(name)s.") % {"name": assignee.name})
    return _back(subject)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, staff, subject, status=400, note_form=form)
    try:
        services.request_note(request=subject, staff=staff, note=form.cleaned_data["note"])
    except RequestRefused as exc:
        form.add_error("note", refusal_text(exc.code))
        return _detail(request, staff, subject, status=400, note_form=form)
    messages.success(request, _("The note is added to the timeline."))
    return _back(subject)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def verify_phone(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    try:
        services.phone_verify(request=subject, staff=staff)
    except RequestRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The phone number is verified: records found by it are now included."))
    return _back(subject)


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def extend(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    form = ExtendForm(request.POST, request=subject)
    if not form.is_valid():
        return _detail(request, staff, subject, status=400, extend_form=form)
    until: dt.date = form.cleaned_data["until"]
    try:
        services.request_extend(request=subject, staff=staff, until=until, reason=form.cleaned_data["reason"])
    except RequestRefused as exc:
        if exc.code in ("until", "reason"):
            form.add_error(exc.code, refusal_text(exc.code))
        else:  # the form is not offered any more (too late, extended once already): say so at the top
            _refused(request, exc)
        return _detail(request, staff, subject, status=400, extend_form=form)
    messages.success(
        request,
        _("The deadline is extended to %(date)s. The person has been sent the new date and your reasons.")
        % {"date": _date(until)},
    )
    return _back(subject)


def _confirm_page(
    request: HttpRequest, staff: User, subject: Request, template: str, status: int = 200, **context: Any
) -> HttpResponse:
    """The page that asks before a step that cannot be undone; it shows the request, so it is a look too."""
    _viewed(staff, subject, template)
    now = timezone.now()
    context.update(
        {
            "subject": subject,
            "reference": reference_of(subject),
            "deadline": Deadline.of(subject, now),
            "rights": [
                {"id": right, "name": str(Right(right).label), "done": right in subject.done}
                for right in subject.rights
                if right in Right.values
            ],
        }
    )
    return render(request, f"rights/staff/{template}.html", context, status=status)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    if request.method != "POST":
        return _confirm_page(request, staff, subject, "answer", form=AnswerForm(), allowed=_can(subject, S.ANSWERED))
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.request_answer(request=subject, staff=staff, message=form.cleaned_data["message"])
        except RequestRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("The request is answered. The person has been sent the answer."))
            return _back(subject)
    return _confirm_page(request, staff, subject, "answer", status=400, form=form, allowed=_can(subject, S.ANSWERED))


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    staff, subject = get_request_for_staff(request, pk)
    if request.method != "POST":
        return _confirm_page(request, staff, subject, "refuse", form=RefuseForm(), allowed=_can(subject, S.REFUSED))
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            services.request_refuse(
                request=subject,
                staff=staff,
                ground=form.cleaned_data["ground"],
                justification=form.cleaned_data["justification"],
            )
        except RequestRefused as exc:
            if form.places(exc.code):
                form.refused(exc.code)
            else:
                _refused(request, exc)
        else:
            messages.success(request, _("The request is refused. The person has been sent the reasons."))
            return _back(subject)
    return _confirm_page(request, staff, subject, "refuse", status=400, form=form, allowed=_can(subject, S.REFUSED))


# ------------------------------------------------------------------ erasure


def _key_names(kinds: Any) -> str:
    """The keys a person was found by, as words: "email address and phone number"."""
    names = {"email": _("email address"), "phone": _("phone number"), "consent_id": _("cookie choice")}
    words = [names.get(str(kind), str(kind)) for kind in kinds]
    if len(words) < 2:
        return "".join(words)
    return _("%(first)s and %(last)s") % {"first": ", ".join(words[:-1]), "last": words[-1]}


def _preview_rows(preview: Any) -> list[dict[str, Any]]:
    """The erasure preview's lines, named for a privacy officer."""
    return [
        {
            "label": line.label,
            "name": model_names().get(line.label) or str(line.name).capitalize(),
            "count": line.count,
            "action": line.action,
            "action_text": line.action_text,
            "erased": line.erased,
            "ground": line.ground,
            "fields": list(line.fields),
            "part_of": model_names().get(line.part_of, line.part_of) if line.part_of else "",
            "note": str(line.note),
        }
        for line in preview.lines
    ]


def _receipt(subject: Request) -> dict[str, Any] | None:
    """The receipt of the request's erasure, from its timeline (counts and grounds, no identifier)."""
    event = subject.events.filter(kind="erased").order_by("-at", "-pk").first()
    if event is None:
        return None
    data = event.data or {}
    names = model_names()
    deleted = data.get("deleted") or {}
    anonymised = data.get("anonymised") or {}
    return {
        "at": event.at,
        "actor": event.actor.name if event.actor else "",
        "deleted": [(names.get(label, label), label, count) for label, count in deleted.items()],
        "anonymised": [(names.get(label, label), label, count) for label, count in anonymised.items()],
        "kept": [(names.get(label, label), label, ground) for label, ground in (data.get("kept") or {}).items()],
        "contact_cleared": int(data.get("contact_cleared") or 0),
        "keys": _key_names(data.get("keys") or []),
        "removed": sum(int(n) for n in deleted.values()) + sum(int(n) for n in anonymised.values()),
    }


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def erasure(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview of what an erasure removes, anonymises and keeps (with its Art. 17(3) ground); once it
    is carried out, its receipt."""
    from vern.rights import erasure as erasing

    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.ERASURE in subject.rights and Right.ERASURE not in subject.done
    form = ErasureForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if not allowed:
            messages.error(request, refusal_text("closed" if subject.status not in WHILE_OPEN else "right"))
        elif form.is_valid():
            try:
                erasing.erasure_carry_out(request=subject, staff=staff, actor=Actor.staff(staff))
            except RequestRefused as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("The person's data is erased as the preview showed."))
                return HttpResponseRedirect(reverse("rights_staff:erasure", kwargs={"pk": subject.pk}), status=303)
    receipt = _receipt(subject) if Right.ERASURE in subject.done else None
    if receipt is not None:
        return _confirm_page(request, staff, subject, "erasure", status=status, receipt=receipt)
    preview = erasing.erasure_preview(subject) if allowed else None
    rows = _preview_rows(preview) if preview is not None else []
    return _confirm_page(
        request,
        staff,
        subject,
        "erasure",
        status=status,
        form=form,
        erased=[row for row in rows if row["erased"]],
        kept=[row for row in rows if not row["erased"]],
        keys=_key_names(preview.keys) if preview is not None else "",
        contact_cleared=preview.contact_cleared if preview is not None else 0,
        allowed=allowed,
        phone_unverified=bool(subject.phone_index) and not subject.phone_verified,
        on_hold=preview.on_hold if preview is not None else False,
        pending=erasing.pending_download(subject) if allowed else None,
    )


# ------------------------------------------------------------------ rectification


def _rectify_entries() -> dict[str, Entry]:
    """Models with a field that may be corrected (``services.rectifiable_fields`` says which)."""
    return {entry.label: entry for entry in entries() if services.rectifiable_fields(entry)}


def _field_name(entry: Entry, name: str) -> str:
    return str(getattr(entry.model._meta.get_field(name), "verbose_name", name)).capitalize()


RECORDS_SHOWN = 20


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def rectify(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose one of the person's records, then a field and the correct value (Art. 16); the recipients
    to tell (Art. 19) are shown after."""
    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.RECTIFICATION in subject.rights
    offered = _rectify_entries()
    found = {f.entry.label: f for f in selectors.discover(subject) if f.entry.label in offered} if allowed else {}
    chosen = request.POST.get("record") if request.method == "POST" else request.GET.get("record")
    record: models.Model | None = None
    entry: Entry | None = None
    if chosen and ":" in chosen:
        label, _sep, record_pk = chosen.partition(":")
        if label in found:
            entry = offered[label]
            record = found[label].records.filter(pk=record_pk).first() if record_pk.isdigit() else None
    form: RectifyForm | None = None
    status = 200
    if record is not None and entry is not None:
        choices = [(name, _field_name(entry, name)) for name in services.rectifiable_fields(entry)]
        form = RectifyForm(request.POST if request.method == "POST" else None, fields=choices)
        if request.method == "POST":
            status = 400
            if form.is_valid():
                try:
                    recipients = services.rectify(
                        request=subject,
                        staff=staff,
                        model_label=entry.label,
                        pk=record.pk,
                        field=form.cleaned_data["field"],
                        value=form.cleaned_data["value"],
                    )
                except RequestRefused as exc:
                    form.add_error(None, refusal_text(exc.code))
                else:
                    if recipients:
                        messages.success(
                            request,
                            _("The field is corrected. Tell these recipients of the correction (Art. 19): %(names)s.")
                            % {"names": ", ".join(recipients)},
                        )
                    else:
                        messages.success(request, _("The field is corrected. No recipient has to be told of it."))
                    return _back(subject)
    elif request.method == "POST":
        messages.error(request, refusal_text("not_found" if allowed else "closed"))
        status = 400
    groups = []
    for label, item in found.items():
        if item.count == 0:
            continue
        groups.append(
            {
                "label": label,
                "name": model_name(label, item.entry.model),
                "count": item.count,
                "records": [
                    {
                        "pk": row.pk,
                        "text": str(row),
                        "first": str(getattr(row, services.rectifiable_fields(item.entry)[0], "") or ""),
                        "at": getattr(row, item.entry.clock, None),
                    }
                    for row in item.records[:RECORDS_SHOWN]
                ],
            }
        )
    values = (
        [(_field_name(entry, name), getattr(record, name)) for name in services.rectifiable_fields(entry)]
        if record is not None and entry is not None
        else []
    )
    return _confirm_page(
        request,
        staff,
        subject,
        "rectify",
        status=status,
        allowed=allowed,
        groups=groups,
        shown=RECORDS_SHOWN,
        record=record,
        record_key=f"{entry.label}:{record.pk}" if record is not None and entry is not None else "",
        record_name=model_name(entry.label, entry.model) if entry is not None else "",
        values=values,
        form=form,
    )


# ------------------------------------------------------------------ objection and restriction


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def objection(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision on an objection to processing on legitimate interest (Art. 21(1))."""
    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.OBJECTION in subject.rights
    if request.method != "POST":
        return _confirm_page(request, staff, subject, "objection", form=ObjectionForm(), allowed=allowed)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            services.objection_decide(
                request=subject,
                staff=staff,
                decision=form.cleaned_data["decision"],
                grounds=form.cleaned_data["grounds"],
            )
        except RequestRefused as exc:
            if form.places(exc.code):
                form.refused(exc.code)
            else:
                _refused(request, exc)
        else:
            messages.success(request, _("The decision on the objection is recorded."))
            return _back(subject)
    return _confirm_page(request, staff, subject, "objection", status=400, form=form, allowed=allowed)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def restriction(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's active restriction, and announcing its end (Art. 18(3): they are told first)."""
    staff, subject = get_request_for_staff(request, pk)
    active = _active_restriction(subject)
    form = RestrictionLiftForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if active is None:
            messages.error(request, _("There is no restriction in force for this person."))
        elif form.is_valid():
            lift_on: dt.date = form.cleaned_data["lift_on"]
            try:
                services.restriction_schedule_lift(restriction=active, staff=staff, lift_on=lift_on)
            except RequestRefused as exc:
                form.add_error("lift_on" if exc.code == "lift_date" else None, refusal_text(exc.code))
            else:
                messages.success(
                    request,
                    _("The person has been told that the restriction ends on %(date)s.") % {"date": _date(lift_on)},
                )
                return _back(subject)
    return _confirm_page(request, staff, subject, "restriction", status=status, form=form, active=active)


# ------------------------------------------------------------------ packages


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def package(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Send the person a new single-use link to their access or portability package."""
    from vern.rights import packages

    staff, subject = get_request_for_staff(request, pk)
    if kind not in PACKAGE_KINDS:
        raise Http404
    if kind not in subject.rights:
        messages.error(request, refusal_text("right"))
    elif subject.status not in WHILE_OPEN:
        messages.error(request, refusal_text("closed"))
    elif not subject.email:
        messages.error(request, refusal_text("no_address"))
    else:
        try:
            with transaction.atomic():
                packages.download_offer(subject, kind=kind, actor=Actor.staff(staff), staff=staff)
        except RequestRefused as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("A new download link has been sent to the person's email address."))
    return _back(subject)
