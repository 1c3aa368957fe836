"""The staff inbox: finding, reading and working enquiries, every step audited (P3, P22)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import formats, timezone, translation

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.enquiries import tokens
from vern.enquiries.models import ContactLog, Enquiry, SearchTerm
from vern.enquiries.tests.helpers import make, names_listed
from vern.lib.keys import email_index, phone_index
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def local(moment: dt.datetime) -> str:
    """A time as the browser's datetime-local field sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def register_form(**fields: str) -> dict[str, str]:
    return {"token": tokens.issue("register"), "received_at": local(timezone.now() - dt.timedelta(days=2)), **fields}


def test_p3_staff_register_an_enquiry_that_came_by_telephone_with_its_channel(client, published, personas):
    staff_login(client, personas.sales)
    received = timezone.now() - dt.timedelta(days=2)
    form = register_form(
        channel="phone",
        kind="demo",
        received_at=local(received),
        name="Per Telefon",
        organisation="Nord kommune",
        email="",
        phone="41 23 45 67",
        message="Called about a demo",
        language="nb",
    )
    response = client.post("/en/staff/enquiries/new/", form)
    assert response.status_code == 303
    # The same form sent again (a double click) registers nothing more.
    assert client.post("/en/staff/enquiries/new/", form).status_code == 303
    enquiry = Enquiry.objects.get()
    assert (enquiry.channel, enquiry.kind, enquiry.legal_basis) == ("phone", "demo", "b")
    assert enquiry.phone == "+4741234567" and enquiry.email == "" and enquiry.registered_by == personas.sales
    assert local(enquiry.received_at) == local(received) and enquiry.last_contact_at == enquiry.received_at
    assert enquiry.policy_version == published.number
    assert not OutboxMessage.objects.exists()  # no address: no acknowledgement
    entry = Entry.objects.get(action="enquiry.registered")
    assert entry.actor_id == personas.sales.pk and entry.subject_key == phone_index("+4741234567")


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"email": "", "phone": ""}, "Give an email address or a phone number, so that we can answer."),
        ({"received_at": "2999-01-01T10:00"}, "The time received cannot be in the future."),
        ({"received_at": "2001-01-01T10:00"}, "already past its retention period"),
    ],
)
def test_registering_refuses_what_would_break_the_record_and_says_why(client, published, personas, fields, message):
    staff_login(client, personas.sales)
    form = register_form(channel="email", kind="contact", name="X", organisation="Y", language="nb")
    response = client.post("/en/staff/enquiries/new/", {**form, **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Enquiry.objects.exists()


def test_a_registered_enquiry_can_get_the_acknowledgement_with_the_privacy_notice(client, published, personas):
    staff_login(client, personas.sales)
    form = register_form(
        channel="email", kind="contact", name="Eva", organisation="Z", email="eva@example.no", language="en"
    )
    client.post("/staff/enquiries/new/", {**form, "acknowledge": "on"})
    ack = OutboxMessage.objects.get(kind="enquiry_received")
    assert ack.to_address == "eva@example.no" and "Your right to object" in ack.body_text
    # The record names the policy the acknowledgement gave the person.
    assert Enquiry.objects.get().policy_version == published.number


def test_the_inbox_lists_newest_first_with_each_deletion_date(client, published, personas):
    older = make(personas.sales, name="Eldre Eriksen", received_at=timezone.now() - dt.timedelta(days=40))
    newer = make(personas.sales, name="Nyere Nilsen", email="nyere@example.no")
    staff_login(client, personas.sales)
    html = client.get("/staff/enquiries/").content.decode()
    assert names_listed(html) == ["Nyere Nilsen", "Eldre Eriksen"]
    deletion = timezone.localtime(older.last_contact_at).date().replace(year=older.last_contact_at.year + 2)
    assert deletion.strftime("%d.%m.%Y") in html
    entry = Entry.objects.get(action="enquiry.list_viewed")
    assert entry.data == {"shown": [newer.pk, older.pk], "filter": "all", "searched": False}


@pytest.mark.parametrize(
    "query,found",
    [
        ("kari", ["Kari Nordmann"]),
        ("nord", ["Nora Vik", "Kari Nordmann"]),  # word starts in names and organisations
        ("bergen kommune", ["Kari Nordmann"]),
        ("KOMMUNE", ["Nora Vik", "Kari Nordmann"]),
        ("Kari@Bergen.Kommune.no", ["Kari Nordmann"]),
        ("+47 915 55 555", ["Nora Vik"]),
        ("ari", []),  # not the start of a word
        ("zzz", []),
        ("not-an-address@", []),
    ],
)
def test_search_finds_by_word_start_email_or_phone_without_reading_plain_text(
    client, published, personas, query, found
):
    make(personas.sales)
    make(personas.sales, name="Nora Vik", organisation="Nordre Land kommune", email="nora@vik.no", phone="915 55 555")
    staff_login(client, personas.privacy_officer)
    # A search is a GET: the address of the results can be bookmarked and shared.
    html = client.get("/staff/enquiries/", {"status": "all", "q": query}).content.decode()
    assert names_listed(html) == found
    assert f'value="{query}"' in html  # the search box still shows it
    assert Entry.objects.get(action="enquiry.list_viewed").data["searched"] is True
    assert query.lower() not in str(Entry.objects.values_list("data", flat=True)).lower()  # the search is not kept


def test_search_terms_are_keyed_digests_not_words(published, personas):
    enquiry = make(personas.sales)
    digests = list(SearchTerm.objects.filter(enquiry=enquiry).values_list("digest", flat=True))
    assert len(digests) > 5 and all(re.fullmatch(r"[0-9a-f]{32,64}", d) for d in digests)
    assert not any(word in " ".join(digests) for word in ("kari", "nordmann", "bergen"))


def test_filters_show_new_open_customers_and_those_deleted_soon(client, published, personas):
    new = make(personas.sales, name="Ny Nils", email="a@example.no")
    worked = make(personas.sales, name="Åpen Åse", email="b@example.no")
    staff_login(client, personas.sales)
    client.post(f"/staff/enquiries/{worked.pk}/contact/", {"kind": "phone", "happened_at": local(timezone.now())})
    customer = make(personas.sales, name="Kunde Kari", email="c@example.no")
    client.post(f"/staff/enquiries/{customer.pk}/customer/", {"note": "Signed"})
    old = make(
        personas.sales,
        name="Gammel Gro",
        email="d@example.no",
        received_at=timezone.now() - dt.timedelta(days=2 * 365 - 10),
    )
    listed = {
        status: names_listed(client.get("/staff/enquiries/", {"status": status}).content.decode())
        for status in ("new", "open", "customer", "due")
    }
    assert set(listed["new"]) == {"Ny Nils", "Gammel Gro"} and new.pk
    assert listed["open"] == ["Åpen Åse"]
    assert listed["customer"] == ["Kunde Kari"]
    assert listed["due"] == ["Gammel Gro"] and old.pk


def test_opening_an_enquiry_shows_what_was_promised_and_is_audited(client, published, personas):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    html = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "kari@bergen.kommune.no" in html and "Bergen kommune" in html
    assert "Legitimate interest, Art. 6(1)(f): the person may object" in html
    assert f"Version {published.number} of" in html
    assert "Up to 24 months after the last contact, unless the enquiry leads to a customer relationship" in html
    entry = Entry.objects.get(action="enquiry.viewed")
    assert entry.object_id == str(enquiry.pk) and entry.actor_id == personas.sales.pk
    assert entry.subject_key == email_index("kari@bergen.kommune.no")


def test_p11_logging_a_contact_moves_the_deletion_date(client, published, personas):
    enquiry = make(personas.sales, received_at=timezone.now() - dt.timedelta(days=100))
    staff_login(client, personas.sales)
    moment = timezone.localtime() - dt.timedelta(hours=1)
    response = client.post(
        f"/staff/enquiries/{enquiry.pk}/contact/",
        {"kind": "meeting", "happened_at": moment.strftime("%Y-%m-%dT%H:%M"), "note": "Demo held"},
    )
    assert response.status_code == 303
    enquiry.refresh_from_db()
    assert enquiry.status == "open"
    assert abs(enquiry.last_contact_at - moment) < dt.timedelta(minutes=1)
    assert ContactLog.objects.get().note == "Demo held"
    entry = Entry.objects.get(action="enquiry.contact_logged")
    assert entry.data["kind"] == "meeting" and entry.data["clock_moved"] is True
    # An older contact, logged late, does not pull the clock back.
    client.post(
        f"/staff/enquiries/{enquiry.pk}/contact/",
        {"kind": "email", "happened_at": (moment - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")},
    )
    enquiry.refresh_from_db()
    assert abs(enquiry.last_contact_at - moment) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    "happened,message",
    [("2999-01-01T10:00", "A contact cannot be in the future."), ("2001-01-01T10:00", "before the enquiry came")],
)
def test_a_contact_in_the_future_or_before_the_enquiry_is_refused(client, published, personas, happened, message):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    response = client.post(f"/en/staff/enquiries/{enquiry.pk}/contact/", {"kind": "phone", "happened_at": happened})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ContactLog.objects.exists()


def test_p11_a_customer_leaves_the_enquiry_rule_for_the_customer_rule(client, published, personas):
    enquiry = make(personas.sales, received_at=timezone.now() - dt.timedelta(days=300))
    staff_login(client, personas.sales)
    client.post(f"/staff/enquiries/{enquiry.pk}/customer/", {"note": "Agreement 2026-114"})
    enquiry.refresh_from_db()
    assert enquiry.status == "customer" and enquiry.customer_note == "Agreement 2026-114"
    html = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    assert "Not while the customer relationship lasts" in html
    assert "Up to 24 months after the customer relationship has ended" in html
    assert Entry.objects.get(action="enquiry.became_customer").data == {"retention_rule": "customers", "again": False}
    # An end before the relationship began would make the enquiry due at once: refused.
    before = timezone.localdate() - dt.timedelta(days=10)
    response = client.post(f"/en/staff/enquiries/{enquiry.pk}/ended/", {"ended_on": before.isoformat()})
    assert (
        response.status_code == 400
        and "The end cannot be before the person became a customer" in response.content.decode()
    )
    today = timezone.localdate()
    assert client.post(f"/en/staff/enquiries/{enquiry.pk}/ended/", {"ended_on": today.isoformat()}).status_code == 303
    enquiry.refresh_from_db()
    html = client.get(f"/en/staff/enquiries/{enquiry.pk}/").content.decode()
    two_years = today.replace(year=today.year + 2)
    with translation.override("en"):
        assert formats.date_format(two_years, "DATE_FORMAT") in html
    # Recorded once: the date cannot be moved back afterwards.
    response = client.post(f"/en/staff/enquiries/{enquiry.pk}/ended/", {"ended_on": today.isoformat()})
    assert response.status_code == 400 and "already recorded" in response.content.decode()
    # A former customer who comes back is kept again while the relationship lasts.
    client.post(f"/staff/enquiries/{enquiry.pk}/customer/", {"note": "Renewed"})
    enquiry.refresh_from_db()
    assert enquiry.relationship_ended_at is None and enquiry.customer_note == "Renewed"


def test_only_a_customer_relationship_can_end(client, published, personas):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    response = client.post(f"/en/staff/enquiries/{enquiry.pk}/ended/", {"ended_on": "2026-11-01"})
    assert response.status_code == 400 and "Only a customer&#x27;s relationship can end." in response.content.decode()
    enquiry.refresh_from_db()
    assert enquiry.relationship_ended_at is None


def test_deleting_an_enquiry_takes_its_log_and_search_terms_and_keeps_only_why(client, published, personas):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    client.post(
        f"/staff/enquiries/{enquiry.pk}/contact/",
        {"kind": "phone", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")},
    )
    confirm = client.get(f"/en/staff/enquiries/{enquiry.pk}/delete/")
    assert "will be deleted for good" in confirm.content.decode()
    assert client.post(f"/staff/enquiries/{enquiry.pk}/delete/", {}).status_code == 400  # a reason is needed
    response = client.post(f"/staff/enquiries/{enquiry.pk}/delete/", {"reason": "spam"})
    assert response.status_code == 303
    assert not Enquiry.objects.exists() and not ContactLog.objects.exists() and not SearchTerm.objects.exists()
    entry = Entry.objects.get(action="enquiry.deleted")
    assert entry.data == {"kind": "contact", "reason": "spam"}
    assert "Kari" not in str(entry.data) and "Bergen" not in str(entry.data)


def test_the_console_home_shows_sales_how_many_enquiries_are_new(client, published, personas):
    make(personas.sales)
    staff_login(client, personas.sales)
    html = client.get("/en/staff/").content.decode()
    assert 'href="/en/staff/enquiries/?status=new"' in html and '<span class="count alert">1</span>' in html
    staff_login(client, personas.admin)
    assert "/staff/enquiries/" not in client.get("/en/staff/").content.decode()
