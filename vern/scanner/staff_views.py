"""The scans in the console: the last result per site, each scan's findings and pictures, a scan now."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import require_capability, staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.declaration.durations import Duration
from vern.jobs.services import job_enqueue_once
from vern.lib.language import page_language
from vern.scanner.crawl import NOT_INSTALLED, PARTIAL
from vern.scanner.models import ScanRun, ScanShot
from vern.scanner.report import TITLES
from vern.scanner.services import declared_sites

PASS_NAMES = {
    "none": gettext_lazy("Before a choice"),
    "reject": gettext_lazy("After rejecting all"),
    "accept": gettext_lazy("After accepting all"),
    "withdraw": gettext_lazy("After withdrawing"),
}
MEASURES = {
    "width": gettext_lazy("width"),
    "height": gettext_lazy("height"),
    "weight": gettext_lazy("font weight"),
    "color": gettext_lazy("text colour"),
    "background": gettext_lazy("background"),
    "font_size": gettext_lazy("font size"),
}


@staff_view(Capability.READ_CONSENT)
@require_http_methods(["GET", "HEAD"])
def overview(request: HttpRequest) -> HttpResponse:
    sites = [(site, ScanRun.objects.filter(url=site).first()) for site in declared_sites()]
    runs = ScanRun.objects.order_by("-started_at")[:30]
    return render(request, "scanner/staff_overview.html", {"sites": sites, "runs": runs})


@staff_view(Capability.READ_CONSENT)
@require_http_methods(["GET", "HEAD"])
def run(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(ScanRun, pk=pk)
    passes = []
    shots = set(found.shots.values_list("pass_name", flat=True))
    for name, label in _pass_labels().items():
        items = [_worded(finding) for finding in found.findings if finding["pass_name"] == name]
        passes.append({"name": name, "label": label, "findings": items, "shot": name in shots})
    problems = [_problem_worded(problem) for problem in found.problems]
    return render(request, "scanner/staff_run.html", {"run": found, "passes": passes, "problems": problems})


def _problem_worded(problem: str) -> str:
    """What went wrong in a scan, in the reader's language where vern wrote it (the browser's own
    words stay as the browser gave them)."""
    stopped = PARTIAL.fullmatch(problem)
    if stopped:
        return _("%(pass)s: this pass stopped (%(reason)s). The report is partial.") % {
            "pass": PASS_NAMES[stopped[1]],
            "reason": stopped[2],
        }
    if problem == NOT_INSTALLED:
        return _("The scanner is not installed on this server (Playwright is missing: pip install 'vern[scan]').")
    return problem


def _worded(finding: dict[str, Any]) -> dict[str, Any]:
    """A finding with what the console says of it in the reader's language."""
    facts = finding.get("facts") or {}
    worded = {**finding, "title": _(TITLES.get(finding["rule"], finding["rule"]))}
    if "declared" in facts:
        worded["declared"] = Duration.parse(facts["declared"], allow_session=True).text(page_language())
        worded["lives_days"] = facts.get("lives_days", "")
    if "measures" in facts:
        worded["measures"] = ", ".join(str(MEASURES.get(m, m)) for m in facts["measures"].split())
    return worded


def _pass_labels() -> dict[str, str]:
    return {name: str(label) for name, label in PASS_NAMES.items()}


@staff_view(Capability.READ_CONSENT)
@require_http_methods(["GET", "HEAD"])
def shot(request: HttpRequest, pk: int, pass_name: str) -> HttpResponse:
    picture = get_object_or_404(ScanShot, run_id=pk, pass_name=pass_name)
    response = HttpResponse(bytes(picture.image), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_view(Capability.READ_CONSENT)
@require_POST
def scan_now(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.READ_CONSENT)
    return staff_step(
        request,
        lambda: _queue(staff),
        done=_("The scan is queued; the worker runs it within a few minutes."),
        then=reverse("scanner_staff:overview"),
    )


def _queue(staff: User) -> None:
    with transaction.atomic():
        for site in declared_sites():
            job_enqueue_once(
                "scanner.scan_now", key=f"scanner.scan_now:{site}", payload={"url": site, "staff_id": staff.pk}
            )
