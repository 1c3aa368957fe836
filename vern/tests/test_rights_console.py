"""The privacy officers' console: the queue by due date, registering a request (P16), and every step
through the pages, each look audited and each refusal said in words."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from vern.accounts.testing import browser_second_factor, staff_login
from vern.audit.models import Entry
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.jobs.models import Job
from vern.jobs.worker import Worker
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.rights import deadlines
from vern.rights.models import Download, Event, Request, Restriction
from vern.rights.services import intake, workflow
from vern.rights.staff_urls import urlpatterns

pytestmark = pytest.mark.django_db
EMAIL = "kari.nordmann@example.no"
BASE = "/en/staff/requests/"


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def registered(staff, rights: list[str], *, days_ago: float = 2, checked: bool = True, **extra) -> Request:
    values = {
        "channel": "email",
        "received_at": timezone.now() - dt.timedelta(days=days_ago),
        "email": EMAIL,
        "identity_checked": checked,
        **extra,
    }
    return intake.request_register(staff=staff, rights=rights, **values)


def enquiry_of(staff, email: str = EMAIL) -> Enquiry:
    return enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now() - dt.timedelta(days=3),
        intake=Intake(name="Kari Nordmann", email=email, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=False,
    )


def local(moment: dt.datetime) -> str:
    """A time as the browser's datetime-local field sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return str(response.content.decode())


def url(name: str, request: Request, **kwargs: str) -> str:
    """The English page (the tests read its texts)."""
    with translation.override("en"):
        return reverse(f"rights_staff:{name}", kwargs={"pk": request.pk, **kwargs})


def shown_after(client, response) -> str:
    """The page a step redirected to, with its message."""
    assert response.status_code == 303, response.status_code
    return page(client, response["Location"])


def references(html: str) -> list[str]:
    return re.findall(r'<td class="stack__title"><a href="/(?:en/)?staff/requests/\d+/">(R-\d+)</a>', html)


# ------------------------------------------------------------------ the queue


def test_the_queue_lists_open_requests_by_due_date_with_days_left_and_says_overdue_in_words(
    client, published, personas
):
    officer = personas.privacy_officer
    soon = registered(officer, ["erasure"], days_ago=25)
    later = registered(officer, ["erasure"], days_ago=3, email="per@example.no")
    late = registered(officer, ["erasure"], days_ago=40, email="ola@example.no")
    waiting = registered(officer, ["erasure"], checked=False, email="eva@example.no")
    staff_login(client, officer)

    html = page(client, BASE)

    assert references(html) == [f"R-{late.pk}", f"R-{soon.pk}", f"R-{later.pk}"]
    now = timezone.now()
    overdue = -deadlines.days_left(late.deadline, now)
    assert f"overdue by {overdue} days" in html and 'class="badge badge--bad"' in html
    assert f"{deadlines.days_left(soon.deadline, now)} days left" in html
    assert f"{deadlines.days_left(later.deadline, now)} days left" in html
    assert "Register a request" in html
    assert EMAIL not in html  # the list names no one
    assert references(page(client, BASE + "?view=overdue")) == [f"R-{late.pk}"]
    assert references(page(client, BASE + "?view=awaiting")) == [f"R-{waiting.pk}"]
    assert references(page(client, BASE + "?view=closed")) == []


@pytest.mark.parametrize("role", ["sales", "admin"])
@pytest.mark.parametrize("pattern", urlpatterns, ids=lambda p: p.name)
def test_sales_and_administrators_get_403_on_every_page_of_the_console(client, published, personas, role, pattern):
    request = registered(personas.privacy_officer, ["erasure", "access"])
    path = "/" + str(pattern.pattern).replace("<int:pk>", str(request.pk)).replace("<str:kind>", "access")
    staff_login(client, getattr(personas, role))
    assert client.get(BASE + path.lstrip("/")).status_code == 403
    assert client.post(BASE + path.lstrip("/")).status_code == 403
    assert not Entry.objects.filter(action="rights.viewed").exists()


