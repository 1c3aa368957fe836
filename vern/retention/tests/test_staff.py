"""The retention page: the plan, legal holds placed and released, a sweep on request."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.jobs.models import Job
from vern.lib.keys import email_index
from vern.retention.models import Hold

pytestmark = pytest.mark.django_db


def test_the_privacy_officer_sees_what_is_due_per_rule(client, published, personas):
    staff_login(client, personas.privacy_officer)
    html = client.get("/en/staff/retention/").content.decode()
    for name in ("Enquiries via form or email", "Emails we have sent", "Enquiries", "Outgoing emails"):
        assert name in html, name
    # models are named in words, not by their labels in the code (a form's option values aside)
    visible = re.sub(r"<[^>]+>", " ", html)
    assert "enquiries.Enquiry" not in visible and "mail.OutboxMessage" not in visible
    assert "24 months" in html and "90 days" in html
    assert Entry.objects.filter(action="retention.viewed").count() == 1


def test_a_hold_on_a_person_is_placed_by_their_address_and_released_with_an_audit_row(client, published, personas):
    staff_login(client, personas.privacy_officer)
    ends = (timezone.localdate() + dt.timedelta(days=60)).isoformat()
    response = client.post(
        "/en/staff/retention/holds/",
        {"email": "Kari@Example.no", "reason": "Tvist om faktura 2026-114", "ends_on": ends},
    )
    assert response.status_code == 303
    hold = Hold.objects.get()
    assert hold.subject_key == email_index("kari@example.no") and hold.reason == "Tvist om faktura 2026-114"
    html = client.get("/en/staff/retention/").content.decode()
    assert "Tvist om faktura 2026-114" in html and "kari" not in html.lower()  # the address is not kept
    assert client.post(f"/en/staff/retention/holds/{hold.pk}/end/").status_code == 303
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == personas.privacy_officer
    assert list(Entry.objects.filter(action__startswith="retention.hold").values_list("action", flat=True)) == [
        "retention.hold_placed",
        "retention.hold_released",
    ]


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"reason": "x", "ends_on": "2001-01-01", "email": "a@example.no"}, "A hold must end after today."),
        ({"reason": "x", "ends_on": "2999-01-01"}, "Name the person (email or phone) or the record to hold."),
        (
            {"reason": "x", "ends_on": "2999-01-01", "email": "a@example.no", "phone": "91234567"},
            "Give the email address or the phone number, not both",
        ),
        (
            {"reason": "x", "ends_on": "2999-01-01", "record_model": "enquiries.Enquiry", "record_pk": "4242"},
            "There is no such record.",
        ),
    ],
)
def test_a_hold_that_names_nothing_or_ends_in_the_past_is_refused(client, published, personas, fields, message):
    staff_login(client, personas.privacy_officer)
    response = client.post("/en/staff/retention/holds/", fields)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Hold.objects.exists()


def test_sweep_now_queues_the_sweep_for_the_worker_once(client, published, personas):
    staff_login(client, personas.privacy_officer)
    client.post("/staff/retention/sweep/")
    client.post("/staff/retention/sweep/")
    job = Job.objects.get(name="retention.sweep", status=Job.Status.QUEUED)
    assert job.payload == {"staff_id": personas.privacy_officer.pk}  # the sweep is recorded as theirs
    assert Entry.objects.get(action="retention.sweep_requested").actor_id == personas.privacy_officer.pk
