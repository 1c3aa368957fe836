"""A new single-use link to the person's access or portability package, sent from the console."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vern.accounts.access import staff_view
from vern.accounts.models import User
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.audit.services import Actor
from vern.rights.access import get_request_for_staff
from vern.rights.models import Download, Request
from vern.rights.services.downloads import download_offer
from vern.rights.services.steps import WHILE_OPEN, RequestRefused
from vern.rights.staff_forms import refusal_of, refusal_text
from vern.rights.staff_views.pages import PACKAGE_KINDS, detail_url


def _offer(subject: Request, kind: str, staff: User) -> Download:
    with transaction.atomic():
        return download_offer(subject, kind=kind, actor=Actor.staff(staff), staff=staff)


@staff_view(Capability.HANDLE_REQUESTS, reauth=True)
@require_POST
def package(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Send the person a new single-use link to their access or portability package."""
    staff, subject = get_request_for_staff(request, pk)
    if kind not in PACKAGE_KINDS:
        raise Http404
    if kind not in subject.rights:
        messages.error(request, refusal_text("right"))
    elif subject.status not in (*WHILE_OPEN, Request.Status.ANSWERED):  # answered by itself: a link may expire
        messages.error(request, refusal_text("closed"))
    elif not subject.email:
        messages.error(request, refusal_text("no_address"))
    else:
        return staff_step(
            request,
            lambda: _offer(subject, kind, staff),
            refused=RequestRefused,
            explain=refusal_of,
            done=_("A new download link has been sent to the person's email address."),
            then=detail_url(subject),
        )
    return HttpResponseRedirect(detail_url(subject), status=303)
