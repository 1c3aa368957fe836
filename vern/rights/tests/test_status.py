"""The person's status page and the console's stepper: where a request stands, seen from both sides.

A requester follows the link in the mails about their request to a page with the
stage, the date we answer by and what staff wrote to them; staff see the same
stage as a stepper that moves on by itself when vern's automation carries out a right.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.mail.models import OutboxMessage
from vern.rights.models import Event, Request
from vern.rights.services import intake, workflow
from vern.rights.services.steps import RequestRefused
from vern.rights.services.tokens import status_hash

pytestmark = pytest.mark.django_db
EMAIL = "kari.nordmann@example.no"
STATUS = "/privacy/requests/status/"


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def submitted(rights: list[str], language: str = "nb") -> Request:
    return intake.request_submit(rights=rights, email=EMAIL, language=language, ip="203.0.113.9")


def registered(staff, rights: list[str], **extra) -> Request:
    values = {"channel": "email", "received_at": timezone.now(), "email": EMAIL, "identity_checked": True, **extra}
    return intake.request_register(staff=staff, rights=rights, **values)


def link_in(kind: str) -> str:
    """The status link in the latest mail of a kind, as its path."""
    mail = OutboxMessage.objects.filter(kind=kind).latest("pk")
    found = re.search(r"https?://[^/\s]+(/(?:en/)?privacy/requests/status/[A-Za-z0-9_-]+/)", mail.body_text)
    assert found, f"no status link in {kind}"
    assert f'href="{found.group(0)}"' in mail.body_html
    return str(found.group(1))


def confirm_link() -> str:
    mail = OutboxMessage.objects.filter(kind="rights_confirm").latest("pk")
    return str(mail.body_text).split("/privacy/requests/confirm/", 1)[1].split("/", 1)[0]


def stepper(html: str) -> list[tuple[str, str]]:
    """(state, label) of each step of the stepper on a page."""
    block = html.split('class="stepper"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'stepper__step--(\w+)".*?stepper__label">([^<]+)<', block, flags=re.S)


# ------------------------------------------------------------------ the status page


def test_the_confirmation_mail_links_a_status_page_that_shows_the_stage_and_due_date_in_the_visitors_language(
    client, published
):
    request = submitted(["erasure"])
    path = link_in("rights_confirm")
    assert request.status_hash == status_hash(path.rstrip("/").rsplit("/", 1)[1])
    html = client.get(path).content.decode()
    assert "Forespørselen din R-" in html
    assert stepper(html) == [
        ("current", "Mottatt"),
        ("todo", "Bekreftet"),
        ("todo", "Under behandling"),
        ("todo", "Besvart"),
    ]
    assert "Bekreft forespørselen med lenken i e-posten" in html

    intake.request_confirm(token=confirm_link())
    request.refresh_from_db()
    english = client.get("/en" + path).content.decode()
    assert stepper(english) == [
        ("done", "Received"),
        ("current", "Confirmed"),
        ("todo", "In progress"),
        ("todo", "Answered"),
    ]
    due = request.deadline
    assert "We answer by" in english and f"{due.day} {due:%B} {due.year}" in english
    assert "Erasure" in english and "not yet" in english


def test_the_status_page_shows_what_staff_wrote_to_the_person_but_never_an_internal_note_or_the_address(
    client, published, personas
):
    pia = personas.privacy_officer
    request = registered(pia, ["erasure"], phone="912 34 567", details="Slett alt om meg, Kari Nordmann.")
    workflow.request_note(request=request, staff=pia, note="Intern: ringte sentralbordet.")
    workflow.request_message(request=request, staff=pia, message="Vi trenger en kopi av legitimasjon.")
    path = link_in("rights_message")

    html = client.get(path).content.decode()

    assert "Vi trenger en kopi av legitimasjon." in html
    assert "Intern: ringte" not in html
    assert EMAIL not in html and "kari.nordmann" not in html and "912 34 567" not in html and "91234567" not in html
    assert "Kari Nordmann" not in html  # the person's own words stay out too
    assert response_is_private(client.get(path))


def response_is_private(response) -> bool:
    return (
        response["Referrer-Policy"] == "no-referrer"
        and "no-store" in response["Cache-Control"]
        and response["X-Robots-Tag"] == "noindex"
    )


@pytest.mark.parametrize("token", ["x" * 43, "kort", "A" * 200, "ÆØÅ" * 15])
def test_a_wrong_status_link_gets_a_clear_page_in_the_visitors_language_and_no_request(client, published, token):
    submitted(["access"])
    norwegian = client.get(f"{STATUS}{token}/")
    assert norwegian.status_code == 404
    assert "Denne lenken virker ikke" in norwegian.content.decode()
    english = client.get(f"/en{STATUS}{token}/")
    assert english.status_code == 404 and "This link does not work" in english.content.decode()
    assert "R-1" not in english.content.decode()


def test_a_status_link_stops_working_when_retention_deletes_the_request(client, published):
    submitted(["erasure"])
    path = link_in("rights_confirm")
    assert client.get(path).status_code == 200
    Request.objects.all().delete()  # what the retention sweep does at the end of the rule's period
    gone = client.get("/en" + path)
    assert gone.status_code == 404 and "deleted when its retention period is over" in gone.content.decode()


def test_the_status_link_can_be_opened_again_and_again(client, published):
    submitted(["erasure"])
    path = link_in("rights_confirm")
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]


def test_the_status_page_only_reads(client, published):
    submitted(["erasure"])
    assert client.post(link_in("rights_confirm")).status_code == 405


# ------------------------------------------------------------------ a message from staff


def test_a_message_from_staff_is_mailed_with_the_status_link_kept_on_the_timeline_and_audited(
    client, published, personas
):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"], language="en")
    staff_login(client, pia)

    response = client.post(f"/en/staff/requests/{request.pk}/message/", {"message": "We need your new address."})

    assert response.status_code == 303
    [mail] = OutboxMessage.objects.filter(kind="rights_message")
    assert mail.to_address == EMAIL and "We need your new address." in mail.body_text
    assert f"R-{request.pk}" in mail.subject
    assert Event.objects.filter(request=request, kind="message", actor=pia).get().note == "We need your new address."
    audit = Entry.objects.get(action="rights.messaged")
    assert audit.subject_key == request.email_index and EMAIL not in str(audit.data)
    assert "We need your new address." in client.get(link_in("rights_message")).content.decode()
    detail = client.get(f"/en/staff/requests/{request.pk}/").content.decode()
    assert "Message to the person" in detail and "We need your new address." in detail


def test_an_empty_message_or_one_to_a_closed_request_is_refused_and_sends_nothing(client, published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"])
    staff_login(client, pia)
    empty = client.post(f"/en/staff/requests/{request.pk}/message/", {"message": "   "})
    assert empty.status_code == 400 and "Write the message first." in empty.content.decode()
    workflow.request_answer(request=request, staff=pia, message="Rettet.")
    with pytest.raises(RequestRefused) as closed:
        workflow.request_message(request=request, staff=pia, message="Én ting til.")
    assert closed.value.code == "closed"
    assert not OutboxMessage.objects.filter(kind="rights_message").exists()
    assert "Write to the person" not in client.get(f"/en/staff/requests/{request.pk}/").content.decode()


def test_every_later_mail_about_the_request_carries_the_same_status_link(published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["access", "rectification"])
    first = link_in("rights_download_ready")
    workflow.request_extend(
        request=request, staff=pia, until=request.due_on + dt.timedelta(days=20), reason="Mange forespørsler nå."
    )
    workflow.request_answer(request=request, staff=pia, message="Rettet.")
    assert link_in("rights_extended") == first == link_in("rights_answered")


# ------------------------------------------------------------------ the stepper on the console


def test_an_access_request_fulfilled_by_automation_stands_at_answered_without_a_start_button(
    client, published, personas
):
    request = submitted(["access"], language="en")
    intake.request_confirm(token=confirm_link())
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED and request.closed_at is not None
    answer = OutboxMessage.objects.get(kind="rights_answered")
    assert "Datatilsynet" in answer.body_text and "separate email" in answer.body_text  # P17, and where the copy is
    staff_login(client, personas.privacy_officer)

    html = client.get(f"/en/staff/requests/{request.pk}/").content.decode()

    assert stepper(html) == [("done", "Received"), ("done", "Confirmed"), ("done", "In progress"), ("done", "Answered")]
    assert "Start work" not in html and "Answer…" not in html
    assert "by itself: everything asked for was carried out" in html
    assert "Send a new access link" in html  # the link may expire before it is used
    status = client.get("/en" + link_in("rights_answered").removeprefix("/en")).content.decode()
    assert stepper(status)[-1] == ("done", "Answered") and "Our answer" in status


def test_a_request_partly_fulfilled_by_automation_is_in_progress_and_its_main_button_is_answer(
    client, published, personas
):
    request = registered(personas.privacy_officer, ["access", "erasure"])
    assert request.status == Request.Status.IN_PROGRESS
    staff_login(client, personas.privacy_officer)
    html = client.get(f"/en/staff/requests/{request.pk}/").content.decode()
    assert stepper(html) == [
        ("done", "Received"),
        ("done", "Confirmed"),
        ("current", "In progress"),
        ("todo", "Answered"),
    ]
    assert "Start work" not in html
    assert re.search(r'class="button button--primary" href="[^"]+/answer/">Answer…', html)


def test_a_request_waiting_for_a_person_to_be_checked_still_offers_start_work(client, published, personas):
    request = registered(personas.privacy_officer, ["rectification"])
    staff_login(client, personas.privacy_officer)
    html = client.get(f"/en/staff/requests/{request.pk}/").content.decode()
    assert stepper(html)[1] == ("current", "Confirmed")
    assert re.search(r'button--primary" type="submit">Start work', html)


def test_a_refused_request_ends_the_stepper_at_refused(client, published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["erasure"])
    workflow.request_refuse(request=request, staff=pia, ground="unfounded", justification="Ingen grunn oppgitt her.")
    staff_login(client, pia)
    html = client.get(f"/en/staff/requests/{request.pk}/").content.decode()
    assert stepper(html)[-1] == ("done", "Refused")


def test_the_extension_form_opens_on_demand_and_stays_open_when_it_comes_back_with_a_problem(
    client, published, personas
):
    request = registered(personas.privacy_officer, ["rectification"])
    staff_login(client, personas.privacy_officer)
    html = client.get(f"/en/staff/requests/{request.pk}/").content.decode()
    assert re.search(r'<details class="on-demand[^"]*">\s*<summary[^>]*>Extend the deadline…</summary>', html)
    problem = client.post(f"/en/staff/requests/{request.pk}/extend/", {"until": "", "reason": "kort"})
    assert problem.status_code == 400
    assert re.search(r'<details class="on-demand[^"]*" open>', problem.content.decode())


def test_the_staff_request_pages_name_models_in_words_not_code(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure", "rectification"])
    staff_login(client, personas.privacy_officer)
    for path in ("", "erasure/", "rectify/"):
        html = client.get(f"/en/staff/requests/{request.pk}/{path}").content.decode()
        visible = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
        labels = re.findall(r"\b[a-z_]+\.[A-Z][A-Za-z]+\b", visible)
        assert labels == [], (path, labels)


def test_the_status_page_writes_dates_as_people_write_them_in_each_language(client, published, personas):
    pia = personas.privacy_officer
    request = registered(pia, ["rectification"])
    workflow.request_message(request=request, staff=pia, message="Snart ferdig.")
    path = link_in("rights_message")
    english = client.get("/en" + path).content.decode()
    norwegian = client.get(path).content.decode()
    assert re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}</time>", english)
    assert re.search(r"\d{1,2}\. [a-z]+ \d{4} kl\. \d{2}\.\d{2}</time>", norwegian)
    assert "p.m." not in english and "a.m." not in english
