"""Registering a request that came by email, telephone, letter or in person (P16)."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vern.accounts.access import require_capability, staff_view
from vern.accounts.roles import Capability
from vern.accounts.steps import staff_step
from vern.rights.models import Request
from vern.rights.services.intake import request_register
from vern.rights.services.steps import RequestRefused
from vern.rights.staff_forms import RegisterForm, refusal_of
from vern.rights.staff_views.pages import detail_url


def _registered(created: Request) -> str:
    if created.status == Request.Status.AWAITING_CONFIRMATION:
        return _("The request is registered. A confirmation link has gone to the person's email address.")
    return _("The request is registered and confirmed.")


@staff_view(Capability.HANDLE_REQUESTS)
@require_http_methods(["GET", "HEAD", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    staff = require_capability(request, Capability.HANDLE_REQUESTS)
    if request.method != "POST":
        return render(
            request, "rights/staff/register.html", {"form": RegisterForm(initial={"nonce": secrets.token_urlsafe(24)})}
        )
    form = RegisterForm(request.POST)

    def register_it() -> Request:
        data = form.cleaned_data
        return request_register(
            staff=staff,
            rights=data["rights"],
            channel=data["channel"],
            received_at=data["received_at"],
            email=data["email"],
            phone=data["phone"],
            details=data["details"],
            language=data["language"],
            identity_checked=data["identity_checked"],
            marketing_objection=data["marketing_objection"],
            nonce=data["nonce"],
        )

    done = staff_step(
        request,
        register_it,
        refused=RequestRefused,
        explain=refusal_of,
        form=form,
        done=_registered,
        then=detail_url,
    )
    if done is not None:
        return done
    return render(request, "rights/staff/register.html", {"form": form}, status=400)
