"""A visitor's whole way through their rights, over HTTP and a real SMTP server (issue 7, done-when).

Kari sends an enquiry and accepts cookies. She asks for a copy of her data, confirms
by the link in her mailbox, and downloads a package with her enquiry, her consent
records and the §1c information. Then she asks for erasure; a privacy officer carries
it out and answers. Afterwards her address and number are in no table, no outbox row
and no mail left in the database.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from urllib.parse import urlsplit

import pytest
from django.test import Client

from vern.accounts.testing import staff_login
from vern.consent.models import ConsentEvent
from vern.enquiries.tests.helpers import send
from vern.jobs.worker import Worker
from vern.mail.services import outbox_deliver_due
from vern.rights.models import Request
from vern.rights.tests.traces import spellings, traces
from vern.testing import SMTPServer

pytestmark = pytest.mark.django_db(transaction=False)

EMAIL = "kari.nordmann@example.no"
PHONE = "912 34 567"
MESSAGE = "Hva koster det for et kommunestyre med 67 medlemmer?"


def delivered_link(smtp: SMTPServer, name: str) -> str:
    """The path of the newest link of this kind in a mail that reached Kari's mailbox."""
    outbox_deliver_due()
    for message in reversed(smtp.messages):
        if EMAIL not in message["To"]:
            continue
        body = message.get_body(preferencelist=("plain",)).get_content()
        found = re.search(r"https?://\S+/" + name + r"/[A-Za-z0-9_-]+/", body)
        if found:
            return urlsplit(found.group(0)).path
    raise AssertionError(f"no {name} link reached {EMAIL}")


def confirm(visitor: Client, smtp: SMTPServer) -> Request:
    path = delivered_link(smtp, "confirm")
    assert visitor.post(path).status_code == 200
    return Request.objects.order_by("-pk")[0]


def test_P15_P23_a_visitor_gets_a_copy_of_everything_then_has_it_erased_everywhere(published, personas, smtp_server):
    visitor = Client()
    # An enquiry through the contact form, and consent to every cookie through the banner's API.
    enquiry = send(
        visitor,
        "contact",
        {"name": "Kari Nordmann", "email": EMAIL, "phone": PHONE, "organisation": "Bergen kommune", "message": MESSAGE},
    )
    assert enquiry.status_code in (200, 303)
    chosen = visitor.post(
        "/api/consent/",
        json.dumps({"choice": "accept_all", "categories": [], "revision": published.consent_revision, "path": "/"}),
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert chosen.status_code == 200
    consent_id = ConsentEvent.objects.get().consent_id

    # Access: ask, confirm by the mailed link, download the package by the next mailed link.
    asked = visitor.post("/privacy/requests/", {"rights": ["access"], "email": EMAIL})
    assert asked.status_code == 303
    access = confirm(visitor, smtp_server)
    # The copy went out by itself, so the request is answered at once (the stepper shows it).
    assert access.status == Request.Status.ANSWERED and access.consent_id == consent_id
    download = delivered_link(smtp_server, "download")
    package = visitor.post(download)
    assert package.status_code == 200 and package["Content-Type"] == "application/zip"
    assert visitor.post(download).status_code == 410  # the link works once
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        data = json.loads(archive.read("data.json"))
        page = archive.read("index.html").decode()
    text = json.dumps(data, ensure_ascii=False)
    assert MESSAGE in text and MESSAGE in page
    assert consent_id in text and "accept_all" in text
    for key in ("purposes", "recipients", "retention", "source", "rights", "complaint", "automated_decisions"):
        assert data[key], f"the package lacks the §1c item {key}"
    assert "Datatilsynet" in text

    # Erasure: ask, confirm, and a privacy officer carries it out and answers.
    visitor.post("/privacy/requests/", {"rights": ["erasure"], "email": EMAIL, "phone": PHONE})
    erasure = confirm(visitor, smtp_server)
    officer = Client()
    staff_login(officer, personas.privacy_officer)
    officer.post(f"/staff/requests/{erasure.pk}/phone/")
    preview = officer.get(f"/staff/requests/{erasure.pk}/erasure/")
    assert preview.status_code == 200
    carried = officer.post(f"/staff/requests/{erasure.pk}/erasure/", {"confirm": "on"})
    assert carried.status_code in (200, 303)
    Worker(burst=True, manage_connections=False).run()  # the worker carries the erasure out
    answered = officer.post(f"/staff/requests/{erasure.pk}/answer/", {"message": ""})
    assert answered.status_code in (200, 303)
    erasure.refresh_from_db()
    assert erasure.status == Request.Status.ANSWERED and "erasure" in erasure.done
    outbox_deliver_due()
    assert any("R-" in str(message["Subject"]) for message in smtp_server.messages if EMAIL in message["To"])

    # The access request was answered by itself, with the right to complain; the erasure then forgot its address.
    access.refresh_from_db()
    assert access.status == Request.Status.ANSWERED and access.email == ""
    answers = [m for m in smtp_server.messages if EMAIL in m["To"] and f"R-{access.pk}" in str(m["Subject"])]
    assert answers and "Datatilsynet" in answers[-1].get_body(("plain",)).get_content()

    assert traces(spellings(email=EMAIL, phone=PHONE)) == []
