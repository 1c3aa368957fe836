"""The breach register in the console: privacy officers keep it, administrators read it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.breaches import export, selectors, services
from vern.breaches.forms import BreachForm, DecisionForm, NoticeForm, ReportForm
from vern.breaches.messages import explain
from vern.breaches.models import Breach
from vern.lib.language import page_language

READ = Capability.READ_SECURITY_REGISTERS
KEEP = Capability.KEEP_SECURITY_REGISTERS


def get_breach_for_staff(request: HttpRequest, pk: int, *, write: bool = False) -> Breach:
    require_capability(request, KEEP if write else READ)
    return get_object_or_404(Breach, pk=pk)


def _list(request: HttpRequest, form: BreachForm, status: int = 200) -> HttpResponse:
    staff = require_capability(request, READ)
    now = timezone.now()
    rows = [(breach, selectors.clock_of(breach, now)) for breach in selectors.breaches()]
    context = {"rows": rows, "form": form, "can_keep": staff.can(KEEP)}
    return render(request, "breaches/breach_list.html", context, status=status)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breach_list(request: HttpRequest) -> HttpResponse:
    return _list(request, BreachForm(language=page_language()))


@staff_view(KEEP)
@require_POST
def breach_new(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, KEEP)
    form = BreachForm(request.POST, language=page_language())
    done = staff_step(
        request,
        lambda: services.breach_open(staff=staff, data=form.data_for_service()),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The breach is recorded, and every privacy officer and administrator is told. The 72-hour clock runs."),
        then=lambda breach: reverse("breaches_staff:detail", kwargs={"pk": breach.pk}),
    )
    return done if done is not None else _list(request, form, status=400)


def _detail(
    request: HttpRequest,
    breach: Breach,
    *,
    form: BreachForm | None = None,
    decision: DecisionForm | None = None,
    report: ReportForm | None = None,
    notice: NoticeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    staff = require_capability(request, READ)
    language = page_language()
    record = export.breach_record(breach, language)
    # Times as the console writes them (the export keeps ISO 8601).
    times = {
        "occurred_at": breach.occurred_at,
        "aware_at": breach.aware_at,
        "people_informed_when": breach.notice_sent_at,
    }
    shown = {key: date_format(timezone.localtime(when), "DATETIME_FORMAT") for key, when in times.items() if when}
    context = {
        "breach": breach,
        "clock": selectors.clock_of(breach),
        "fields": [
            (label, shown.get(key, export.text_of(record[key])))
            for key, label in export.FORM_FIELDS
            if key not in ("notification_type", "submitted_at")
        ],
        "reports": list(breach.reports.select_related("created_by")),
        # A refused edit of a closed breach shows its form again, with why.
        "can_keep": staff.can(KEEP) and (breach.is_open or form is not None),
        "form": form or BreachForm(initial=BreachForm.initial_of(breach), language=language),
        "decision": decision
        or DecisionForm(
            initial={
                "authority": breach.authority_decision if not breach.undecided else None,
                "people": breach.people_decision if breach.people_decision != Breach.Decision.UNDECIDED else None,
                "reasons": breach.decision_reasons,
                "delay_reason": breach.delay_reason,
            }
        ),
        "report": report or ReportForm(initial={"submitted_at": timezone.localtime().replace(second=0, microsecond=0)}),
        "notice": notice or NoticeForm(),
        "notices": {lang: export.notice_context(breach, lang) for lang in ("nb", "en")},
    }
    return render(request, "breaches/breach_detail.html", context, status=status)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_breach_for_staff(request, pk))


def _then(breach: Breach) -> str:
    return reverse("breaches_staff:detail", kwargs={"pk": breach.pk})


@staff_view(KEEP)
@require_POST
def breach_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    breach = get_breach_for_staff(request, pk, write=True)
    form = BreachForm(request.POST, language=page_language())
    if not breach.is_open:
        form.is_valid()
        form.add_error(None, explain(services.Refused("closed")))
        return _detail(request, breach, form=form, status=400)
    done = staff_step(
        request,
        lambda: services.breach_update(staff=staff, breach=breach, data=form.data_for_service()),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The breach is updated."),
        then=_then,
    )
    return done if done is not None else _detail(request, breach, form=form, status=400)


@staff_view(KEEP)
@require_POST
def breach_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    breach = get_breach_for_staff(request, pk, write=True)
    form = DecisionForm(request.POST)
    done = staff_step(
        request,
        lambda: services.breach_decide(
            staff=staff,
            breach=breach,
            authority=form.cleaned_data["authority"],
            people=form.cleaned_data["people"],
            reasons=form.cleaned_data["reasons"],
            delay_reason=form.cleaned_data["delay_reason"],
        ),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The decision and its reasons are recorded."),
        then=_then,
    )
    return done if done is not None else _detail(request, breach, decision=form, status=400)


@staff_view(KEEP)
@require_POST
def breach_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    breach = get_breach_for_staff(request, pk, write=True)
    form = ReportForm(request.POST)
    done = staff_step(
        request,
        lambda: services.breach_report(
            staff=staff,
            breach=breach,
            stage=form.cleaned_data["stage"],
            submitted_at=form.cleaned_data["submitted_at"],
            reference=form.cleaned_data["reference"],
            note=form.cleaned_data["note"],
        ),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The report is recorded, with what it said."),
        then=lambda report: _then(report.breach),
    )
    return done if done is not None else _detail(request, breach, report=form, status=400)


@staff_view(KEEP, reauth=True)
@require_POST
def breach_notice_view(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    breach = get_breach_for_staff(request, pk, write=True)
    form = NoticeForm(request.POST)
    done = staff_step(
        request,
        lambda: services.breach_notice_send(staff=staff, breach=breach, addresses=form.cleaned_data["addresses"]),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=lambda result: (
            _("The notice is in the outbox for %(sent)s people; %(missing)s addresses were not found.")
            % {"sent": result[0], "missing": result[1]}
        ),
        then=lambda result: _then(breach),
    )
    return done if done is not None else _detail(request, breach, notice=form, status=400)


@staff_view(KEEP)
@require_POST
def breach_close_view(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    breach = get_breach_for_staff(request, pk, write=True)
    return staff_step(
        request,
        lambda: services.breach_close(staff=staff, breach=breach),
        refused=services.Refused,
        explain=explain,
        done=_("The breach is closed."),
        then=_then(breach),
    )


def _download(staff: User, body: str, *, kind: str, name: str, what: str, pk: int | None = None) -> HttpResponse:
    audit_record(
        action=AuditEvent.REGISTER_EXPORTED,
        actor=Actor.staff(staff),
        object_type=what,
        object_id=pk or "",
        data={"format": kind},
    )
    content_type = "text/csv; charset=utf-8" if kind == "csv" else "application/json"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breach_form_csv(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, READ)
    breach = get_breach_for_staff(request, pk)
    body = export.breach_csv(breach, page_language())
    return _download(staff, body, kind="csv", name=f"breach-{breach.reference}", what="breaches.breach", pk=breach.pk)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breach_form_json(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, READ)
    breach = get_breach_for_staff(request, pk)
    body = export.as_json(export.breach_record(breach, page_language()))
    return _download(staff, body, kind="json", name=f"breach-{breach.reference}", what="breaches.breach", pk=breach.pk)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breaches_export_csv(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, READ)
    return _download(staff, export.breaches_csv(page_language()), kind="csv", name="breaches", what="breaches.breach")


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def breaches_export_json(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, READ)
    body = export.as_json(export.breaches_record(page_language()))
    return _download(staff, body, kind="json", name="breaches", what="breaches.breach")
