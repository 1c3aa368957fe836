"""Enquiries as a real inbox (issue 21): replying from the console, open → answered → closed with an
owner, a notification with nothing of the person, and a search that folds case and Nordic letters."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.enquiries import tokens
from vern.enquiries.models import ContactLog, Enquiry, SearchTerm
from vern.enquiries.tests.helpers import CONTACT, names_listed, send
from vern.enquiries.tests.helpers import unowned as make
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def reply_form(subject: str = "Om prisen", body: str = "Hei Kari,\n\nPrisen er 1 200 kr i måneden.") -> dict[str, str]:
    return {"token": tokens.issue("reply"), "subject": subject, "body": body}


# ---------------------------------------------------------------- replying


@pytest.mark.parametrize(
    ("language", "footer"),
    [("en", "This is our answer to the enquiry you sent us on"), ("nb", "Dette er svaret vårt på henvendelsen")],
)
def test_p11_a_reply_from_the_console_reaches_the_enquirer_in_their_language_and_counts_as_contact(
    client, published, personas, smtp_server, language, footer
):
    enquiry = make(personas.sales, language=language, email="Kari.Nordmann@Example.no")
    before = enquiry.last_contact_at
    staff_login(client, personas.sales)
    page = client.get(f"/staff/enquiries/{enquiry.pk}/").content.decode()
    # The subject is proposed in the enquirer's language, whatever the console's.
    proposed = "Your enquiry to Kaukus AS" if language == "en" else "Henvendelsen din til Kaukus AS"
    assert f'value="{proposed}"' in page

    response = client.post(f"/staff/enquiries/{enquiry.pk}/reply/", reply_form())
    assert response.status_code == 303
    report = outbox_deliver_due()

    assert report.sent == 1
    [mail] = smtp_server.messages
    assert mail["To"] == "kari.nordmann@example.no" and mail["Subject"] == "Om prisen"
    text = mail.get_body(("plain",)).get_content()
    assert "Prisen er 1 200 kr i måneden." in text and "Sam Salg" in text and footer in text
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.ANSWERED and enquiry.owner == personas.sales
    assert enquiry.last_contact_at > before  # the retention clock starts again (P11)
    [contact] = ContactLog.objects.filter(enquiry=enquiry)
    assert contact.kind == "reply" and contact.subject == "Om prisen" and contact.staff == personas.sales
    replied = Entry.objects.get(action="enquiry.replied")
    assert replied.object_id == str(enquiry.pk) and replied.data["language"] == language
    assert "Prisen" not in str(replied.data)  # the audit row says that, not what
    # The reply stands in the enquiry's history, sent.
    history = client.get(f"/staff/enquiries/{enquiry.pk}/").content.decode().split('id="contacts"')[1]
    assert "Om prisen" in history and "Prisen er 1 200 kr" in history and "sendt" in history


def test_a_reply_sent_twice_is_one_mail_and_one_contact(client, published, personas, smtp_server):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    form = reply_form()
    first = client.post(f"/staff/enquiries/{enquiry.pk}/reply/", form)
    outbox_deliver_due()
    again = client.post(f"/staff/enquiries/{enquiry.pk}/reply/", form)  # the browser retried
    outbox_deliver_due()

    assert first.status_code == again.status_code == 303
    assert OutboxMessage.objects.filter(kind="enquiry_reply").count() == 1
    assert ContactLog.objects.filter(enquiry=enquiry).count() == 1
    assert len(smtp_server.messages) == 1
    assert Entry.objects.filter(action="enquiry.replied").count() == 1


@pytest.mark.parametrize(
    "subject",
    ["Om prisen\r\nBcc: alle@example.com", "Om prisen\nBcc: alle@example.com", "Om prisen\rX-Evil: 1"],
)
def test_a_subject_that_would_add_a_mail_header_is_refused_and_nothing_is_sent(client, published, personas, subject):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    response = client.post(f"/staff/enquiries/{enquiry.pk}/reply/", reply_form(subject=subject))
    assert response.status_code == 400
    assert "Et emne er én linje, uten linjeskift eller spesialtegn." in response.content.decode()
    assert not OutboxMessage.objects.filter(kind="enquiry_reply").exists()
    enquiry.refresh_from_db()
    assert enquiry.state == Enquiry.State.OPEN and not ContactLog.objects.exists()


def test_an_empty_reply_is_refused_in_the_staff_members_language(client, published, personas):
    personas.sales.language = "en"
    personas.sales.save(update_fields=["language"])
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    response = client.post(f"/en/staff/enquiries/{enquiry.pk}/reply/", reply_form(body="   "))
    assert response.status_code == 400 and "Write the reply." in response.content.decode()
    assert not OutboxMessage.objects.filter(kind="enquiry_reply").exists()


def test_the_body_is_plain_text_in_both_parts_of_the_mail(client, published, personas, smtp_server):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    body = 'Se <a href="https://evil.example/">her</a> & <script>alert(1)</script>'
    client.post(f"/staff/enquiries/{enquiry.pk}/reply/", reply_form(body=body))
    outbox_deliver_due()
    [mail] = smtp_server.messages
    assert body in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and '<a href="https://evil.example/">' not in html


# ---------------------------------------------------------------- states and owners


def _state(client, enquiry, state):
    return client.post(f"/staff/enquiries/{enquiry.pk}/state/", {"state": state})


def test_an_enquiry_goes_open_answered_closed_and_can_be_reopened_each_step_audited(client, published, personas):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    assert enquiry.state == "open"

    assert _state(client, enquiry, "closed").status_code == 303
    enquiry.refresh_from_db()
    assert enquiry.state == "closed"
    # A closed enquiry is reopened before it is marked answered by hand.
    refused = _state(client, enquiry, "answered")
    assert refused.status_code == 303
    assert "En lukket henvendelse må åpnes igjen først." in client.get(refused["Location"]).content.decode()
    enquiry.refresh_from_db()
    assert enquiry.state == "closed"

    _state(client, enquiry, "open")
    _state(client, enquiry, "answered")
    enquiry.refresh_from_db()
    assert enquiry.state == "answered"
    changes = Entry.objects.filter(action="enquiry.state_changed").order_by("pk")
    moves = [(e.data["from"], e.data["to"]) for e in changes]
    assert moves == [("open", "closed"), ("closed", "open"), ("open", "answered")]
    assert _state(client, enquiry, "nonsense").status_code == 400


def test_a_reply_to_a_closed_enquiry_makes_it_answered(client, published, personas, smtp_server):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    _state(client, enquiry, "closed")
    client.post(f"/staff/enquiries/{enquiry.pk}/reply/", reply_form())
    enquiry.refresh_from_db()
    assert enquiry.state == "answered"
    assert Entry.objects.get(action="enquiry.replied").data["was"] == "closed"


def test_an_enquiry_is_given_to_a_staff_member_who_works_enquiries_who_is_told_by_a_link(client, published, personas):
    enquiry = make(personas.sales, name="Åse Ødegård", email="aase@fjord.no")
    staff_login(client, personas.sales)

    response = client.post(f"/staff/enquiries/{enquiry.pk}/owner/", {"owner": personas.privacy_officer.pk})

    assert response.status_code == 303
    enquiry.refresh_from_db()
    assert enquiry.owner == personas.privacy_officer
    given = Entry.objects.get(action="enquiry.assigned")
    assert given.data == {"from": None, "to": personas.privacy_officer.pk} and given.actor_id == personas.sales.pk
    told = OutboxMessage.objects.get(kind="enquiry_notification")
    assert told.to_address == personas.privacy_officer.email
    assert f"/staff/enquiries/{enquiry.pk}/" in told.body_text
    for secret in ("Åse", "Ødegård", "aase", "fjord"):
        assert secret not in told.body_text and secret not in told.body_html and secret not in told.subject


def test_an_enquiry_cannot_be_given_to_someone_who_cannot_open_it(client, published, personas):
    enquiry = make(personas.sales)
    staff_login(client, personas.sales)
    for nobody_to_give in (personas.admin.pk, personas.deactivated.pk, 999999):
        response = client.post(f"/staff/enquiries/{enquiry.pk}/owner/", {"owner": nobody_to_give})
        assert response.status_code == 400
        assert "Velg en ansatt som arbeider med henvendelser, eller ingen." in response.content.decode()
    enquiry.refresh_from_db()
    assert enquiry.owner is None and not Entry.objects.filter(action="enquiry.assigned").exists()


@pytest.mark.parametrize(("url", "data"), [("reply/", None), ("state/", {"state": "closed"}), ("owner/", None)])
def test_a_role_without_the_enquiry_capability_gets_403_and_changes_nothing(client, published, personas, url, data):
    enquiry = make(personas.sales)
    staff_login(client, personas.admin)
    if data is None:
        data = reply_form() if url == "reply/" else {"owner": personas.admin.pk}
    response = client.post(f"/staff/enquiries/{enquiry.pk}/{url}", data)
    assert response.status_code == 403
    enquiry.refresh_from_db()
    assert enquiry.state == "open" and enquiry.owner is None
    assert not OutboxMessage.objects.exists() and not ContactLog.objects.exists()


def test_the_list_filters_by_state_and_by_owner(client, published, personas):
    mine = make(personas.sales, name="Mona Mine", email="mona@example.no")
    nobodys = make(personas.sales, name="Nils Ingen", email="nils@example.no")
    closed = make(personas.sales, name="Kåre Lukket", email="kare@example.no")
    Enquiry.objects.filter(pk=mine.pk).update(owner=personas.sales)
    Enquiry.objects.filter(pk=closed.pk).update(owner=personas.privacy_officer, state="closed")
    staff_login(client, personas.sales)

    def listed(**query):
        return names_listed(client.get("/staff/enquiries/", query).content.decode())

    assert listed(owner="mine") == ["Mona Mine"]
    assert listed(owner="unassigned") == ["Nils Ingen"]
    assert listed(state="closed") == ["Kåre Lukket"]
    assert listed(state="open") == ["Nils Ingen", "Mona Mine"]
    assert listed(state="open", owner="mine") == ["Mona Mine"]
    assert listed(state="bogus", owner="bogus") == ["Kåre Lukket", "Nils Ingen", "Mona Mine"]
    assert nobodys.pk  # listed by name above


# ---------------------------------------------------------------- notification


def test_sales_is_told_of_a_new_enquiry_with_a_link_and_nothing_of_the_person(client, published, personas):
    send(client, "contact", CONTACT)
    enquiry = Enquiry.objects.get()
    assert enquiry.owner is None
    [notice] = OutboxMessage.objects.filter(kind="enquiry_notification")
    assert notice.to_address == personas.sales.email
    assert f"/staff/enquiries/{enquiry.pk}/" in notice.body_text
    for secret in ("Kari", "Nordmann", "Bergen", "Hva koster", "912", "example.no"):
        assert secret not in notice.subject and secret not in notice.body_text and secret not in notice.body_html


def test_with_the_assignment_rule_a_new_enquiry_is_the_owners_and_only_they_are_told(
    client, published, personas, settings, smtp_server
):
    """VERN_ENQUIRY_OWNER (docs/configuration.md) gives every new enquiry to one staff member."""
    settings.VERN_ENQUIRY_OWNER = personas.privacy_officer.email
    send(client, "contact", CONTACT)
    enquiry = Enquiry.objects.get()
    assert enquiry.owner == personas.privacy_officer
    outbox_deliver_due()
    told = [m for m in smtp_server.messages if "/staff/enquiries/" in m.get_body(("plain",)).get_content()]
    assert [m["To"] for m in told] == [personas.privacy_officer.email]
    text = told[0].get_body(("plain",)).get_content()
    assert "En henvendelse er gitt til deg" in text
    for secret in ("Kari", "Nordmann", "Bergen", "Hva koster", "912", "example.no"):
        assert secret not in text and secret not in told[0]["Subject"]


def test_an_assignment_rule_naming_someone_who_cannot_work_enquiries_falls_back_to_sales(
    client, published, personas, settings, caplog
):
    settings.VERN_ENQUIRY_OWNER = personas.admin.email
    send(client, "contact", CONTACT)
    assert Enquiry.objects.get().owner is None
    assert [m.to_address for m in OutboxMessage.objects.filter(kind="enquiry_notification")] == [personas.sales.email]
    assert "VERN_ENQUIRY_OWNER names no active staff account" in caplog.text
    assert personas.admin.email not in caplog.text


# ---------------------------------------------------------------- search


PEOPLE = [
    ("Per Ødegård", "Bræk Rør AS", "per@fjordkraft.no"),
    ("Åse Hansen", "Aalesund kommune", "ase.hansen@example.no"),
    ("René Lévesque", "Société Générale", "rene@example.fr"),
    ("Kari Nordmann", "Bergen kommune", "kari@bergen.kommune.no"),
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("odeg", ["Per Ødegård"]),
        ("ØDEGÅRD", ["Per Ødegård"]),
        ("odegaard", ["Per Ødegård"]),
        ("ødegard", ["Per Ødegård"]),
        ("aase", ["Åse Hansen"]),
        ("åse", ["Åse Hansen"]),
        ("ase", ["Åse Hansen"]),
        ("ålesund", ["Åse Hansen"]),  # Aalesund in the register, Ålesund in the search
        ("braek", ["Per Ødegård"]),
        ("BRÆK ror", ["Per Ødegård"]),
        ("levesque", ["René Lévesque"]),
        ("societe rene", ["René Lévesque"]),
        ("fjordkraft", ["Per Ødegård"]),  # a word of the email address
        ("kommune", ["Kari Nordmann", "Åse Hansen"]),
        ("degård", []),  # only word starts
    ],
)
def test_search_folds_case_accents_and_nordic_letters(client, published, personas, query, found):
    for name, organisation, email in PEOPLE:
        make(personas.sales, name=name, organisation=organisation, email=email)
    staff_login(client, personas.sales)
    response = client.get("/staff/enquiries/", {"q": query})
    assert sorted(names_listed(response.content.decode())) == sorted(found)


def test_search_tokens_are_keyed_digests_of_folded_words_never_the_words(published, personas):
    enquiry = make(personas.sales, name="Per Ødegård", organisation="Bræk Rør AS", email="per@fjordkraft.no")
    digests = list(SearchTerm.objects.filter(enquiry=enquiry).values_list("digest", flat=True))
    assert len(digests) > 10 and all(re.fullmatch(r"[0-9a-f]{32,64}", d) for d in digests)
    for word in ("odeg", "odegard", "braek", "fjordkraft", "ødegård"):
        assert word not in " ".join(digests)


def test_a_search_is_a_link_that_can_be_shared_and_leaves_no_personal_data_in_the_logs(
    client, published, personas, caplog
):
    make(personas.sales, name="Per Ødegård", email="per@fjordkraft.no")
    staff_login(client, personas.sales)
    response = client.get("/staff/enquiries/?q=odeg&state=open&owner=unassigned")
    html = response.content.decode()
    assert names_listed(html) == ["Per Ødegård"]
    # The filter links keep the search and the other filters.
    assert 'href="?status=new&amp;q=odeg&amp;state=open&amp;owner=unassigned"' in html
    for secret in ("odeg", "Ødegård", "fjordkraft"):
        assert secret not in caplog.text
    assert "odeg" not in str(list(Entry.objects.values_list("data", flat=True)))


def test_migration_0004_gives_enquiries_stored_before_the_folding_their_folded_tokens(client, published, personas):
    import importlib

    from django.apps import apps

    rebuild = importlib.import_module("vern.enquiries.migrations.0004_folded_search_terms").rebuild
    enquiry = make(personas.sales, name="Per Ødegård", organisation="Bræk Rør AS", email="per@fjordkraft.no")
    # As the tokens of the old kind: they match no search now.
    SearchTerm.objects.filter(enquiry=enquiry).delete()
    SearchTerm.objects.create(enquiry=enquiry, digest="0" * 64)
    staff_login(client, personas.sales)
    assert names_listed(client.get("/staff/enquiries/", {"q": "odeg"}).content.decode()) == []

    rebuild(apps, None)

    assert names_listed(client.get("/staff/enquiries/", {"q": "odeg"}).content.decode()) == ["Per Ødegård"]
    assert not SearchTerm.objects.filter(digest="0" * 64).exists()
