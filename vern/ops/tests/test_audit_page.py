"""The audit log page names each event in the reader's language, and can show one kind only."""

from __future__ import annotations

import pytest

from vern.accounts.testing import staff_login
from vern.audit.events import AuditEvent
from vern.audit.services import Actor, audit_record

pytestmark = pytest.mark.django_db


def test_each_row_says_what_happened_in_the_readers_language_with_the_stored_name_in_the_markup(client, personas):
    """The event's stored name (a code) stays in the page for scripts, in ``<data>``, but is not shown (issue 21)."""
    audit_record(action=AuditEvent.ENQUIRY_DELETED, actor=Actor.system(), object_type="enquiry", object_id=7)
    audit_record(action=AuditEvent.RIGHTS_RECEIVED, actor=Actor.visitor(), object_type="rights.request", object_id=3)
    staff_login(client, personas.privacy_officer)

    norwegian = client.get("/staff/audit/").content.decode()
    assert "Forespørsel mottatt" in norwegian and "Henvendelse slettet" in norwegian
    assert "Request received" not in norwegian
    english = client.get("/en/staff/audit/").content.decode()
    assert "Request received" in english and "Enquiry deleted" in english
    assert '<data value="rights.received">Request received</data>' in english  # what the log itself holds
    assert ">rights.received<" not in english
    assert '<option value="rights.received">Request received</option>' in english
    assert "Rights request #3" in english and "rights.request" not in english  # the object in words


def test_the_log_can_be_narrowed_to_one_kind_of_event(client, personas):
    for n in range(3):
        audit_record(action=AuditEvent.ENQUIRY_VIEWED, actor=Actor.system(), object_type="enquiry", object_id=n)
    audit_record(action=AuditEvent.RIGHTS_VIEWED, actor=Actor.system(), object_type="rights.request", object_id=9)
    staff_login(client, personas.privacy_officer)

    page = client.get("/en/staff/audit/?action=enquiry.viewed").content.decode()
    assert page.count('<data value="enquiry.viewed">') == 3
    assert '<data value="rights.viewed">' not in page
    assert '<option value="enquiry.viewed" selected>' in page
    everything = client.get("/en/staff/audit/?action=no.such_event").content.decode()  # unknown: no filter
    assert '<data value="rights.viewed">' in everything and everything.count('<data value="enquiry.viewed">') == 3


def test_the_details_of_a_row_are_words_and_dates_in_the_readers_language_not_codes(client, personas):
    """Issue 21 item 10: a role, a right, a yes/no and a moment in an entry's data read as words."""
    audit_record(
        action=AuditEvent.RIGHTS_RECEIVED,
        actor=Actor.system(),
        object_type="rights.request",
        object_id=3,
        data={"rights": ["erasure", "access"], "role": "privacy_officer", "ends_at": "2027-03-06T12:00:00+00:00"},
    )
    audit_record(action=AuditEvent.ENQUIRY_DELETED, actor=Actor.system(), object_type="enquiry", data={"done": True})
    staff_login(client, personas.privacy_officer)

    norwegian = client.get("/staff/audit/").content.decode()
    # By key, the same on every database: ends_at, rights, role.
    assert "slutter: 06.03.2027 13:00; rettigheter: Sletting, Innsyn; rolle: Personvernansvarlig" in norwegian
    assert "utført: ja" in norwegian
    assert "privacy_officer" not in norwegian and "ends_at" not in norwegian and "2027-03-06" not in norwegian
    english = client.get("/en/staff/audit/").content.decode()
    assert "; rights: Erasure, Access; role: Privacy officer" in english and "ends: " in english
