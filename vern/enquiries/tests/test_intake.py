"""The contact and demo forms: what they ask, what they keep, and what they refuse (P3, P5)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.declaration.loading import DeclarationInvalid, parse
from vern.declaration.models import PolicyVersion
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry, SearchTerm
from vern.enquiries.tests.helpers import CONTACT, FailingOutbox, aged_token, demo_fields, send
from vern.lib.keys import email_index, phone_index
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits_left_over():
    cache.clear()


def inputs(html: str) -> set[str]:
    form = html.split('class="intake__form"', 1)[1].split("</form>", 1)[0]
    return set(re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', form))


def nothing_stored() -> bool:
    return (
        not Enquiry.objects.exists()
        and not SearchTerm.objects.exists()
        and not OutboxMessage.objects.exists()
        and not Entry.objects.filter(action__startswith="enquiry.").exists()
    )


def test_p3_the_forms_ask_for_exactly_what_the_policy_lists_and_no_more(client, published):
    policy_fields = {"name", "email", "phone", "organisation", "message"}
    machinery = {"token", "website"}  # the one-time token, the honeypot
    # The newsletter's own optional box: a separate consent for another purpose, unticked (issue 16).
    machinery |= {"newsletter"}
    assert inputs(client.get("/contact/").content.decode()) == policy_fields | machinery
    assert inputs(client.get("/demo/").content.decode()) == policy_fields | machinery | {
        "preferred_date",
        "preferred_time",
    }


def test_p3_an_enquiry_keeps_its_purpose_basis_and_the_policy_version_shown(client, published):
    response = send(client, "contact", CONTACT)
    assert response.status_code == 303 and response["Location"] == "/contact/thanks/"
    enquiry = Enquiry.objects.get()
    assert (enquiry.kind, enquiry.channel, enquiry.status) == ("contact", "form", "new")
    assert (enquiry.purpose, enquiry.legal_basis, enquiry.policy_version) == ("enquiries", "f", published.number)
    assert enquiry.name == "Kari Nordmann" and enquiry.organisation == "Bergen kommune"
    assert enquiry.email == "kari.nordmann@example.no" and enquiry.phone == "+4791234567"
    assert enquiry.last_contact_at == enquiry.received_at
    entry = Entry.objects.get(action="enquiry.received")
    assert entry.subject_key == email_index("kari.nordmann@example.no")
    assert entry.data == {"kind": "contact", "channel": "form", "basis": "f", "policy_version": published.number}


def test_p5_a_demo_rests_on_pre_contractual_steps_and_a_contact_on_legitimate_interest(client, published):
    send(client, "demo", demo_fields(), lang="en")
    send(client, "contact", CONTACT)
    demo, contact = Enquiry.objects.get(kind="demo"), Enquiry.objects.get(kind="contact")
    assert demo.legal_basis == "b" and contact.legal_basis == "f"
    assert demo.language == "en" and demo.preferred_time == "morning" and demo.preferred_date is not None
    # The right to object belongs to processing on legitimate interest, and its first mail says so (R19).
    acknowledgement_of = {m.to_address: m for m in OutboxMessage.objects.filter(kind="enquiry_received")}
    assert "Retten til å protestere" in acknowledgement_of["kari.nordmann@example.no"].body_text
    assert "right to object" not in acknowledgement_of["ola@fjord-kommune.no"].body_text.lower()


def test_p5_a_basis_the_declared_purpose_does_not_allow_is_refused_and_nothing_is_stored(
    client, published, default_source
):
    only_f = default_source.replace("    legal_bases: [f, b]\n", "    legal_bases: [f]\n", 1)
    # Publishing such a declaration is refused: the code stores demo bookings on (b).
    with pytest.raises(DeclarationInvalid) as refused:
        declaration_publish(source=only_f, actor=Actor.cli())
    assert (
        "registry: enquiries.Enquiry: stores data on the legal basis (b), which the purpose 'enquiries' does not allow"
        in str([str(p) for p in refused.value.problems])
    )
    # A version that got in some other way (written by older code) still cannot make a record
    # carry that basis: the form refuses, and nothing is stored.
    content = parse(only_f).declaration.model_dump(mode="json")
    PolicyVersion.objects.create(
        number=published.number + 1,
        published_by="test",
        source=only_f,
        content=content,
        content_hash="x" * 64,
        consent_fingerprint=published.consent_fingerprint,
        consent_revision=published.consent_revision,
    )
    response = send(client, "demo", demo_fields())
    assert response.status_code == 503
    assert "kan ikke ta imot henvendelser gjennom dette skjemaet" in response.content.decode()
    assert nothing_stored()


def test_contact_details_are_encrypted_at_rest_and_found_by_their_blind_index(client, published):
    send(client, "contact", CONTACT)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, email, phone, organisation, message FROM enquiries_enquiry")
        stored = " ".join(cursor.fetchone())
    for plain in ("Kari", "Nordmann", "example.no", "91234567", "Bergen", "kommunestyre"):
        assert plain.lower() not in stored.lower()
    assert Enquiry.objects.filter(email_index=email_index("KARI.nordmann@example.NO")).count() == 1
    assert Enquiry.objects.filter(phone_index=phone_index("+47 91 23 45 67")).count() == 1


@pytest.mark.parametrize(
    "lang,field,value,message",
    [
        ("nb", "email", "kari(at)example.no", "Skriv inn en gyldig e-postadresse"),
        ("en", "email", "kari(at)example.no", "Enter a valid email address, like name@example.no."),
        ("nb", "phone", "12", "Skriv inn et gyldig telefonnummer"),
        ("en", "name", "", "Enter your name."),
        ("en", "organisation", "x" * 201, "This has at most 200 characters."),
        ("en", "message", "x" * 5001, "A message has at most 5,000 characters."),
        ("nb", "message", "", "Fortell oss hva henvendelsen gjelder."),
    ],
)
def test_a_wrong_field_is_explained_beside_it_in_the_visitors_language_and_nothing_is_lost(
    client, published, lang, field, value, message
):
    response = send(client, "contact", {**CONTACT, field: value}, lang=lang)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    field_html = html.split(f'id="id_{field}"', 1)[0].rsplit('<div class="field', 1)[1]
    assert "field--error" in field_html
    for name, typed in CONTACT.items():
        if name != field and name != "message":
            assert f'value="{typed}"' in html
    assert nothing_stored()


def test_the_phone_is_optional_for_an_enquiry_and_required_for_a_demo(client, published):
    assert send(client, "contact", {**CONTACT, "phone": ""}).status_code == 303
    response = send(client, "demo", {**demo_fields(), "phone": ""}, lang="en")
    assert response.status_code == 400 and "Enter your phone number." in response.content.decode()


@pytest.mark.parametrize(
    "when,message",
    [("past", "Choose a day after today."), ("saturday", "Choose a weekday"), ("far", "within the next six months")],
)
def test_a_demo_day_must_be_a_coming_weekday(client, published, when, message):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    day = {
        "past": today - dt.timedelta(days=1),
        "saturday": today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7),
        "far": today + dt.timedelta(days=200),
    }[when]
    response = send(client, "demo", {**demo_fields(), "preferred_date": day.isoformat()}, lang="en")
    assert response.status_code == 400 and message in response.content.decode()
    assert nothing_stored()


def test_the_honeypot_stores_nothing_and_tells_a_person_what_to_do(client, published):
    response = send(client, "contact", {**CONTACT, "website": "https://spam.example"}, lang="en")
    html = response.content.decode()
    assert response.status_code == 400 and "looked as if it was filled in automatically" in html
    assert 'name="website" id="id_website" value=""' in html  # emptied for the next try
    assert nothing_stored()


@pytest.mark.parametrize(
    "token,message",
    [
        (lambda: aged_token("contact", seconds=1), "sent very quickly after the page opened"),
        (lambda: aged_token("contact", seconds=2 * 86400), "The form was open for a long time"),
        (lambda: aged_token("demo"), "The form could not be checked"),  # a token for the other form
        (lambda: "forged", "The form could not be checked"),
    ],
)
def test_a_form_sent_too_fast_too_late_or_without_its_token_stores_nothing(client, published, token, message):
    response = send(client, "contact", CONTACT, lang="en", token=token())
    html = response.content.decode()
    assert response.status_code == 400 and message in html
    assert 'value="Kari Nordmann"' in html  # what was typed is kept for the next try
    assert nothing_stored()


def test_a_double_submit_makes_one_enquiry(client, published):
    token = aged_token("contact")
    first = send(client, "contact", CONTACT, token=token)
    second = send(client, "contact", CONTACT, token=token)
    assert first.status_code == second.status_code == 303
    assert Enquiry.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="enquiry_received").count() == 1


def test_one_network_may_send_ten_enquiries_an_hour(client, published):
    for number in range(10):
        fields = {**CONTACT, "email": f"person{number}@example.no"}
        assert send(client, "contact", fields).status_code == 303
    response = send(client, "contact", {**CONTACT, "email": "person10@example.no"}, lang="en")
    assert response.status_code == 429 and "many enquiries from your network or address" in response.content.decode()
    assert Enquiry.objects.count() == 10


def test_p24_an_address_typed_by_others_never_shuts_its_owner_out_and_gets_five_acknowledgements_a_day(
    client, published
):
    for number in range(6):  # from six networks: someone else typing Kari's address
        assert send(client, "contact", CONTACT, REMOTE_ADDR=f"198.51.{number}.7").status_code == 303
    # Kari's own enquiry is still taken, and sales still told of it; her mailbox got five mails.
    response = send(client, "contact", {**CONTACT, "email": "KARI.NORDMANN@example.no"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 303
    assert Enquiry.objects.count() == 7
    assert OutboxMessage.objects.filter(kind="enquiry_received").count() == 5


def test_a_database_error_mid_submit_stores_nothing_and_answers_politely(client, published, caplog):
    with FailingOutbox():
        response = send(client, "contact", CONTACT, lang="en")
    html = response.content.decode()
    assert response.status_code == 503
    assert "Something went wrong on our side, and nothing was saved" in html and "support@kaukus.no" in html
    assert 'value="Kari Nordmann"' in html
    assert nothing_stored()
    assert "an enquiry could not be stored" in caplog.text
    assert "kari" not in caplog.text.lower() and "disk" not in caplog.text.lower()
    # When the database is well again, the same form goes through.
    assert send(client, "contact", CONTACT).status_code == 303


def test_an_oversized_body_is_refused_before_it_is_read(published):
    strict = Client(enforce_csrf_checks=True)  # no middleware may read the body first either
    response = send(strict, "contact", {**CONTACT, "message": "x" * 70_000}, lang="en")
    assert response.status_code == 413
    assert "The enquiry is too long. A message may have at most 5,000 characters." in response.content.decode()
    assert nothing_stored()


def test_bytes_that_are_not_utf8_are_refused_not_stored_mangled(client, published):
    body = "&".join(
        f"{key}={value}"
        for key, value in {
            "name": "Kari%FF%FENordmann",
            "email": "kari%40example.no",
            "organisation": "Bergen",
            "message": "Hei",
            "token": aged_token("contact"),
        }.items()
    )
    response = client.post(
        "/en/contact/", body, content_type="application/x-www-form-urlencoded", HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 400
    assert "This contains characters we cannot read" in response.content.decode()
    assert nothing_stored()


def test_script_typed_into_a_field_stays_text_on_the_page_and_in_the_mail(client, published, personas):
    evil = '<script>alert("x")</script>'
    send(client, "contact", {**CONTACT, "name": f"Eve {evil}", "message": f"Hi {evil}"})
    # Back on the form after an error, the typed text is shown escaped.
    html = send(client, "contact", {**CONTACT, "name": evil, "email": "bad"}).content.decode()
    assert evil not in html and "&lt;script&gt;" in html
    staff_login(client, personas.sales)
    enquiry = Enquiry.objects.get()
    for page in ("/staff/enquiries/", f"/staff/enquiries/{enquiry.pk}/"):
        staff_html = client.get(page).content.decode()
        assert evil not in staff_html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in staff_html
    for message in OutboxMessage.objects.all():
        assert evil not in message.body_html
    acknowledgement = OutboxMessage.objects.get(kind="enquiry_received")
    assert "Hei Eve &lt;script&gt;" in acknowledgement.body_html
    assert f"Hei Eve {evil}," in acknowledgement.body_text  # plain text is not HTML: shown as typed


def test_the_visitor_is_acknowledged_and_sales_is_told_without_the_content(client, published, personas):
    send(client, "contact", CONTACT, lang="en")
    ack = OutboxMessage.objects.get(kind="enquiry_received")
    assert ack.to_address == "kari.nordmann@example.no" and ack.language == "en"
    assert ack.subject == "We have received your enquiry"
    assert "Hva koster det" not in ack.body_text  # whoever typed the address does not get the message mailed
    assert (
        "up to 24 months after the last contact, unless the enquiry leads to a customer relationship" in ack.body_text
    )
    assert "Your right to object" in ack.body_text and "support@kaukus.no" in ack.body_text
    notice = OutboxMessage.objects.get(kind="enquiry_notification")
    assert notice.to_address == personas.sales.email  # sales only, not the privacy officer or admin
    enquiry = Enquiry.objects.get()
    assert f"/staff/enquiries/{enquiry.pk}/" in notice.body_text
    for secret in ("Kari", "Bergen", "Hva koster", "91234567"):
        assert secret not in notice.body_text and secret not in notice.body_html


def test_the_notification_never_carries_the_content_even_where_an_old_declaration_allowed_it(
    client, default_source, settings
):
    """Issue 21: a copy of the enquiry in a mailbox escapes its retention rule and the person's rights;
    the notification is a link only, whatever ``notification_includes_content`` says."""
    settings.VERN_ENQUIRY_NOTIFY = ["salg@kaukus.no"]
    source = default_source.replace("notification_includes_content: false", "notification_includes_content: true")
    declaration_publish(source=source, actor=Actor.cli())
    send(client, "contact", CONTACT)
    notice = OutboxMessage.objects.get(kind="enquiry_notification")
    assert notice.to_address == "salg@kaukus.no" and notice.language == "nb"
    for secret in ("Kari", "Nordmann", "Bergen", "Hva koster", "91234567", "912 34 567", "example.no"):
        assert secret not in notice.body_text and secret not in notice.body_html and secret not in notice.subject


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_each_form_says_what_it_collects_why_on_which_basis_and_for_how_long(client, published, lang):
    contact = client.get(f"/{'en/' if lang == 'en' else ''}contact/").content.decode()
    demo = client.get(f"/{'en/' if lang == 'en' else ''}demo/").content.decode()
    notice = contact.split('id="collection-notice"', 1)[1].split("</div>", 1)[0]
    if lang == "en":
        assert "Kaukus AS uses your name, email address, phone number if you give it" in notice
        assert "Legal basis: Legitimate interest (f)." not in notice  # lower case in a sentence
        assert "legitimate interest (f)" in notice and "You may object to this at any time." in notice
        assert "We keep them up to 24 months after the last contact" in notice
        assert "pre-contractual steps or a contract (b)" in demo and "You may object" not in demo
    else:
        assert "Kaukus AS bruker navnet ditt" in notice and "berettiget interesse (f)" in notice
        assert "inntil 24 måneder etter siste kontakt" in notice
    assert 'href="/en/privacy/"' in notice if lang == "en" else 'href="/privacy/"' in notice


def test_the_form_page_sets_no_cookie_and_is_never_kept_by_a_cache(client, published):
    response = client.get("/contact/")
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


def test_a_visitor_who_blocks_cookies_can_still_send_the_form(published):
    strict = Client(enforce_csrf_checks=True)  # Django's CSRF check is on, and no cookie is ever sent
    response = send(strict, "contact", CONTACT)
    assert response.status_code == 303
    assert Enquiry.objects.count() == 1


@pytest.mark.parametrize("headers", [{"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_ORIGIN": None}])
def test_a_form_posted_from_another_site_is_refused_and_stores_nothing(client, published, headers):
    extra = {key: value for key, value in headers.items() if value is not None}
    if not extra:
        response = client.post("/en/contact/", {**CONTACT, "token": aged_token("contact")})
    else:
        response = send(client, "contact", CONTACT, lang="en", **extra)
    assert response.status_code == 403
    assert "Send the form from our own pages." in response.content.decode()
    assert nothing_stored()


def test_a_refused_or_failed_form_costs_nothing_against_the_limit(client, published):
    for _ in range(6):  # typos
        assert send(client, "contact", {**CONTACT, "phone": "12"}).status_code == 400
    with FailingOutbox():
        assert send(client, "contact", CONTACT).status_code == 503
    for _ in range(10):
        assert send(client, "contact", CONTACT).status_code == 303
    assert send(client, "contact", CONTACT).status_code == 429
    assert Enquiry.objects.count() == 10


def test_fixing_a_mistake_quickly_is_not_too_fast(client, published):
    token = aged_token("contact", seconds=1)
    html = send(client, "contact", CONTACT, token=token).content.decode()
    assert "sendt svært raskt" in html
    assert f'name="token" value="{token}"' in html  # the same token: its clock keeps running
    assert send(client, "contact", CONTACT, token=aged_token("contact", seconds=4)).status_code == 303


def test_nobody_to_tell_of_a_new_enquiry_is_logged_without_personal_data(client, published, caplog):
    send(client, "contact", CONTACT)
    assert "came in and no one is told" in caplog.text
    assert "kari" not in caplog.text.lower() and "bergen" not in caplog.text.lower()


def test_a_notification_about_an_enquiry_is_found_by_the_enquirers_address(client, default_source, settings):
    from vern.registry.selectors import records_of

    settings.VERN_ENQUIRY_NOTIFY = ["salg@kaukus.no"]
    declaration_publish(source=default_source, actor=Actor.cli())
    send(client, "contact", CONTACT)
    found = {
        f.entry.label: sorted(r.kind for r in f.records)
        for f in records_of(email="kari.nordmann@example.no")
        if f.entry.label == "mail.OutboxMessage"
    }
    assert found == {"mail.OutboxMessage": ["enquiry_notification", "enquiry_received"]}
