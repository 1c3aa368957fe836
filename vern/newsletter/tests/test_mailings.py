"""Mailings from the staff console: one-click unsubscribe, paced batches, a send that resumes, refusals, roles."""

from __future__ import annotations

import pytest
from django.test import Client

from vern.accounts.models import RoleGrant, User
from vern.accounts.testing import staff_login
from vern.jobs.models import Job
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.newsletter import services
from vern.newsletter.models import Delivery, Mailing, Subscription, Suppression
from vern.newsletter.selectors import mailing_counts
from vern.newsletter.tests.helpers import confirmed, mailing, newsletters_to, path_of, send_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(db) -> User:
    user = User.objects.create_user(email="mia@example.com", password=None, name="Mia Marked")
    RoleGrant.objects.create(user=user, role="marketing")
    return user


def test_P22_every_mailing_carries_one_click_unsubscribe_and_the_post_needs_no_page_no_cookie(
    published, marketer, smtp_server
):
    confirmed("kari@example.no", language="en")
    sent = send_all(marketer)
    outbox_deliver_due()
    (mail,) = newsletters_to(smtp_server.messages, "kari@example.no")
    assert mail["Subject"] == "News from us"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    target = mail["List-Unsubscribe"].strip().strip("<>")
    assert target.startswith("http://") and "/en/newsletter/u/" in target and f"?m={sent.pk}" in target
    text = mail.get_body(("plain",)).get_content()
    assert target in text  # the visible link is the same one
    # What a mailbox provider does (RFC 8058): one POST, no cookie, no CSRF token, no page.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(path_of(target), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert Subscription.objects.get().status == Subscription.Status.ENDED
    assert Suppression.objects.filter(email_index=email_index("kari@example.no"), reason="unsubscribed").exists()
    assert mailing_counts(sent).unsubscribed == 1
    # Again: nothing more happens, and it is not counted twice.
    assert provider.post(path_of(target), {"List-Unsubscribe": "One-Click"}).status_code == 200
    sent.refresh_from_db()
    assert sent.unsubscribed == 1

    send_all(marketer)
    outbox_deliver_due()
    assert len(newsletters_to(smtp_server.messages, "kari@example.no")) == 1


def test_the_preference_page_from_the_same_link_changes_topics_and_language(client, published, marketer, smtp_server):
    subscription = confirmed("kari@example.no")
    send_all(marketer)
    outbox_deliver_due()
    (mail,) = newsletters_to(smtp_server.messages, "kari@example.no")
    preferences = path_of(mail.get_body(("plain",)).get_content().split("språk: ")[1].split()[0])
    page = client.get(preferences)
    assert page.status_code == 200 and "Innstillinger for nyhetsbrevet" in page.content.decode()
    assert client.post(preferences, {"topics": ["events"], "language": "en"}).status_code == 200
    subscription.refresh_from_db()
    assert subscription.topics == ["events"] and subscription.language == "en"
    assert client.post(preferences, {"topics": [], "language": "en"}).status_code == 400
    send_all(marketer, topic="news")
    outbox_deliver_due()
    assert len(newsletters_to(smtp_server.messages, "kari@example.no")) == 1  # no longer on "news"
    # The unsubscribe page, reached by the same token, asks once more before it acts (a GET changes nothing).
    unsubscribe = preferences.removesuffix("preferences/")
    assert client.get(unsubscribe).status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    done = client.post(unsubscribe)
    assert done.status_code == 200 and "Du er meldt av" in done.content.decode()
    assert client.get(preferences).status_code == 200  # says that the subscription has ended
    assert client.get("/newsletter/u/" + "x" * 43 + "/").status_code == 404


def test_a_send_killed_half_way_resumes_without_mailing_anyone_twice(
    published, marketer, smtp_server, settings, monkeypatch
):
    settings.VERN_NEWSLETTER_BATCH_SIZE = 2
    settings.VERN_NEWSLETTER_BATCH_SECONDS = 90
    people = [f"person{n}@example.no" for n in range(5)]
    for person in people:
        confirmed(person)
    started = services.mailing_start(mailing(marketer), staff=marketer)
    job = Job.objects.get(name="newsletter.send")
    assert job.payload == {"mailing": started.pk}

    real, calls = services.emails.newsletter, []

    def dies_on_the_second(**kwargs):
        calls.append(kwargs["to"])
        if len(calls) == 2:
            raise SystemExit("the worker was killed")
        return real(**kwargs)

    monkeypatch.setattr(services.emails, "newsletter", dies_on_the_second)
    job.status = Job.Status.RUNNING  # a worker took it …
    job.save()
    with pytest.raises(SystemExit):
        services.mailing_send_batch(started.pk)  # … and died in the middle of the batch
    monkeypatch.setattr(services.emails, "newsletter", real)
    assert Delivery.objects.count() == 1  # the one queued before the kill, with its mail

    # The job's lease runs out and a worker runs it again: it goes on where the dead one stopped.
    assert services.mailing_send_batch(started.pk) == 2
    paced = Job.objects.get(name="newsletter.send", status=Job.Status.QUEUED)
    waited = (paced.run_after - Delivery.objects.order_by("-pk").first().created_at).total_seconds()
    assert 80 <= waited <= 100  # the next batch waits VERN_NEWSLETTER_BATCH_SECONDS
    paced.delete()
    while services.mailing_send_batch(started.pk):
        Job.objects.filter(name="newsletter.send", status=Job.Status.QUEUED).delete()
    started.refresh_from_db()
    assert started.status == Mailing.Status.SENT
    outbox_deliver_due()
    received = sorted(m["To"] for m in smtp_server.messages if m["List-Unsubscribe"])
    assert received == people
    counts = mailing_counts(started)
    assert (counts.sent, counts.failed, counts.skipped, counts.recipients) == (5, 0, 0, 5)


