"""Rectification on the console: choose one of the person's records, then a field and the correct value."""

from __future__ import annotations

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from vern.accounts.access import staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.registry import surface
from vern.registry.entries import Entry, entries
from vern.registry.surface import ExternalRows, ExternalStep
from vern.rights import selectors
from vern.rights.access import get_request_for_staff
from vern.rights.models import Request, Right
from vern.rights.services.rectification import rectifiable_fields, rectify_elsewhere
from vern.rights.services.rectification import rectify as rectify_field
from vern.rights.services.steps import WHILE_OPEN, RequestRefused
from vern.rights.staff_forms import RectifyForm, refusal_of, refusal_text
from vern.rights.staff_views.pages import confirm_page, detail_url, model_title

RECORDS_SHOWN = 20


def _rectify_entries() -> dict[str, Entry]:
    """Models with a field that may be corrected (``rectifiable_fields`` says which)."""
    return {entry.label: entry for entry in entries() if rectifiable_fields(entry)}


def _field_name(entry: Entry, name: str) -> str:
    return str(getattr(entry.model._meta.get_field(name), "verbose_name", name)).capitalize()


def _corrected(recipients: list[str]) -> str:
    if recipients:
        return _("The field is corrected. Tell these recipients of the correction (Art. 19): %(names)s.") % {
            "names": ", ".join(recipients)
        }
    return _("The field is corrected. No recipient has to be told of it.")


def _elsewhere_done(step: ExternalStep) -> str:
    if step.action == "rectified":
        return ngettext("%(count)s row corrected in %(name)s.", "%(count)s rows corrected in %(name)s.", step.count) % {
            "count": step.count,
            "name": step.title,
        }
    if step.action == "queued":
        return _("The correction is sent to %(name)s; it is shown on the request when they confirm it.") % {
            "name": step.title
        }
    if step.note == "already":
        return _("%(name)s already has a correction task for this request.") % {"name": step.title}
    return _("A correction task is mailed to %(name)s.") % {"name": step.title}


def _rectify_elsewhere(
    request: HttpRequest, staff: User, subject: Request, offered: dict[str, ExternalRows]
) -> HttpResponse:
    """POST of a correction in another system: the declared fields of one source, or a processor's task."""
    source = request.POST.get("source", "")
    rows = offered.get(source)
    if rows is None:
        messages.error(request, refusal_text("not_found"))
        return HttpResponseRedirect(request.path, status=303)
    changes = {name: request.POST.get(f"field_{name}", "") for name in rows.rectifiable}
    expected_text = request.POST.get("expected", "0")
    if not expected_text.isascii() or not expected_text.isdigit():
        messages.error(request, refusal_text("value"))
        return HttpResponseRedirect(f"{request.path}?{urlencode({'source': source})}", status=303)
    expected = int(expected_text)
    try:
        step = rectify_elsewhere(
            request=subject,
            staff=staff,
            source=source,
            changes=changes,
            expected=expected,
            note=request.POST.get("note", ""),
        )
    except RequestRefused as refused:
        messages.error(request, refusal_of(refused))
        return HttpResponseRedirect(f"{request.path}?{urlencode({'source': source})}", status=303)
    if step.action == "failed":
        messages.error(
            request,
            _("The correction in %(name)s failed: %(error)s")
            % {"name": step.title, "error": (step.note.splitlines() or [""])[0]},
        )
        return HttpResponseRedirect(detail_url(subject), status=303)
    messages.success(request, _elsewhere_done(step))
    return HttpResponseRedirect(detail_url(subject), status=303)


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def rectify(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose one of the person's records, then a field and the correct value (Art. 16); the recipients
    to tell (Art. 19) are shown after. The person's rows in other systems are offered too, with the
    fields their declaration lets be corrected."""
    staff, subject = get_request_for_staff(request, pk)
    allowed = subject.status in WHILE_OPEN and Right.RECTIFICATION in subject.rights
    elsewhere = (
        {rows.source: rows for rows in surface.external_correctables(selectors.person_of(subject))} if allowed else {}
    )
    if request.method == "POST" and "source" in request.POST and allowed:
        return _rectify_elsewhere(request, staff, subject, elsewhere)
    source = request.GET.get("source", "")
    chosen_elsewhere = elsewhere.get(source) if source else None
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
        choices = [(name, _field_name(entry, name)) for name in rectifiable_fields(entry)]
        form = RectifyForm(request.POST if request.method == "POST" else None, fields=choices)
        if request.method == "POST":
            status = 400
            chosen_form, model_label, record_pk = form, entry.label, record.pk
            done = staff_step(
                request,
                lambda: rectify_field(
                    request=subject,
                    staff=staff,
                    model_label=model_label,
                    pk=record_pk,
                    field=chosen_form.cleaned_data["field"],
                    value=chosen_form.cleaned_data["value"],
                ),
                refused=RequestRefused,
                explain=refusal_of,
                form=form,
                done=_corrected,
                then=detail_url(subject),
            )
            if done is not None:
                return done
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
                "name": model_title(label),
                "count": item.count,
                "records": [
                    {
                        "pk": row.pk,
                        "text": str(row),
                        "first": str(getattr(row, rectifiable_fields(item.entry)[0], "") or ""),
                        "at": getattr(row, item.entry.clock, None),
                    }
                    for row in item.records[:RECORDS_SHOWN]
                ],
            }
        )
    values = (
        [(_field_name(entry, name), getattr(record, name)) for name in rectifiable_fields(entry)]
        if record is not None and entry is not None
        else []
    )
    return confirm_page(
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
        record_name=model_title(entry.label) if entry is not None else "",
        values=values,
        form=form,
        elsewhere=list(elsewhere.values()),
        chosen_elsewhere=chosen_elsewhere,
        chosen_rows=[[row.get(name) for name in chosen_elsewhere.fields] for row in chosen_elsewhere.rows]
        if chosen_elsewhere is not None
        else [],
        chosen_values=[
            (name, chosen_elsewhere.rows[0].get(name) if len(chosen_elsewhere.rows) == 1 else "")
            for name in chosen_elsewhere.rectifiable
        ]
        if chosen_elsewhere is not None
        else [],
    )
