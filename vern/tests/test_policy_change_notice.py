"""Telling people of a significant change to the policy (P20): a notice on every page for the
declared number of days, which a visitor can close, and one mail to each person vern keeps in
touch with; a change that is not significant only moves the date and the version list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from vern.audit.services import Actor
from vern.declaration.context import NOTICE_COOKIE
from vern.declaration.models import ChangeNotice, PolicyVersion
from vern.declaration.services import change_notify, declaration_publish
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.jobs.models import Job
from vern.jobs.worker import Worker
from vern.mail.models import OutboxMessage
from vern.newsletter import services as newsletter_services
from vern.newsletter.tests.helpers import confirmed
from vern.rights.models import Restriction, Suppression

pytestmark = pytest.mark.django_db

OLD = "Vi svarer normalt innen 30 dager."
NEW = "Vi svarer innen 30 dager."


def publish(source: str, **kwargs: Any) -> PolicyVersion:
    return declaration_publish(source=source, actor=Actor.cli(), **kwargs)


def enquiry(staff: Any, email: str, language: str = "nb") -> Enquiry:
    return enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari Nordmann", email=email, phone="", organisation=""),
        language=language,
        acknowledge=False,
    )


def run_worker() -> None:
    Worker(burst=True, manage_connections=False).run()


def test_p20_p22_a_significant_change_mails_each_person_once_in_their_language(
    published: Any, personas: Any, smtp_server: Any
) -> None:
    sales = personas.sales
    enquiry(sales, "kari@example.no")
    enquiry(sales, "KARI@example.no")  # the same person twice: one mail
    enquiry(sales, "john@example.com", language="en")
    restricted = enquiry(sales, "rita@example.no")
    Restriction.objects.create(subject_key=restricted.email_index)
    objected = enquiry(sales, "odd@example.no")
    Suppression.objects.create(subject_key=objected.email_index)
    # Newsletter subscribers: one only subscribed, one who also wrote (one mail), one who unsubscribed.
    confirmed("sub@example.com", language="en")
    confirmed("kari@example.no")
    left = confirmed("gone@example.no")
    newsletter_services.unsubscribe(left)
    enquiry(sales, "gone@example.no")

    version = publish(published.source.replace(OLD, NEW), significant=True, note="Kortere svartid.")
    assert Job.objects.filter(name="declaration.notify_change", payload={"version": version.number}).exists()
    run_worker()

    notices = ("Vi har endret personvernerklæringen vår", "We have changed our privacy policy")
    mails = {m["To"]: m for m in smtp_server.messages if m["Subject"] in notices}
    assert sorted(mails) == ["john@example.com", "kari@example.no", "sub@example.com"]
    assert mails["kari@example.no"]["Subject"] == "Vi har endret personvernerklæringen vår"
    assert mails["john@example.com"]["Subject"] == "We have changed our privacy policy"
    body = mails["john@example.com"].get_body(preferencelist=("plain",)).get_content()
    assert "/en/privacy/versions/2/changes/" in body and "Kortere svartid." in body
    # The restricted person, the one who objected to marketing and the one who unsubscribed are
    # not mailed; the outbox says why.
    assert OutboxMessage.objects.filter(kind="policy_changed", status="withheld").count() == 3

    # Run again (a worker that died after the mails, before marking the job done): nobody twice.
    sent = len(smtp_server.messages)
    assert change_notify(number=version.number) == 0
    run_worker()
    assert len(smtp_server.messages) == sent
    assert ChangeNotice.objects.filter(version=version).count() == 6


def test_p20_a_change_that_is_not_significant_tells_nobody(published: Any, personas: Any, client: Any) -> None:
    enquiry(personas.sales, "kari@example.no")
    publish(published.source.replace(OLD, NEW))
    assert not Job.objects.filter(name="declaration.notify_change").exists()
    assert "Vi har endret personvernerklæringen" not in client.get("/").content.decode()
    assert "2" in client.get("/privacy/versions/").content.decode()


def test_p20_the_notice_lasts_the_declared_days_and_a_visitor_can_close_it(published: Any, client: Any) -> None:
    source = published.source.replace("notice_days: 30", "notice_days: 7")
    assert source != published.source
    publish(source.replace(OLD, NEW), significant=True)
    assert "We changed our privacy policy on" in client.get("/en/contact/").content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert "We changed our privacy policy" not in client.get("/en/contact/").content.decode()

    page = client.get("/en/contact/").content.decode()
    assert 'name="number" value="2"' in page and "Close notice" in page
    closed = client.post("/privacy/notice/close/", {"number": "2", "next": "/en/contact/"})
    assert closed.status_code == 302 and closed["Location"] == "/en/contact/"
    cookie = closed.cookies[NOTICE_COOKIE]
    assert cookie.value == "2" and int(cookie["max-age"]) == 30 * 86400  # the declared 30 days
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "We changed our privacy policy" not in client.get("/en/contact/").content.decode()

    # A later significant change shows again, even to someone who closed the one before.
    publish(source.replace(OLD, "Vi svarer innen 20 dager."), significant=True)
    assert "We changed our privacy policy on" in client.get("/en/contact/").content.decode()


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"number": "99", "next": "/"}, 404),  # no such version
        ({"number": "x", "next": "/"}, 404),
        ({"next": "/"}, 404),
    ],
)
def test_closing_a_notice_with_bad_input_sets_nothing(published: Any, client: Any, form: Any, status: int) -> None:
    response = client.post("/privacy/notice/close/", form)
    assert response.status_code == status and NOTICE_COOKIE not in response.cookies


def test_closing_a_notice_never_sends_the_visitor_to_another_site(published: Any, client: Any) -> None:
    response = client.post("/privacy/notice/close/", {"number": "1", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/privacy/"
    assert client.get("/privacy/notice/close/").status_code == 405


def test_a_declaration_without_the_notice_cookie_shows_the_notice_without_a_close_button(
    published: Any, client: Any
) -> None:
    start = published.source.index("    - name: vern_notice")
    end = published.source.index("    - name: vern_visitor")
    without = published.source[:start] + published.source[end:]
    publish(without.replace(OLD, NEW), significant=True)
    page = client.get("/en/").content.decode()
    assert "We changed our privacy policy on" in page and "Close notice" not in page
    assert client.post("/privacy/notice/close/", {"number": "2", "next": "/"}).status_code == 404


def test_a_garbled_notice_cookie_is_ignored_not_an_error(published: Any, client: Any) -> None:
    publish(published.source.replace(OLD, NEW), significant=True)
    for value in ("²", "-1", "9" * 30, "abc"):
        response = client.get("/en/", HTTP_COOKIE=f"{NOTICE_COOKIE}={value}")
        assert response.status_code == 200 and "We changed our privacy policy on" in response.content.decode()