def test_a_mailing_with_a_script_is_sent_escaped(published, marketer, smtp_server):
    confirmed("kari@example.no")
    send_all(marketer, body_nb='Se her: <script>alert("x")</script> <img src=x onerror=alert(1)>')
    outbox_deliver_due()
    (mail,) = newsletters_to(smtp_server.messages, "kari@example.no")
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_a_subject_with_a_line_break_is_refused_on_the_staff_page(client, published, marketer):
    staff_login(client, marketer)
    form = {
        "topic": "news",
        "subject_nb": "Hei\r\nBcc: everyone@example.com",
        "subject_en": "Hello",
        "body_nb": "Tekst",
        "body_en": "Text",
    }
    response = client.post("/staff/newsletter/", form)
    assert response.status_code == 400
    assert not Mailing.objects.exists()


def test_an_address_refused_for_good_is_suppressed_after_the_declared_number_of_refusals(
    published, marketer, smtp_server
):
    confirmed("bounce@example.no")
    confirmed("kari@example.no")
    for round_ in range(3):
        send_all(marketer)
        outbox_deliver_due()
        services.refusals_count()
        suppressed = Suppression.objects.filter(email_index=email_index("bounce@example.no")).exists()
        assert suppressed == (round_ == 2)
    assert Subscription.objects.get(email_index=email_index("bounce@example.no")).status == Subscription.Status.ENDED
    last = send_all(marketer)
    outbox_deliver_due()
    counts = mailing_counts(last)
    assert counts.sent == 1 and counts.recipients == 1
    assert len(newsletters_to(smtp_server.messages, "kari@example.no")) == 4
    first = Mailing.objects.order_by("pk").first()
    assert first is not None and mailing_counts(first).failed == 1


def test_marketing_and_administrators_write_preview_test_and_send_and_other_roles_get_403(
    client, published, personas, marketer, smtp_server
):
    staff_login(client, personas.sales)
    assert client.get("/staff/newsletter/").status_code == 403
    staff_login(client, personas.privacy_officer)
    assert client.get("/staff/newsletter/").status_code == 403
    assert client.post("/staff/newsletter/", {"topic": "news"}).status_code == 403

    staff_login(client, marketer)
    page = client.get("/staff/newsletter/")
    assert page.status_code == 200
    form = {"topic": "news", "subject_nb": "Nytt", "subject_en": "News", "body_nb": "Tekst", "body_en": "Text"}
    created = client.post("/staff/newsletter/", form)
    assert created.status_code == 303
    made = Mailing.objects.get()
    preview = client.get(f"/staff/newsletter/{made.pk}/").content.decode()
    assert "Nytt" in preview and "News" in preview
    assert client.post(f"/staff/newsletter/{made.pk}/test/").status_code == 303
    outbox_deliver_due()
    assert [m["To"] for m in smtp_server.messages] == ["mia@example.com"]
    assert not smtp_server.messages[0]["List-Unsubscribe"]  # a test copy: nothing to unsubscribe from
    assert client.post(f"/staff/newsletter/{made.pk}/send/").status_code == 303
    made.refresh_from_db()
    assert made.status == Mailing.Status.SENDING

    staff_login(client, personas.admin)
    assert client.get(f"/staff/newsletter/{made.pk}/").status_code == 200
    staff_login(client, personas.sales)
    assert client.get(f"/staff/newsletter/{made.pk}/").status_code == 403
    assert client.post(f"/staff/newsletter/{made.pk}/send/").status_code == 403
    assert OutboxMessage.objects.filter(kind="newsletter").count() == 1  # the test only


def test_a_subscriber_erased_during_a_send_does_not_stop_the_rest(published, marketer, smtp_server, settings):
    settings.VERN_NEWSLETTER_BATCH_SIZE = 1
    for person in ("a@example.no", "b@example.no", "c@example.no"):
        confirmed(person)
    started = services.mailing_start(mailing(marketer), staff=marketer)
    assert services.mailing_send_batch(started.pk) == 1
    Subscription.objects.filter(email_index=email_index("a@example.no")).delete()  # as an erasure does
    while services.mailing_send_batch(started.pk):
        pass
    outbox_deliver_due()
    assert sorted(m["To"] for m in smtp_server.messages if m["List-Unsubscribe"]) == [
        "a@example.no",
        "b@example.no",
        "c@example.no",
    ]
