"""While a rights request is open, or processing is restricted, the retention sweep keeps the person's data
(LAW.md §3.6, R17): the answer must be complete, and a restriction keeps data stored."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from vern.audit.services import Actor
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.mail.models import OutboxMessage
from vern.retention import engine
from vern.retention.services import retention_sweep
from vern.rights.models import Download, Request
from vern.rights.services import intake, workflow
from vern.rights.services.downloads import download_open

pytestmark = pytest.mark.django_db
EMAIL = "kari.nordmann@example.no"


def old_enquiry(staff, email: str) -> Enquiry:
    with time_machine.travel(timezone.now() - dt.timedelta(days=800), tick=False):
        return enquiry_register(
            staff=staff,
            kind="contact",
            channel="email",
            received_at=timezone.now(),
            intake=Intake(name="Kari Nordmann", email=email, phone="", organisation="Bergen kommune"),
            language="nb",
            acknowledge=False,
        )


def request_for(staff, rights: list[str]) -> Request:
    return intake.request_register(
        staff=staff, rights=rights, channel="email", received_at=timezone.now(), email=EMAIL, identity_checked=True
    )


def test_an_open_access_request_keeps_the_persons_due_enquiry_until_it_is_answered(published, personas):
    pia = personas.privacy_officer
    kept = old_enquiry(pia, EMAIL)
    gone = old_enquiry(pia, "ola@example.no")
    request = request_for(pia, ["access", "rectification"])
    [row] = [
        plan
        for plan in engine.plan(published_declaration(), timezone.now())
        if plan.compiled.label == "enquiries.Enquiry"
    ]
    assert (row.due, row.held) == (1, 1)
    retention_sweep(trigger="cli", actor=Actor.cli())
    assert Enquiry.objects.filter(pk=kept.pk).exists() and not Enquiry.objects.filter(pk=gone.pk).exists()
    workflow.request_answer(request=request, staff=pia)
    Download.objects.filter(request=request).update(expires_at=timezone.now() - dt.timedelta(hours=1))  # expired
    retention_sweep(trigger="cli", actor=Actor.cli())
    assert not Enquiry.objects.filter(pk=kept.pk).exists()


def test_a_restriction_keeps_the_data_after_its_request_is_answered(published, personas):
    pia = personas.privacy_officer
    kept = old_enquiry(pia, EMAIL)
    request = request_for(pia, ["restriction"])
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED  # the restriction started at once, which answered it
    retention_sweep(trigger="cli", actor=Actor.cli())
    assert Enquiry.objects.filter(pk=kept.pk).exists()


def test_an_access_request_answered_by_itself_keeps_the_data_until_its_copy_is_fetched(published, personas):
    """The copy is built when its link is opened: the request is answered once the link is mailed,
    but what the copy covers is held until the link is used or has expired."""
    pia = personas.privacy_officer
    kept = old_enquiry(pia, EMAIL)
    request = request_for(pia, ["access"])
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED
    retention_sweep(trigger="cli", actor=Actor.cli())
    assert Enquiry.objects.filter(pk=kept.pk).exists()
    mail = OutboxMessage.objects.get(kind="rights_download_ready")
    download_open(mail.body_text.split("/privacy/requests/download/", 1)[1].split("/", 1)[0])
    retention_sweep(trigger="cli", actor=Actor.cli())
    assert not Enquiry.objects.filter(pk=kept.pk).exists()


def published_declaration():
    from vern.declaration.selectors import published_declaration as current

    return current()
