"""The request queue: open requests by due date (overdue first), those awaiting confirmation, closed ones."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.rights import selectors
from vern.rights.models import Right
from vern.rights.staff_views.pages import Deadline
from vern.rights.texts import reference_of

PAGE_SIZE = 50
VIEWS = ("open", "overdue", "awaiting", "closed")


def _right_names(rights: list[str]) -> list[str]:
    return [str(Right(right).label) if right in Right.values else right for right in rights]


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
