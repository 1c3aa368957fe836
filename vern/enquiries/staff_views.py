"""The enquiry inbox for sales and the privacy officer; every look and every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.declaration.models import PolicyVersion
from vern.declaration.selectors import declaration_of, latest_version_for, retention_body
from vern.enquiries import selectors, tokens
from vern.enquiries.access import get_enquiry_for_staff
from vern.enquiries.forms import ContactLogForm, CustomerForm, DeleteForm, RegisterForm, RelationshipEndedForm
from vern.enquiries.models import Enquiry
from vern.enquiries.services import (
    EnquiryRefused,
    Intake,
    enquiry_delete,
    enquiry_end_relationship,
    enquiry_log_contact,
    enquiry_mark_customer,
    enquiry_register,
    enquiry_viewed,
    inbox_viewed,
)
from vern.lib.crypto import DecryptionError
from vern.lib.keys import keyring
from vern.lib.language import page_language
from vern.registry import surface

PAGE_SIZE = 25


def _retention(request: HttpRequest) -> selectors.Retention:
    version = latest_version_for(request)
    return selectors.Retention.of(declaration_of(version) if version is not None else None)


SEARCH_DATA = "vern.enquiries.inbox-search"


def _sealed(query: str) -> str:
    return keyring().encrypt(query, associated_data=SEARCH_DATA)


def _unsealed(token: str) -> str:
    try:
        return keyring().decrypt(token, associated_data=SEARCH_DATA)[:200]
    except (DecryptionError, UnicodeDecodeError):
        return ""


@staff_view(Capability.WORK_ENQUIRIES)
@require_http_methods(["GET", "HEAD", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    """The list. A search is posted and carried on in the address encrypted, so that a name,
    an email address or a phone number never stands in the browser's history or a proxy's log."""
    staff = require_capability(request, Capability.WORK_ENQUIRIES)
    status = request.GET.get("status", "all")
    if status not in selectors.FILTERS:
        status = "all"
    if request.method == "POST":
        query = request.POST.get("q", "").strip()[:200]
        params = {"status": status, **({"s": _sealed(query)} if query else {})}
        return HttpResponseRedirect(f"{request.path}?{urlencode(params)}", status=303)
    sealed = request.GET.get("s", "")
    query = _unsealed(sealed) if sealed else ""
    retention = _retention(request)
    rows = selectors.inbox(status=status, query=query, retention=retention)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"enquiry": e, "deletion_at": retention.deletion_at(e)} for e in page.object_list]
    inbox_viewed(staff=staff, shown=[item["enquiry"].pk for item in items], status=status, searched=bool(query))
    context = {
        "page": page,
        "items": items,
        "status": status,
        "query": query,
        "sealed": sealed if query else "",
        "counts": selectors.counts(retention),
        "filters": [
            ("all", _("All")),
            ("new", _("New")),
            ("open", _("Open")),
            ("customer", _("Customers")),
            ("due", _("Deleted within 30 days")),
        ],
        "soon": timezone.now() + selectors.SOON,
    }
    return render(request, "enquiries/staff_inbox.html", context)


def _intake(data: dict[str, Any]) -> Intake:
    return Intake(
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        organisation=data["organisation"],
        message=data.get("message", ""),
    )


@staff_view(Capability.WORK_ENQUIRIES)
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.WORK_ENQUIRIES)
    retention = _retention(request)
    oldest = retention.enquiries.before(timezone.now()) if retention.enquiries else None
    if request.method != "POST":
        form = RegisterForm(oldest=oldest, initial={"token": tokens.issue("register")})
        return render(request, "enquiries/staff_register.html", {"form": form})
    form = RegisterForm(request.POST, oldest=oldest)
    try:
        submission = tokens.check(request.POST.get("token", ""), "register", min_seconds=0).submission_key
    except tokens.TokenProblem:
        submission = None
        form.is_valid()
        form.add_error(None, _("The form has expired. Check the details and register again."))
    if submission is not None and form.is_valid():
        data = form.cleaned_data
        done = staff_step(
            request,
            lambda: enquiry_register(
                staff=staff,
                kind=data["kind"],
                channel=data["channel"],
                received_at=data["received_at"],
                intake=_intake(data),
                language=data["language"],
                acknowledge=data["acknowledge"],
                submission_key=submission,
            ),
            refused=EnquiryRefused,
            explain=lambda refused: _("No privacy policy allows enquiries of this kind; publish one that does."),
            form=form,
            done=_("The enquiry is registered."),
            then=_detail_url,
        )
        if done is not None:
            return done
    data_copy = request.POST.copy()
    data_copy["token"] = tokens.issue("register")
    form.data = data_copy
    return render(request, "enquiries/staff_register.html", {"form": form}, status=400)


def _detail(request: HttpRequest, staff: User, enquiry: Enquiry, status: int = 200, **forms: Any) -> HttpResponse:
    """The enquiry's page; whoever sees it, on any answer, is recorded (R22)."""
    enquiry_viewed(staff=staff, enquiry=enquiry)
    version = latest_version_for(request)
    declaration = declaration_of(version) if version is not None else None
    language = page_language()
    retention = selectors.Retention.of(declaration)
    rule = declaration.rule(retention.rule_of(enquiry)) if declaration is not None else None
    purpose = declaration.purpose(enquiry.purpose) if declaration is not None else None
    context = {
        "enquiry": enquiry,
        # Art. 18: a person who asked for restriction has their data kept, not used.
        "restricted": surface.is_restricted({"email": enquiry.email_index, "phone": enquiry.phone_index}),
        "purpose_name": purpose.name.get(language) if purpose is not None else enquiry.purpose,
        "contacts": list(enquiry.contacts.select_related("staff").order_by("-happened_at", "-pk")),
        "deletion_at": retention.deletion_at(enquiry),
        "rule_text": retention_body(rule, language) if rule is not None else "",
        "shown_version": PolicyVersion.objects.filter(number=enquiry.policy_version)
        .only("number", "published_at")
        .first(),
        "contact_form": forms.get("contact_form") or ContactLogForm(enquiry=enquiry),
        "customer_form": forms.get("customer_form") or CustomerForm(),
        "ended_form": forms.get("ended_form")
        or RelationshipEndedForm(enquiry=enquiry, initial={"ended_on": timezone.localdate()}),
    }
    return render(request, "enquiries/staff_detail.html", context, status=status)