# ------------------------------------------------------------------ registering (P16)


def test_registering_the_same_form_twice_makes_one_request(client, published, personas):
    staff_login(client, personas.privacy_officer)
    form = client.get(BASE + "new/").content.decode()
    nonce = re.search(r'name="nonce" value="([^"]+)"', form).group(1)
    fields = {
        "nonce": nonce,
        "channel": "letter",
        "received_at": local(timezone.now() - dt.timedelta(days=1)),
        "rights": ["access"],
        "email": "ola@example.no",
        "language": "nb",
        "identity_checked": "on",
    }
    first, second = client.post(BASE + "new/", fields), client.post(BASE + "new/", fields)
    assert Request.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_P16_a_request_by_telephone_last_week_is_due_counted_from_the_day_it_came(client, published, personas):
    staff_login(client, personas.privacy_officer)
    received = timezone.now() - dt.timedelta(days=7)
    response = client.post(
        BASE + "new/",
        {
            "channel": "phone",
            "received_at": local(received),
            "rights": ["erasure", "objection"],
            "marketing_objection": "on",
            "email": "",
            "phone": "41 23 45 67",
            "language": "nb",
            "details": "Ringte og ba oss slette alt og ikke sende reklame.",
            "identity_checked": "on",
        },
    )
    request = Request.objects.get()
    assert response["Location"] == f"/en/staff/requests/{request.pk}/"
    assert request.channel == "phone" and request.registered_by == personas.privacy_officer
    assert request.status == Request.Status.CONFIRMED and request.phone_verified
    assert local(request.received_at) == local(received)
    assert request.due_on == deadlines.due_on(received)  # from the call, not from the typing
    assert request.due_on < deadlines.due_on(timezone.now())
    assert request.marketing_objection
    html = shown_after(client, response)
    assert "The request is registered and confirmed." in html
    assert f"{deadlines.days_left(request.due_on, timezone.now())} days left" in html


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"email": "", "phone": "41 23 45 67"}, "Without an email address no confirmation link can be sent"),
        ({"email": ""}, "Give an email address or a phone number, so that we can answer."),
        ({"received_at": "2999-01-01T10:00"}, "The time received cannot be in the future."),
        ({"received_at": "2001-01-01T10:00"}, "The time received is more than a year ago."),
        ({"rights": []}, "Choose at least one of the rights."),
        ({"email": "not-an-address"}, "Enter a valid email address"),
    ],
)
def test_registering_refuses_in_words_and_stores_nothing(client, published, personas, fields, message):
    staff_login(client, personas.privacy_officer)
    form = {
        "channel": "letter",
        "received_at": local(timezone.now() - dt.timedelta(days=1)),
        "rights": ["access"],
        "email": EMAIL,
        "phone": "",
        "language": "en",
        **fields,
    }
    response = client.post(BASE + "new/", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Request.objects.exists()


def test_a_registered_request_without_a_checked_identity_sends_the_confirmation_link(client, published, personas):
    staff_login(client, personas.privacy_officer)
    form = {
        "channel": "email",
        "received_at": local(timezone.now() - dt.timedelta(hours=3)),
        "rights": ["access"],
        "email": EMAIL,
        "language": "en",
    }
    html = shown_after(client, client.post(BASE + "new/", form))
    assert "A confirmation link has gone to the person" in html
    assert Request.objects.get().status == Request.Status.AWAITING_CONFIRMATION
    assert OutboxMessage.objects.get(kind="rights_confirm").to_address == EMAIL
    assert "Waiting for the person to confirm the request" in html


# ------------------------------------------------------------------ one request


def test_the_detail_page_shows_the_person_and_the_timeline_and_every_look_is_audited(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure", "rectification"], details="Slett alt om meg.")
    staff_login(client, personas.privacy_officer)

    html = page(client, url("detail", request))

    assert f"Request R-{request.pk}" in html and EMAIL in html and "Slett alt om meg." in html
    assert "Received" in html and "Confirmed" in html and "identity checked by staff" in html
    assert "Pia Personvern" in html  # who registered it, in the timeline and as assignee
    entry = Entry.objects.get(action="rights.viewed")
    assert entry.actor_id == personas.privacy_officer.pk and entry.subject_key == email_index(EMAIL)
    assert entry.object_id == str(request.pk) and EMAIL not in str(entry.data)
    page(client, url("detail", request))
    assert Entry.objects.filter(action="rights.viewed").count() == 2


def test_discovery_lists_every_registered_model_and_says_what_an_unverified_phone_leaves_out(
    client, published, personas
):
    enquiry_of(personas.sales)
    request = registered(personas.privacy_officer, ["access"], checked=False, phone="41 23 45 67")
    # Confirmed by the link: the phone number is given but nobody has checked it.
    Request.objects.filter(pk=request.pk).update(status=Request.Status.CONFIRMED, verified_at=timezone.now())
    staff_login(client, personas.privacy_officer)

    html = page(client, url("detail", request))

    assert "What we hold about the person" in html
    assert re.search(r"Enquiries</td>\s*<td[^>]*><strong>1</strong>", html)
    assert not re.search(r"\b(enquiries|audit|rights|consent|analytics|mail)\.[A-Z][A-Za-z]+\b", html)
    assert "Rights requests" in html and "Audit log" in html
    assert "records found only by the phone number are not included" in html
    response = client.post(url("verify_phone", request))
    assert "The phone number is verified" in shown_after(client, response)
    request.refresh_from_db()
    assert request.phone_verified
    assert "records found only by the phone number are not included" not in page(client, url("detail", request))


def test_start_assign_and_note_work_through_the_console(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure"])
    other = personas.privacy_officer.__class__.objects.create_user(email="ola@example.com", password=None, name="Ola")
    other.role_grants.create(role="privacy_officer")
    staff_login(client, personas.privacy_officer)

    assert "Start work" in page(client, url("detail", request))
    assert "Work on the request has started." in shown_after(client, client.post(url("start", request)))
    request.refresh_from_db()
    assert request.status == Request.Status.IN_PROGRESS
    html = page(client, url("detail", request))
    assert "Start work" not in html  # not offered twice
    # A second click (another tab) is refused in words, not with an error page.
    assert "not possible in the request" in shown_after(client, client.post(url("start", request)))

    assert "assigned to Ola" in shown_after(client, client.post(url("assign", request), {"assignee": other.pk}))
    request.refresh_from_db()
    assert request.assigned_to == other
    assert "assigned to you" in shown_after(client, client.post(url("assign", request), {"me": "1"}))
    request.refresh_from_db()
    assert request.assigned_to == personas.privacy_officer

    html = shown_after(client, client.post(url("note", request), {"note": "Ringte tilbake, venter på svar."}))
    assert "The note is added" in html and "Ringte tilbake, venter på svar." in html
    empty = client.post(url("note", request), {"note": "  "})
    assert empty.status_code == 400 and "Write the note first." in empty.content.decode()
    kinds = list(Event.objects.filter(request=request).order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[-4:] == ["started", "assigned", "assigned", "note"]
    assert Entry.objects.filter(action__in=["rights.started", "rights.assigned", "rights.noted"]).count() == 4


def test_an_extension_before_the_due_date_tells_the_person_the_date_and_the_reasons(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure"])
    staff_login(client, personas.privacy_officer)
    html = page(client, url("detail", request))
    latest = deadlines.latest_extension(request.due_on)
    assert "Extend the deadline" in html and f'max="{latest.isoformat()}"' in html
    until = request.due_on + dt.timedelta(days=30)

    too_far = client.post(
        url("extend", request), {"until": (latest + dt.timedelta(days=1)).isoformat(), "reason": "x" * 30}
    )
    assert too_far.status_code == 400 and "at most two months" in too_far.content.decode()

    reason = "Vi har mottatt svært mange forespørsler denne måneden."
    html = shown_after(client, client.post(url("extend", request), {"until": until.isoformat(), "reason": reason}))
    assert "The deadline is extended" in html
    request.refresh_from_db()
    assert request.status == Request.Status.EXTENDED and request.extended_to == until
    mail = OutboxMessage.objects.get(kind="rights_extended")
    assert mail.to_address == EMAIL and reason in mail.body_text
    assert "Extend the deadline" not in page(client, url("detail", request))  # once only


def test_an_extension_after_the_due_date_is_refused_and_the_page_says_why(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure"], days_ago=40)
    staff_login(client, personas.privacy_officer)
    html = page(client, url("detail", request))
    assert "Extend the deadline" not in html and "can no longer be extended" in html
    until = deadlines.latest_extension(request.due_on)
    response = client.post(
        url("extend", request), {"until": until.isoformat(), "reason": "Many requests at once here."}
    )
    assert response.status_code == 400
    assert "The due date has passed." in response.content.decode()
    request.refresh_from_db()
    assert request.status == Request.Status.CONFIRMED and request.extended_to is None
    assert not OutboxMessage.objects.filter(kind="rights_extended").exists()


def test_refusing_without_a_justification_shows_the_error_and_changes_nothing(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure"])
    staff_login(client, personas.privacy_officer)
    html = page(client, url("refuse", request))
    assert "Manifestly unfounded" in html and "Refuse and tell the person" in html
    response = client.post(url("refuse", request), {"ground": "unfounded", "justification": ""})
    assert response.status_code == 400
    assert "A refusal needs a written justification" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Request.Status.CONFIRMED and request.refusal_ground == ""
    assert not OutboxMessage.objects.filter(kind="rights_refused").exists()

    justification = "Samme forespørsel er sendt tolv ganger denne uken, og besvart hver gang."
    response = client.post(url("refuse", request), {"ground": "excessive", "justification": justification})
    assert "The request is refused" in shown_after(client, response)
    request.refresh_from_db()
    assert request.status == Request.Status.REFUSED and request.refusal_ground == "excessive"
    assert justification in OutboxMessage.objects.get(kind="rights_refused").body_text


def test_answering_closes_the_request_and_queues_the_answer(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure"])
    staff_login(client, personas.privacy_officer)
    html = page(client, url("answer", request))
    assert "Send the answer and close" in html and EMAIL in html
    assert Entry.objects.filter(action="rights.viewed", data={"page": "answer"}).exists()
    response = client.post(url("answer", request), {"message": "Vi har ingen flere opplysninger om deg."})
    assert "The request is answered" in shown_after(client, response)
    request.refresh_from_db()
    assert request.status == Request.Status.ANSWERED and request.closed_at is not None
    mail = OutboxMessage.objects.get(kind="rights_answered")
    assert mail.to_address == EMAIL and "Vi har ingen flere opplysninger om deg." in mail.body_text


def test_a_closed_request_offers_no_step_and_a_step_sent_anyway_is_refused_in_words(client, published, personas):
    request = registered(personas.privacy_officer, ["erasure", "objection"])
    workflow.request_answer(request=request, staff=personas.privacy_officer, message="")
    staff_login(client, personas.privacy_officer)
    html = page(client, url("detail", request))
    for button in ("Start work", "Answer…", "Refuse…", "Assign to me", "Erasure: preview", "Decide on the objection"):
        assert button not in html, button
    assert "not possible in the request" in page(client, url("answer", request))
    response = client.post(url("refuse", request), {"ground": "unfounded", "justification": "x" * 40})
    assert response.status_code == 400 and "not possible in the request" in response.content.decode()
    assert "The request is closed" in shown_after(client, client.post(url("assign", request), {"me": "1"}))
    assert references(page(client, BASE + "?view=closed")) == [f"R-{request.pk}"]


# ------------------------------------------------------------------ erasure, rectification, objection, restriction


def test_the_erasure_preview_lists_the_models_and_carrying_it_out_shows_the_receipt(client, published, personas):
    enquiry = enquiry_of(personas.sales)
    request = registered(personas.privacy_officer, ["erasure"])
    staff_login(client, personas.privacy_officer)

    html = page(client, url("erasure", request))
    assert "Erasure: what will happen" in html
    assert re.search(r"Enquiries</td>\s*<td[^>]*>Deleted", html)
    assert "enquiries.Enquiry" not in html and "audit.Entry" not in html
    assert "Kept, and why" in html and "Audit log" in html and "Art. 5(2)" in html
    assert Entry.objects.filter(action="rights.viewed", data={"page": "erasure"}).exists()

    unconfirmed = client.post(url("erasure", request), {})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.content.decode()
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()

    html = shown_after(client, client.post(url("erasure", request), {"confirm": "on"}))
    assert "handed to the background worker, which erases the person&#x27;s data as the preview showed" in html
    assert "Erasure under way" in html and "Erase the person&#x27;s data" not in html
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()  # until the worker has run
    again = client.post(url("erasure", request), {"confirm": "on"})  # a second click queues nothing more
    assert again.status_code == 400 and Job.objects.filter(name="rights.erase").count() == 1

    Worker(burst=True, manage_connections=False).run()
    html = page(client, url("erasure", request))
    assert "Erasure receipt" in html
    assert re.search(r"Enquiries</td><td[^>]*>Has been deleted</td><td[^>]*>1<", html)
    assert not Enquiry.objects.filter(pk=enquiry.pk).exists()
    detail = page(client, url("detail", request))
    assert "Erasure carried out" in detail and "Erasure: preview" not in detail
    assert "Erasure handed to the worker" in detail


def test_a_record_is_corrected_through_the_console_and_the_recipients_to_tell_are_shown(client, published, personas):
    enquiry = enquiry_of(personas.sales)
    request = registered(personas.privacy_officer, ["rectification"])
    staff_login(client, personas.privacy_officer)

    html = page(client, url("rectify", request))
    assert f"?record=enquiries.Enquiry:{enquiry.pk}" in html
    assert "rights.Request" not in html  # records kept as evidence are not corrected
    html = page(client, url("rectify", request) + f"?record=enquiries.Enquiry:{enquiry.pk}")
    assert "Bergen kommune" in html and '<option value="organisation">' in html

    form = {"record": f"enquiries.Enquiry:{enquiry.pk}", "field": "organisation", "value": "Bjørnafjorden kommune"}
    html = shown_after(client, client.post(url("rectify", request), form))
    assert "The field is corrected." in html and "Art. 19" in html
    enquiry.refresh_from_db()
    assert enquiry.organisation == "Bjørnafjorden kommune"
    request.refresh_from_db()
    assert "rectification" in request.done

    missing = client.post(url("rectify", request), {**form, "record": "enquiries.Enquiry:999999"})
    assert missing.status_code == 400 and "There is no such record of this person." in missing.content.decode()


def test_an_objection_overridden_needs_grounds_and_an_upheld_one_is_recorded(client, published, personas):
    request = registered(personas.privacy_officer, ["objection"])
    staff_login(client, personas.privacy_officer)
    assert "Decide on the objection" in page(client, url("detail", request))
    response = client.post(url("objection", request), {"decision": "overridden", "grounds": ""})
    assert response.status_code == 400 and "compelling legitimate grounds" in response.content.decode()
    request.refresh_from_db()
    assert "objection" not in request.done
    html = shown_after(client, client.post(url("objection", request), {"decision": "upheld", "grounds": ""}))
    assert "The decision on the objection is recorded." in html and "Objection decided" in html
    request.refresh_from_db()
    assert "objection" in request.done


def test_the_end_of_a_restriction_is_announced_to_the_person_first(client, published, personas):
    request = registered(personas.privacy_officer, ["restriction"])
    restriction = Restriction.objects.get(subject_key=email_index(EMAIL))
    staff_login(client, personas.privacy_officer)
    assert "In force since" in page(client, url("restriction", request))
    today = timezone.localdate()
    response = client.post(url("restriction", request), {"lift_on": today.isoformat()})
    assert response.status_code == 400 and "choose a day after today" in response.content.decode()
    lift_on = today + dt.timedelta(days=14)
    html = shown_after(client, client.post(url("restriction", request), {"lift_on": lift_on.isoformat()}))
    assert "The person has been told that the restriction ends on" in html
    restriction.refresh_from_db()
    assert restriction.lift_at is not None and restriction.lifted_at is None
    assert OutboxMessage.objects.get(kind="rights_restriction_ending").to_address == EMAIL


def test_the_download_link_can_be_sent_again_and_only_for_a_package_the_request_asks_for(client, published, personas):
    request = registered(personas.privacy_officer, ["access"])
    assert Download.objects.filter(request=request).count() == 1  # offered when it was confirmed
    staff_login(client, personas.privacy_officer)
    assert "Send a new access link" in page(client, url("detail", request))
    html = shown_after(client, client.post(url("package", request, kind="access")))
    assert "A new download link has been sent" in html
    assert Download.objects.filter(request=request, kind="access").count() == 2
    assert OutboxMessage.objects.filter(kind="rights_download_ready").count() == 2
    html = shown_after(client, client.post(url("package", request, kind="portability")))
    assert "does not ask for this right" in html
    assert client.post(url("package", request, kind="everything")).status_code == 404
    assert client.get(url("package", request, kind="access")).status_code == 405


# ------------------------------------------------------------------ in a browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_console_reads_well_at_desktop_and_phone_widths_and_passes_axe(browser_page, default_source):
    import axe_playwright_python

    from conftest import VIEWPORTS, screenshot
    from vern.accounts.services import staff_create
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    axe = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    password = "correct horse battery staple 42"
    declaration_publish(source=default_source, actor=Actor.cli())
    officer = staff_create(
        email="pia@example.com",
        name="Pia Personvern",
        roles=["privacy_officer"],
        language="en",
        password=password,
        actor=Actor.cli(),
    )
    enquiry_of(officer)
    registered(officer, ["erasure"], days_ago=40, email="ola.nordmann@example.no")
    shown = registered(
        officer,
        ["access", "erasure", "objection"],
        days_ago=12,
        phone="41 23 45 67",
        checked=True,
        details="Jeg vil vite hva dere har om meg, og så vil jeg at dere sletter det.",
    )
    shown.refresh_from_db()
    assert shown.status == Request.Status.IN_PROGRESS  # the copy went out by itself: work has started
    workflow.request_note(request=shown, staff=officer, note="Ringte tilbake på nummeret vi har.")
    registered(officer, ["rectification"], days_ago=1, email="eva@example.no", checked=False)

    page_ = browser_page
    page_.goto(page_.base + "/en/staff/login/")
    page_.get_by_label("Email address").fill("pia@example.com")
    page_.get_by_label("Password").fill(password)
    page_.get_by_role("button", name="Log in").click()
    browser_second_factor(page_, "pia@example.com")
    page_.wait_for_url(page_.base + "/en/staff/")
    for path, name in ((BASE, "queue"), (f"{BASE}{shown.pk}/", "detail"), (f"{BASE}{shown.pk}/erasure/", "erasure")):
        page_.goto(page_.base + path)
        for width, size in VIEWPORTS.items():
            page_.set_viewport_size(size)
            page_.reload()
            page_.evaluate(axe)
            violations = page_.evaluate("axe.run({include: [['main']]}).then(r => r.violations.map(v => v.id))")
            assert violations == [], (name, width, violations)
            screenshot(page_, f"rights-{name}-{width}")
    assert page_.watch.console_errors == []
