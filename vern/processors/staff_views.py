"""The processor register in the console: privacy officers edit it, administrators read it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record
from vern.declaration.selectors import COUNTRIES, declaration_of, latest_version, published_declaration
from vern.lib.language import page_language
from vern.processors import selectors
from vern.processors.access import get_processor_for_staff
from vern.processors.forms import ChangeForm, ProcessorForm, ReviewForm
from vern.processors.models import Processor
from vern.processors.services import (
    ProcessorRefused,
    processor_create,
    processor_review,
    processor_update,
    register_seed,
    subprocessor_change_record,
)


def countries_text(codes: list[str]) -> str:
    language = page_language()
    return ", ".join(COUNTRIES.get(code, {}).get(language, code) for code in codes)


def _rows(items: Any) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [
        {
            "p": p,
            "countries": countries_text(p.countries),
            "outside": p.outside_eea(),
            "overdue": p.status != Processor.Status.ENDED and p.next_review < today,
        }
        for p in items
    ]


@staff_view(Capability.READ_PROCESSORS)
@require_http_methods(["GET", "HEAD"])
def register(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.READ_PROCESSORS)
    context = {
        "rows": _rows(selectors.processors().order_by("status", "name")),
        "changes": selectors.changes(20),
        "can_edit": staff.can(Capability.MANAGE_PROCESSORS),
        "can_seed": not selectors.in_use() and latest_version() is not None,
    }
    return render(request, "processors/staff_register.html", context)


@staff_view(Capability.MANAGE_PROCESSORS)
@require_POST
def seed(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_PROCESSORS)

    def start() -> int:
        current = latest_version()
        if current is None:
            raise ProcessorRefused("", _("No privacy policy is published yet."))
        return register_seed(
            declaration=declaration_of(current), policy_version=current.number, actor=Actor.staff(staff)
        )

    return staff_step(
        request,
        start,
        refused=ProcessorRefused,
        done=_("The register now holds the processors the published policy names."),
        then=reverse("processors_staff:register"),
    )


@staff_view(Capability.MANAGE_PROCESSORS)
@require_http_methods(["GET", "HEAD", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_PROCESSORS)
    declaration = published_declaration()
    if request.method != "POST":
        form = ProcessorForm(declaration=declaration, initial={"status": Processor.Status.DRAFT})
        return render(request, "processors/staff_processor_new.html", {"form": form})
    form = ProcessorForm(request.POST, request.FILES, declaration=declaration)
    done = staff_step(
        request,
        lambda: processor_create(actor=Actor.staff(staff), data=form.data_input(), agreement=form.agreement()),
        refused=ProcessorRefused,
        form=form,
        done=_("The processor is in the register."),
        then=lambda processor: reverse("processors_staff:processor", kwargs={"pk": processor.pk}),
    )
    if done is not None:
        return done
    return render(request, "processors/staff_processor_new.html", {"form": form}, status=400)


def _detail(
    request: HttpRequest,
    processor: Processor,
    *,
    form: Any = None,
    review: Any = None,
    change: Any = None,
    status: int = 200,
) -> HttpResponse:
    staff = require_capability(request, Capability.READ_PROCESSORS)
    declaration = published_declaration()
    language = page_language()
    purposes = {p.id: p.name.get(language) for p in declaration.purposes} if declaration else {}
    categories = {c.id: c.name.get(language) for c in declaration.data_categories} if declaration else {}
    context = {
        "p": processor,
        "row": _rows([processor])[0],
        "purposes": [purposes.get(i, i) for i in processor.purposes],
        "categories": [categories.get(i, i) for i in processor.data_categories],
        "subs": [
            {"s": s, "countries": countries_text(s.countries)}
            for s in processor.sub_processors.filter(removed_on__isnull=True)
        ],
        "changes": processor.changes.all(),
        "can_edit": staff.can(Capability.MANAGE_PROCESSORS),
        "form": form
        or ProcessorForm(declaration=declaration, editing=True, initial=ProcessorForm.initial_of(processor)),
        "review": review or ReviewForm(),
        "change": change or ChangeForm(),
    }
    return render(request, "processors/staff_processor.html", context, status=status)


@staff_view(Capability.READ_PROCESSORS)
@require_http_methods(["GET", "HEAD"])
def processor(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_processor_for_staff(request, pk))


@staff_view(Capability.MANAGE_PROCESSORS)
@require_POST
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_PROCESSORS)
    found = get_processor_for_staff(request, pk, write=True)
    form = ProcessorForm(
        request.POST,
        request.FILES,
        declaration=published_declaration(),
        editing=True,
        initial=ProcessorForm.initial_of(found),
    )
    done = staff_step(
        request,
        lambda: processor_update(
            actor=Actor.staff(staff), processor=found, data=form.data_input(), agreement=form.agreement()
        ),
        refused=ProcessorRefused,
        form=form,
        done=_("The processor is saved."),
        then=reverse("processors_staff:processor", kwargs={"pk": found.pk}),
    )
    return done if done is not None else _detail(request, found, form=form, status=400)


@staff_view(Capability.MANAGE_PROCESSORS)
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_PROCESSORS)
    found = get_processor_for_staff(request, pk, write=True)
    form = ReviewForm(request.POST)
    done = staff_step(
        request,
        lambda: processor_review(
            actor=Actor.staff(staff), processor=found, next_review=form.cleaned_data["next_review"]
        ),
        refused=ProcessorRefused,
        form=form,
        done=_("The review is recorded."),
        then=reverse("processors_staff:processor", kwargs={"pk": found.pk}),
    )
    return done if done is not None else _detail(request, found, review=form, status=400)


@staff_view(Capability.MANAGE_PROCESSORS)
@require_POST
def change(request: HttpRequest, pk: int) -> HttpResponse:
    staff = require_capability(request, Capability.MANAGE_PROCESSORS)
    found = get_processor_for_staff(request, pk, write=True)
    form = ChangeForm(request.POST)
    done = staff_step(
        request,
        lambda: subprocessor_change_record(
            actor=Actor.staff(staff),
            processor=found,
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            service=form.cleaned_data["service"],
            countries=form.cleaned_data["countries"],
            announced_on=form.cleaned_data["announced_on"],
            objection_deadline=form.cleaned_data["objection_deadline"],
        ),
        refused=ProcessorRefused,
        form=form,
        done=_("The change of sub-processors is recorded."),
        then=reverse("processors_staff:processor", kwargs={"pk": found.pk}),
    )
    return done if done is not None else _detail(request, found, change=form, status=400)


@staff_view(Capability.READ_PROCESSORS)
@require_http_methods(["GET", "HEAD"])
def agreement(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_processor_for_staff(request, pk)
    content = Processor.objects.filter(pk=found.pk).values_list("agreement_file", flat=True).first()
    if not content:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(content), content_type=found.agreement_type or "application/octet-stream")
    filename = "".join(c for c in found.agreement_filename if c.isalnum() or c in "._- ") or "agreement"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_view(Capability.READ_PROCESSORS)
@require_http_methods(["GET", "HEAD"])
def export(request: HttpRequest, format: str) -> HttpResponse:
    staff = require_capability(request, Capability.READ_PROCESSORS)
    rows = selectors.export_rows()
    audit_record(
        action=AuditEvent.PROCESSOR_REGISTER_EXPORTED,
        actor=Actor.staff(staff),
        object_type="processors.processor",
        data={"format": format},
    )
    if format == "csv":
        response = HttpResponse(selectors.export_csv(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(selectors.export_json(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="processors.{format}"'
    return response