@staff_view(Capability.WORK_ENQUIRIES)
@require_http_methods(["GET", "HEAD"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    return _detail(request, staff, enquiry)


def _detail_url(enquiry: Enquiry) -> str:
    return reverse("enquiries_staff:detail", kwargs={"pk": enquiry.pk})


@staff_view(Capability.WORK_ENQUIRIES)
@require_POST
def log_contact(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = ContactLogForm(request.POST, enquiry=enquiry)
    if not form.is_valid():
        return _detail(request, staff, enquiry, status=400, contact_form=form)
    data = form.cleaned_data
    return staff_step(
        request,
        lambda: enquiry_log_contact(
            staff=staff, enquiry=enquiry, kind=data["kind"], happened_at=data["happened_at"], note=data["note"]
        ),
        done=_("The contact is logged. The enquiry is kept from this contact on."),
        then=_detail_url(enquiry),
    )


@staff_view(Capability.WORK_ENQUIRIES)
@require_POST
def mark_customer(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = CustomerForm(request.POST)
    if not form.is_valid():
        return _detail(request, staff, enquiry, status=400, customer_form=form)
    return staff_step(
        request,
        lambda: enquiry_mark_customer(staff=staff, enquiry=enquiry, note=form.cleaned_data["note"]),
        done=_("Marked as a customer. The enquiry now follows the customer retention rule."),
        then=_detail_url(enquiry),
    )


@staff_view(Capability.WORK_ENQUIRIES)
@require_POST
def end_relationship(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = RelationshipEndedForm(request.POST, enquiry=enquiry)
    if not form.is_valid():
        return _detail(request, staff, enquiry, status=400, ended_form=form)
    ended_on: dt.date = form.cleaned_data["ended_on"]
    ended_at = timezone.make_aware(dt.datetime.combine(ended_on, dt.time(23, 59)))
    done = staff_step(
        request,
        lambda: enquiry_end_relationship(staff=staff, enquiry=enquiry, ended_at=min(ended_at, timezone.now())),
        refused=EnquiryRefused,
        explain=_not_ended,
        form=form,
        done=_("The end of the customer relationship is recorded."),
        then=_detail_url(enquiry),
    )
    return done or _detail(request, staff, enquiry, status=400)


def _not_ended(refused: EnquiryRefused) -> str:
    if refused.code == "already_ended":
        return _("The end of this customer relationship is already recorded.")
    return _("Only a customer's relationship can end.")


@staff_view(Capability.WORK_ENQUIRIES, reauth=True)
@require_http_methods(["GET", "HEAD", "POST"])
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = DeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            return staff_step(
                request,
                lambda: enquiry_delete(staff=staff, enquiry=enquiry, reason=form.cleaned_data["reason"]),
                done=_("The enquiry is deleted, with its contact log."),
                then=reverse("enquiries_staff:inbox"),
            )
        enquiry_viewed(staff=staff, enquiry=enquiry)
        return render(request, "enquiries/staff_delete.html", {"enquiry": enquiry, "form": form}, status=400)
    enquiry_viewed(staff=staff, enquiry=enquiry)
    return render(request, "enquiries/staff_delete.html", {"enquiry": enquiry, "form": form})
