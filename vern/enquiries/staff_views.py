"""The enquiry inbox for sales and the privacy officer; every look and every change is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version_for, retention_body
from vern.enquiries import attachments, selectors, to_rights, tokens
from vern.enquiries.access import get_enquiry_for_staff
from vern.enquiries.forms import (
    AssignForm,
    ContactLogForm,
    CustomerForm,
    DeleteForm,
    RegisterForm,
    RelationshipEndedForm,
    ReplyForm,
    RightsRequestForm,
    StateForm,
)
from vern.enquiries.models import Enquiry
from vern.enquiries.services import (
    TRANSITIONS,
    EnquiryRefused,
    Intake,
    NothingChanged,
    enquiry_assign,
    enquiry_delete,
    enquiry_end_relationship,
    enquiry_log_contact,
    enquiry_mark_customer,
    enquiry_register,
    enquiry_reply,
    enquiry_set_state,
    enquiry_viewed,
    inbox_viewed,
    reply_subject,
)
from vern.lib.language import page_language
from vern.registry import surface

PAGE_SIZE = 25


def _retention(request: HttpRequest) -> selectors.Retention:
    version = latest_version_for(request)
    return selectors.Retention.of(declaration_of(version) if version is not None else None)


def _choice(request: HttpRequest, name: str, allowed: tuple[str, ...]) -> str:
    value = request.GET.get(name, allowed[0])
    return value if value in allowed else allowed[0]


@staff_view(Capability.WORK_ENQUIRIES)
@require_http_methods(["GET", "HEAD"])
def inbox(request: HttpRequest) -> HttpResponse:
    """The list, filtered and searched by GET (``?q=``), so that a search can be bookmarked and shared.

    The search is in the address: vern's server keeps no access log, the audit row records that
    a search was made and which rows it showed, never what was searched (docs/enquiries.md).
    """
    staff = require_capability(request, Capability.WORK_ENQUIRIES)
    status = _choice(request, "status", selectors.FILTERS)
    state = _choice(request, "state", selectors.STATES)
    owner = _choice(request, "owner", selectors.OWNERS)
    query = request.GET.get("q", "").strip()[:200]
    retention = _retention(request)
    rows = selectors.inbox(status=status, query=query, retention=retention, state=state, owner=owner, staff=staff)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [{"enquiry": e, "deletion_at": retention.deletion_at(e)} for e in page.object_list]
    inbox_viewed(staff=staff, shown=[item["enquiry"].pk for item in items], status=status, searched=bool(query))
    kept = {"q": query, "state": state, "owner": owner}
    context = {
        "page": page,
        "items": items,
        "status": status,
        "state": state,
        "owner": owner,
        "query": query,
        # The other filters, carried on by each link (left out where they are the default).
        "carry": urlencode({k: v for k, v in kept.items() if v and v not in ("any", "anyone")}),
        "carry_all": urlencode(
            {k: v for k, v in {"status": status, **kept}.items() if v and v not in ("all", "any", "anyone")}
        ),
        "counts": selectors.counts(retention),
        "filters": [
            ("all", _("All")),
            ("new", _("New")),
            ("open", _("Contacted")),
            ("customer", _("Customers")),
            ("due", _("Deleted within 30 days")),
        ],
        "states": [("any", _("Any state")), *Enquiry.State.choices],
        "owners": [("anyone", _("Anyone")), ("mine", _("Mine")), ("unassigned", _("Unassigned"))],
        "soon": timezone.now() + selectors.SOON,
        "mailbox": selectors.mailbox_health(),
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


# What the button that moves an enquiry to each state says.
_STATE_ACTIONS: dict[str, Promise] = {
    Enquiry.State.OPEN: gettext_lazy("Reopen"),
    Enquiry.State.ANSWERED: gettext_lazy("Mark as answered"),
    Enquiry.State.CLOSED: gettext_lazy("Close"),
}


def _reply_form(enquiry: Enquiry, declaration: Declaration | None) -> ReplyForm:
    controller = declaration.controller.name if declaration is not None else ""
    return ReplyForm(initial={"token": tokens.issue("reply"), "subject": reply_subject(enquiry, controller)})


def _detail(request: HttpRequest, staff: User, enquiry: Enquiry, status: int = 200, **forms: Any) -> HttpResponse:
    """The enquiry's page; whoever sees it, on any answer, is recorded (R22)."""
    enquiry_viewed(staff=staff, enquiry=enquiry)
    version = latest_version_for(request)
    declaration = declaration_of(version) if version is not None else None
    language = page_language()
    retention = selectors.Retention.of(declaration)
    rule = declaration.rule(retention.rule_of(enquiry)) if declaration is not None else None
    purpose = declaration.purpose(enquiry.purpose) if declaration is not None else None
    guess = to_rights.enquiry_rights_guess(enquiry)
    context = {
        "enquiry": enquiry,
        # Art. 18: a person who asked for restriction has their data kept, not used.
        "restricted": surface.is_restricted({"email": enquiry.email_index, "phone": enquiry.phone_index}),
        "purpose_name": purpose.name.get(language) if purpose is not None else enquiry.purpose,
        "contacts": list(enquiry.contacts.select_related("staff", "mail").order_by("-happened_at", "-pk")),
        "mails": list(enquiry.mails.prefetch_related("attachments").order_by("received_at", "pk")),
        # A mail that seems to ask for a right: staff who handle requests register it in one click.
        "rights_guess": guess,
        "rights_form": forms.get("rights_form") or RightsRequestForm(initial={"rights": list(guess.rights)}),
        "handles_requests": staff.can(Capability.HANDLE_REQUESTS),
        "deletion_at": retention.deletion_at(enquiry),
        "rule_text": retention_body(rule, language) if rule is not None else "",
        "shown_version": PolicyVersion.objects.filter(number=enquiry.policy_version)
        .only("number", "published_at")
        .first(),
        "contact_form": forms.get("contact_form") or ContactLogForm(enquiry=enquiry),
        "reply_form": forms.get("reply_form") or _reply_form(enquiry, declaration),
        # The language the words around a reply are in, named in a sentence of the page's language.
        "reply_language": (
            pgettext("in a sentence", "English")
            if enquiry.language == "en"
            else pgettext("in a sentence", "Norwegian Bokmål")
        ),
        "assign_form": forms.get("assign_form")
        or AssignForm(staff=list(selectors.assignable_staff()), initial={"owner": enquiry.owner_id or ""}),
        "next_states": [
            (state, label) for state, label in _STATE_ACTIONS.items() if state in TRANSITIONS[enquiry.state]
        ],
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
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a reply by email through the outbox; the form's one-time token makes a retry send nothing more."""
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = ReplyForm(request.POST)
    key = None
    if form.is_valid():
        try:
            key = tokens.check(form.cleaned_data["token"], "reply", min_seconds=0).submission_key
        except tokens.TokenProblem:
            form.add_error(None, _("The form has expired. Copy your text, reload the page and send it again."))
    if key is not None:
        done = staff_step(
            request,
            lambda: enquiry_reply(
                staff=staff,
                enquiry=enquiry,
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                reply_key=key,
            ),
            refused=EnquiryRefused,
            explain=_not_replied,
            form=form,
            done=_("The reply is on its way. The enquiry is answered, and kept from this contact on."),
            then=_detail_url(enquiry),
        )
        if done is not None:
            return done
    fresh = request.POST.copy()
    fresh["token"] = tokens.issue("reply")
    form.data = fresh
    return _detail(request, staff, enquiry, status=400, reply_form=form)


def _not_replied(refused: EnquiryRefused) -> str:
    if refused.code == "restricted":
        return _("This person has restricted the processing of their data: no mail may be sent to them.")
    return _("This enquiry has no email address. Answer by telephone and log the contact.")


@staff_view(Capability.WORK_ENQUIRIES)
@require_POST
def set_state(request: HttpRequest, pk: int) -> HttpResponse:
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = StateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose open, answered or closed."))
    state = form.cleaned_data["state"]
    return staff_step(
        request,
        lambda: enquiry_set_state(staff=staff, enquiry=enquiry, state=state),
        refused=EnquiryRefused,
        informative=(NothingChanged,),
        explain=lambda refused: (
            _("The enquiry already is %(state)s.") % {"state": Enquiry.State(state).label.lower()}
            if isinstance(refused, NothingChanged)
            else _("An enquiry that is closed is reopened first.")
        ),
        done=lambda changed: _("The enquiry is %(state)s.") % {"state": changed.get_state_display().lower()},
        then=_detail_url(enquiry),
    )


@staff_view(Capability.WORK_ENQUIRIES)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the enquiry to another staff member who works enquiries (or to nobody), audited."""
    staff, enquiry = get_enquiry_for_staff(request, pk)
    form = AssignForm(request.POST, staff=list(selectors.assignable_staff()))
    done = staff_step(
        request,
        lambda: enquiry_assign(staff=staff, enquiry=enquiry, owner=form.chosen()),
        refused=EnquiryRefused,
        informative=(NothingChanged,),
        explain=lambda refused: (
            _("Nothing changed: the enquiry already has this owner.")
            if isinstance(refused, NothingChanged)
            else _("Choose a staff member who works enquiries, or nobody.")
        ),
        form=form,
        done=lambda changed: (
            _("The enquiry is now %(name)s's.") % {"name": changed.owner.name}
            if changed.owner is not None
            else _("The enquiry has no owner now.")
        ),
        then=_detail_url(enquiry),
    )
    return done or _detail(request, staff, enquiry, status=400, assign_form=form)


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


def _rights_refusal(refused: Exception) -> str:
    code = str(getattr(refused, "code", ""))
    if code in ("contact", "unverifiable", "email"):
        return _(
            "This enquiry has no email address the confirmation link could go to. Check who the person is "
            "yourself and register the request in the rights console."
        )
    if code == "past":
        return _("The enquiry came more than a year ago: register the request in the rights console with its date.")
    if code == "unpublished":
        return _("No privacy policy is published, so no rights request can be registered yet. Publish one.")
    if code == "capability":
        return _("Only staff who handle rights requests register them.")
    return _("The rights request could not be registered. Try again, or register it in the rights console.")


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def to_rights_request(request: HttpRequest, pk: int) -> HttpResponse:
    """ "This is a rights request": register it in the queue from the enquiry, in one click; a
    second click registers nothing more and goes to the request registered by the first."""
    staff, enquiry = get_enquiry_for_staff(request, pk)
    require_capability(request, Capability.HANDLE_REQUESTS)
    form = RightsRequestForm(request.POST)

    def said(done: surface.RightsRegistration) -> str:
        if not done.created:
            return _("This enquiry was registered as a rights request before: here it is. Nothing new was registered.")
        if done.awaiting_confirmation:
            return _(
                "The rights request is registered, received when the email arrived. A confirmation link has gone "
                "to the person's email address: the request is handled once they confirm it."
            )
        return _("The rights request is registered, received when the email arrived.")

    done = staff_step(
        request,
        lambda: to_rights.enquiry_to_rights_request(
            staff=staff, enquiry=enquiry, rights=list(form.cleaned_data["rights"])
        ),
        refused=(EnquiryRefused, surface.RightsRefused),
        explain=_rights_refusal,
        form=form,
        done=said,
        then=lambda registration: registration.url,
    )
    return done or _detail(request, staff, enquiry, status=400, rights_form=form)


@staff_view(Capability.WORK_ENQUIRIES)
@require_http_methods(["GET", "HEAD"])
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """Download one attachment of one of the enquiry's mails, decrypted, as a file (never shown
    inline); 404 for an attachment of another enquiry or one retention or erasure removed."""
    staff, enquiry = get_enquiry_for_staff(request, pk)
    found = attachments.attachment_for_download(staff=staff, enquiry=enquiry, attachment_pk=attachment_pk)
    return attachments.download_response(found)
