"""The risk register, its yearly review and the DPIA screenings in the console."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.breaches import dpia, export, selectors, services
from vern.breaches.forms import RegisterReviewForm, RiskForm, ScreeningForm
from vern.breaches.messages import explain
from vern.breaches.models import Risk
from vern.breaches.staff_views import _download
from vern.declaration.selectors import localise, published_declaration
from vern.lib.language import page_language

READ = Capability.READ_SECURITY_REGISTERS
KEEP = Capability.KEEP_SECURITY_REGISTERS


def get_risk_for_staff(request: HttpRequest, pk: int, *, write: bool = False) -> Risk:
    require_capability(request, KEEP if write else READ)
    return get_object_or_404(Risk.objects.select_related("owner"), pk=pk)


def _list(
    request: HttpRequest, form: RiskForm | None = None, review: RegisterReviewForm | None = None, status: int = 200
) -> HttpResponse:
    staff = require_capability(request, READ)
    language = page_language()
    names = export.purpose_names(language)
    today = timezone.localdate()
    rows = [
        {
            "risk": risk,
            "what": risk.asset or names.get(risk.purpose, risk.purpose),
            "level": selectors.level(risk.score),
            "residual_level": selectors.level(risk.residual_score),
            "due": risk.next_review <= today,
        }
        for risk in selectors.risks()
    ]
    context = {
        "rows": rows,
        "last_review": selectors.last_review(),
        "form": form or RiskForm(language=language, initial={"owner": staff.pk}),
        "review": review or RegisterReviewForm(),
        "can_keep": staff.can(KEEP),
    }
    return render(request, "breaches/risk_list.html", context, status=status)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def risk_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


@staff_view(KEEP)
@require_POST
def risk_new(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, KEEP)
    form = RiskForm(request.POST, language=page_language())
    done = staff_step(
        request,
        lambda: services.risk_add(staff=staff, data=form.cleaned_data),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The risk is in the register."),
        then=lambda risk: reverse("risks_staff:detail", kwargs={"pk": risk.pk}),
    )
    return done if done is not None else _list(request, form=form, status=400)


@staff_view(KEEP)
@require_POST
def register_review_view(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, KEEP)
    form = RegisterReviewForm(request.POST)
    done = staff_step(
        request,
        lambda: services.register_review(staff=staff, note=form.cleaned_data["note"]),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The review of the whole register is recorded."),
        then=reverse("risks_staff:list"),
    )
    return done if done is not None else _list(request, review=form, status=400)


def _detail(request: HttpRequest, risk: Risk, form: RiskForm | None = None, status: int = 200) -> HttpResponse:
    staff = require_capability(request, READ)
    language = page_language()
    initial: dict[str, Any] = {name: getattr(risk, name) for name in services.RISK_FIELDS}
    context = {
        "risk": risk,
        "what": risk.asset or export.purpose_names(language).get(risk.purpose, risk.purpose),
        "level": selectors.level(risk.score),
        "residual_level": selectors.level(risk.residual_score),
        "form": form or RiskForm(language=language, new=False, initial=initial),
        "can_keep": staff.can(KEEP),
    }
    return render(request, "breaches/risk_detail.html", context, status=status)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def risk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_risk_for_staff(request, pk))


@staff_view(KEEP)
@require_POST
def risk_edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, KEEP)
    risk = get_risk_for_staff(request, pk, write=True)
    form = RiskForm(request.POST, language=page_language(), new=False)
    done = staff_step(
        request,
        lambda: services.risk_update(
            staff=staff, risk=risk, data=form.cleaned_data, reviewed=form.cleaned_data.get("reviewed", False)
        ),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The risk is updated."),
        then=lambda saved: reverse("risks_staff:detail", kwargs={"pk": saved.pk}),
    )
    return done if done is not None else _detail(request, risk, form=form, status=400)


def _dpia(request: HttpRequest, failed: ScreeningForm | None = None, status: int = 200) -> HttpResponse:
    staff = require_capability(request, READ)
    language = page_language()
    declaration = published_declaration()
    latest = selectors.latest_screenings()
    purposes = []
    for purpose in declaration.purposes if declaration else []:
        screening = latest.get(purpose.id)
        if failed is not None and failed.prefix == purpose.id:
            form = failed
        else:
            initial = (
                {"list_items": screening.list_items, "criteria": screening.criteria, "reasons": screening.reasons}
                if screening
                else {}
            )
            form = ScreeningForm(initial={"purpose": purpose.id, **initial}, prefix=purpose.id)
        purposes.append(
            {
                "id": purpose.id,
                "name": str(localise(purpose.name, language)),
                "screening": screening,
                "list_items": [dpia.DATATILSYNET[i] for i in screening.list_items] if screening else [],
                "criteria": [dpia.EDPB[c] for c in screening.criteria] if screening else [],
                "form": form,
            }
        )
    context = {"purposes": purposes, "can_keep": staff.can(KEEP), "threshold": dpia.EDPB_THRESHOLD}
    return render(request, "breaches/dpia.html", context, status=status)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def dpia_page(request: HttpRequest) -> HttpResponse:
    return _dpia(request)


@staff_view(KEEP)
@require_POST
def screen(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, KEEP)
    prefix = request.POST.get("prefix", "")
    form = ScreeningForm(request.POST, prefix=prefix or None)
    declaration = published_declaration()
    purposes = {p.id for p in declaration.purposes} if declaration else set()
    done = staff_step(
        request,
        lambda: services.screening_record(
            staff=staff,
            purpose=form.cleaned_data["purpose"],
            purposes=purposes,
            list_items=form.cleaned_data["list_items"],
            criteria=form.cleaned_data["criteria"],
            reasons=form.cleaned_data["reasons"],
        ),
        refused=services.Refused,
        explain=explain,
        form=form,
        done=_("The screening is recorded."),
        then=reverse("risks_staff:dpia"),
    )
    return done if done is not None else _dpia(request, failed=form, status=400)


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def risks_export_csv(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, READ)
    return _download(staff, export.risks_csv(page_language()), kind="csv", name="risks", what="breaches.risk")


@staff_view(READ)
@require_http_methods(["GET", "HEAD"])
def risks_export_json(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, READ)
    return _download(
        staff, export.as_json(export.risks_record(page_language())), kind="json", name="risks", what="risks"
    )
