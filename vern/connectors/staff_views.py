"""The connectors page: each of the company's other systems, whether it works, and a check now."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from vern.accounts.access import staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.connectors import selectors, services
from vern.connectors.config import NotConfigured, declared


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD"])
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "connectors/staff_overview.html", {"states": selectors.states()})


def _check_all() -> int:
    failing = 0
    for connector in declared():
        try:
            if services.connector_check(connector):
                failing += 1
        except NotConfigured:
            continue
    return failing


@staff_view(Capability.HANDLE_REQUESTS)
@require_POST
def check_now(request: HttpRequest) -> HttpResponse:
    return staff_step(
        request,
        _check_all,
        done=lambda failing: (
            _("Checked: %(count)s failing.") % {"count": failing}
            if failing
            else _("Checked: every configured connector works.")
        ),
        then=reverse("connectors_staff:overview"),
    )
