"""The privacy center's public pages: the request form, the confirmation link and the download link.

Whoever types an address may not own it (LAW.md §3): the answer on screen is the same for
every address, the link goes only to that address and says nothing about the person, and
nothing happens until the link is used, by a POST, within 72 hours.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.apps import apps
from django.test import Client
from django.utils import timezone

from vern.audit.models import Entry
from vern.lib.keys import email_index
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.rights import texts
from vern.rights.models import Request, Right
from vern.testing import wait_for

pytestmark = pytest.mark.django_db

CENTER = "/privacy/requests/"
CENTER_EN = "/en/privacy/requests/"
TOKENS = re.compile(r'(name="(?:csrfmiddlewaretoken|token)" value=")[^"]*(")')


def ask(client: Client, rights: list[str], email: str, *, lang: str = "nb", **more: str) -> object:
    return client.post(CENTER_EN if lang == "en" else CENTER, {"rights": rights, "email": email, **more})


def without_tokens(html: bytes) -> bytes:
    """A page with its per-response form tokens (CSRF, the consent banner's) blanked out."""
    return TOKENS.sub(r"\1\2", html.decode()).encode()


def someone_with_an_enquiry(email: str) -> object:
    """A person we hold data about (the model is reached through the registry, not imported)."""
    enquiry_model = apps.get_model("enquiries", "Enquiry")
    return enquiry_model.objects.create(
        kind="contact",
        channel="email",
        name="Kari Nordmann",
        email=email,
        email_index=email_index(email),
        phone="+4791234567",
        organisation="Bergen kommune",
        message="Hva koster det?",
        legal_basis="f",
        policy_version=1,
    )


def link_path(body: str, name: str) -> str:
    found = re.search(r"https?://\S+/" + name + r"/[A-Za-z0-9_-]+/", body)
    assert found, f"no {name} link in the mail"
    return urlsplit(found.group(0)).path


def confirmation_link(address: str) -> str:
    mail = OutboxMessage.objects.get(kind="rights_confirm", to_index=email_index(address))
    return link_path(mail.body_text, "confirm")


# ------------------------------------------------------------------ the form


def test_the_form_lists_the_seven_rights_as_the_policy_describes_them_in_norwegian(client, published):
    page = client.get(CENTER)
    html = page.content.decode()
    assert page.status_code == 200 and '<html lang="nb">' in html
    assert set(re.findall(r'name="rights" value="([a-z_]+)"', html)) == set(Right.values)
    for name, description in [
        ("Innsyn", "Du kan be om informasjon om hvilke opplysninger vi har om deg, og få en kopi."),
        ("Dataportabilitet", "Du kan be om å få opplysningene dine i et strukturert, maskinlesbart format."),
        ("Trekke samtykke", "Der behandlingen bygger på samtykke, kan du når som helst trekke samtykket tilbake."),
    ]:
        assert name in html and description in html
    fields = set(
        re.findall(
            r'<(?:input|textarea)[^>]*name="([^"]+)"', html.split('class="intake__form', 1)[1].split("</form>", 1)[0]
        )
    )
    assert fields == {"csrfmiddlewaretoken", "rights", "marketing_objection", "email", "phone", "details"}


def test_the_form_lists_the_rights_in_english_under_en(client, published):
    html = client.get(CENTER_EN).content.decode()
    assert '<html lang="en">' in html
    assert "You may request to receive your data in a structured, machine-readable format." in html
    assert "I object to direct marketing" in html
    assert "We answer within 30 days of receiving the request." in html


def test_p16_the_form_says_requests_may_also_come_by_email_to_the_declared_address(client, published):
    for path in (CENTER, CENTER_EN):
        html = client.get(path).content.decode()
        assert 'href="mailto:support@kaukus.no"' in html


def test_p17_the_form_page_names_datatilsynet_with_address_email_and_website(client, published):
    html = client.get(CENTER).content.decode()
    assert "Datatilsynet" in html and "Postboks 458 Sentrum, 0105 Oslo" in html
    assert 'href="mailto:postkasse@datatilsynet.no"' in html and 'href="https://www.datatilsynet.no"' in html


def test_without_a_published_policy_the_page_says_to_write_instead_and_has_no_form(client, db):
    page = client.get(CENTER_EN)
    assert page.status_code == 200
    assert (
        "write to us by email instead" in page.content.decode()
        and "<form" not in page.content.decode().split("<main", 1)[1].split("</main>", 1)[0]
    )


def test_the_form_is_protected_against_cross_site_posts(published):
    forger = Client(enforce_csrf_checks=True)
    response = forger.post(CENTER, {"rights": ["access"], "email": "kari@example.no"})
    assert response.status_code == 403 and not Request.objects.exists()


# ------------------------------------------------------------------ sending a request


def test_a_known_and_an_unknown_address_get_byte_identical_answers_and_one_link_each(published):
    someone_with_an_enquiry("kari@example.no")
    answers = []
    for address in ("kari@example.no", "nobody@example.no"):
        visitor = Client()
        visitor.get(CENTER)
        posted = visitor.post(CENTER, {"rights": ["access", "erasure"], "email": address, "details": "Slett alt."})
        shown = visitor.get(posted["Location"])
        answers.append((posted.status_code, posted["Location"], posted.content, shown.status_code, shown.content))
    known, unknown = answers
    assert known[:3] == unknown[:3] == (303, "/privacy/requests/sent/", b"")
    assert known[3] == unknown[3] == 200
    assert without_tokens(known[4]) == without_tokens(unknown[4])
    assert "Hvis adressen er din" in known[4].decode() or "If the address is yours" in known[4].decode()

    for address in ("kari@example.no", "nobody@example.no"):
        (mail,) = OutboxMessage.objects.filter(to_index=email_index(address))
        assert mail.kind == "rights_confirm"
        for personal in ("Kari", "Nordmann", "Bergen", "Slett alt", "4791234567", address, "kari", "nobody"):
            assert personal not in mail.subject + mail.body_text + mail.body_html
    requests = Request.objects.order_by("pk")
    assert [r.status for r in requests] == ["awaiting_confirmation"] * 2
    assert [r.rights for r in requests] == [["access", "erasure"]] * 2


def test_the_request_keeps_what_was_given_and_counts_from_now(client, published):
    ask(client, ["rectification"], " Kari@Example.no ", phone="912 34 567", details="Navnet er feil.", lang="en")
    request = Request.objects.get()
    assert (request.email, request.phone, request.details) == ("kari@example.no", "+4791234567", "Navnet er feil.")
    assert (request.channel, request.language, request.consent_id) == ("form", "en", "")
    assert request.email_index == email_index("kari@example.no")
    assert request.due_on > timezone.localdate()
    assert Entry.objects.get(action="rights.received").subject_key == request.email_index


def test_an_objection_to_direct_marketing_alone_is_an_objection(client, published):
    ask(client, [], "kari@example.no", marketing_objection="on")
    request = Request.objects.get()
    assert request.rights == ["objection"] and request.marketing_objection


def test_a_bad_email_is_refused_with_400_and_a_norwegian_message_on_the_norwegian_page(client, published):
    response = ask(client, ["access"], "kari(at)example.no")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Skriv inn en gyldig e-postadresse, for eksempel navn@eksempel.no." in html
    assert 'value="kari(at)example.no"' in html  # kept in the field, to correct
    assert not Request.objects.exists() and not OutboxMessage.objects.exists()


def test_a_request_without_a_right_or_an_email_is_refused_beside_each_field(client, published):
    response = ask(client, [], "", lang="en")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose at least one of the rights." in html and "Enter your email address." in html
    assert not Request.objects.exists() and not OutboxMessage.objects.exists()


def test_a_bad_phone_number_and_an_unknown_right_are_refused(client, published):
    assert ask(client, ["access"], "kari@example.no", phone="not a number", lang="en").status_code == 400
    assert ask(client, ["everything"], "kari@example.no", lang="en").status_code == 400
    assert not Request.objects.exists()


def test_an_address_is_sent_at_most_six_confirmation_mails_a_day_then_429_in_the_visitors_language(client, published):
    for number in range(6):  # from six networks, so only the address's own cap is reached
        assert ask(client, ["access"], "kari@example.no", REMOTE_ADDR=f"198.51.{number}.7").status_code == 303
    norwegian = ask(client, ["access"], "kari@example.no", REMOTE_ADDR="203.0.113.1")
    english = ask(client, ["access"], "kari@example.no", lang="en", REMOTE_ADDR="203.0.113.2")
    assert norwegian.status_code == english.status_code == 429
    assert "Vi har fått flere forespørsler fra deg" in norwegian.content.decode()
    assert "We have had several requests from you in a short time" in english.content.decode()
    assert "support@kaukus.no" in english.content.decode()
    assert Request.objects.count() == 6 and OutboxMessage.objects.count() == 6
    # Another address is not held up by the first one's cap.
    assert ask(client, ["access"], "ola@example.no", REMOTE_ADDR="203.0.113.3").status_code == 303


def test_one_network_may_send_ten_requests_an_hour_whatever_the_addresses(client, published):
    for number in range(10):
        assert ask(client, ["access"], f"person{number}@example.no").status_code == 303
    assert ask(client, ["access"], "someone.else@example.no").status_code == 429
    assert Request.objects.count() == 10


def test_p24_unconfirmed_requests_with_someones_address_do_not_block_their_own_confirmed_request(published):
    # Someone else types Kari's address three times; the links reach only Kari, who ignores them.
    stranger = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(3):
        assert ask(stranger, ["erasure"], "kari@example.no").status_code == 303
    planted = set(OutboxMessage.objects.values_list("pk", flat=True))
    kari = Client(REMOTE_ADDR="198.51.100.20")
    assert ask(kari, ["access"], "kari@example.no", lang="en").status_code == 303
    mail = OutboxMessage.objects.exclude(pk__in=planted).get(kind="rights_confirm")
    confirmed = kari.post(link_path(mail.body_text, "confirm"))
    assert confirmed.status_code == 200 and "Your request is confirmed" in confirmed.content.decode()
    assert Request.objects.filter(status="awaiting_confirmation").count() == 3
    assert list(Request.objects.exclude(status="awaiting_confirmation").values_list("rights", flat=True)) == [
        ["access"]
    ]


def test_p24_a_fourth_confirmed_request_for_one_address_in_a_day_waits_for_the_next_day(client, published):
    start = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        links = []
        for right in ("access", "portability", "rectification", "erasure"):
            assert ask(client, [right], "kari@example.no", lang="en").status_code == 303
            mail = OutboxMessage.objects.filter(kind="rights_confirm").order_by("-pk").first()
            assert mail is not None
            links.append(link_path(mail.body_text, "confirm"))
        for link in links[:3]:
            assert client.post(link).status_code == 200
        refused = client.post(links[3])
        html = refused.content.decode()
        assert refused.status_code == 429 and "Not confirmed yet" in html and "support@kaukus.no" in html
        assert Request.objects.filter(status="awaiting_confirmation").count() == 1
        clock.shift(dt.timedelta(days=1))  # the next day, within the link's three days
        assert "Your request is confirmed" in client.post(links[3]).content.decode()
    assert not Request.objects.filter(status="awaiting_confirmation").exists()


def test_a_request_carries_the_consent_id_of_the_visitors_signed_cookie_and_the_form_says_so(client, published):
    page = client.get(CENTER_EN).content.decode()
    assert "the id of the cookie choice" not in page
    fields = dict(re.findall(r'<input type="hidden" name="(token|revision|version)" value="([^"]*)"', page))
    chosen = client.post(
        "/en/consent/",
        {**fields, "choice": "reject_all", "next": CENTER_EN, "layer": "banner"},
        HTTP_ORIGIN="http://testserver",
    )
    assert chosen.status_code == 303 and "vern_consent" in chosen.cookies
    consent_id = chosen.cookies["vern_consent"].value.split(".")[1]
    assert "the id of the cookie choice" in client.get(CENTER_EN).content.decode()
    ask(client, ["withdraw_consent"], "kari@example.no", lang="en")
    assert Request.objects.get().consent_id == consent_id


def test_a_hand_made_consent_cookie_is_not_carried(client, published):
    client.cookies["vern_consent"] = "1." + "a" * 32 + ".1.statistics.1700000000.forgedsignature00"
    assert "the id of the cookie choice" not in client.get(CENTER_EN).content.decode()
    ask(client, ["access"], "kari@example.no", lang="en")
    assert Request.objects.get().consent_id == ""


# ------------------------------------------------------------------ the confirmation link


def test_the_mailed_link_confirms_the_request_end_to_end_over_smtp(client, published, smtp_server):
    ask(client, ["rectification", "erasure"], "kari@example.no", lang="en")
    outbox_deliver_due()
    wait_for(lambda: len(smtp_server.messages) == 1, what="the confirmation mail")
    mail = smtp_server.messages[0]
    assert mail["To"] == "kari@example.no" and mail["Subject"] == "Confirm your privacy request"
    path = link_path(mail.get_body(("plain",)).get_content(), "confirm")
    assert path.startswith("/en/privacy/requests/confirm/")

    shown = client.get(path)  # a mail scanner, or the person opening the link
    assert shown.status_code == 200 and "Confirm my request" in shown.content.decode()
    assert Request.objects.get().status == "awaiting_confirmation"

    confirmed = client.post(path)
    html = confirmed.content.decode()
    request = Request.objects.get()
    assert confirmed.status_code == 200 and request.status == "confirmed" and request.verified_at is not None
    assert f"reference {texts.reference_of(request)}" in html
    assert "A privacy officer handles the rest of your request." in html
    assert "download" not in html.split("<main", 1)[1].lower()

    again = client.post(path)
    assert again.status_code == 410 and "This request is already confirmed" in again.content.decode()


def test_a_confirmed_request_for_a_copy_says_the_download_link_is_on_its_way(client, published):
    ask(client, ["access"], "kari@example.no", lang="en")
    confirmed = client.post(confirmation_link("kari@example.no"))
    assert confirmed.status_code == 200
    assert "We have sent you an email with a link to download your data." in confirmed.content.decode()
    assert (
        OutboxMessage.objects.filter(kind="rights_download_ready", to_index=email_index("kari@example.no")).count() == 1
    )


def test_a_get_of_the_link_never_confirms_and_looks_the_same_for_any_token(client, published):
    ask(client, ["erasure"], "kari@example.no")
    path = confirmation_link("kari@example.no")
    real = client.get(path)
    forged = client.get(CENTER + "confirm/" + "x" * 43 + "/")
    assert real.status_code == forged.status_code == 200
    token = path.rstrip("/").rsplit("/", 1)[1].encode()
    assert without_tokens(real.content).replace(token, b"") == without_tokens(forged.content).replace(b"x" * 43, b"")
    assert Request.objects.get().status == "awaiting_confirmation"


def test_a_forged_link_is_not_found(client, published):
    response = client.post("/en/privacy/requests/confirm/" + "x" * 43 + "/")
    assert response.status_code == 404 and "This link is not valid" in response.content.decode()


def test_a_link_used_after_72_hours_has_expired_and_the_request_lapses(client, published):
    ask(client, ["erasure"], "kari@example.no", lang="en")
    path = confirmation_link("kari@example.no")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=72, minutes=1)):
        response = client.post(path)
    html = response.content.decode()
    assert response.status_code == 410 and "The link has expired" in html
    assert f'href="{CENTER_EN}"' in html  # to send it again
    request = Request.objects.get()
    assert request.status == "lapsed" and request.closed_at is not None
    assert client.post(path).status_code == 410  # and it stays used up


# ------------------------------------------------------------------ the download link


def access_link(client: Client) -> tuple[str, Request]:
    """A request for access, confirmed by its link; the path of the download link its mail then gives."""
    ask(client, ["access"], "kari@example.no", lang="en")
    client.post(confirmation_link("kari@example.no"))
    mail = OutboxMessage.objects.get(kind="rights_download_ready")
    return link_path(mail.body_text, "download"), Request.objects.get()


def test_the_download_link_gives_the_zip_once_as_an_attachment_that_is_not_cached(client, published):
    path, request = access_link(client)
    shown = client.get(path)
    assert shown.status_code == 200 and "Download my data (zip)" in shown.content.decode()
    response = client.post(path)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="kaukus-access-R-{request.pk}.zip"'
    assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "no-referrer"
    assert response.content.startswith(b"PK")


@pytest.mark.parametrize(
    ("refusal", "status", "text"),
    [
        ("used", 410, "This link has already been used"),
        ("expired", 410, "The link has expired"),
        ("invalid", 404, "This link is not valid"),
    ],
)
def test_a_download_link_that_cannot_be_used_says_why(client, published, refusal, status, text):
    path, _request = access_link(client)
    when = timezone.now()
    if refusal == "used":
        assert client.post(path).status_code == 200
    elif refusal == "expired":
        when += dt.timedelta(days=7, seconds=1)
    else:
        path = "/en/privacy/requests/download/" + "t" * 43 + "/"
    with time_machine.travel(when):
        response = client.post(path)
    assert response.status_code == status and text in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_real_download_link_works_once(client, published):
    ask(client, ["access"], "kari@example.no", lang="en")
    client.post(confirmation_link("kari@example.no"))
    mail = OutboxMessage.objects.get(kind="rights_download_ready")
    path = link_path(mail.body_text, "download")
    first = client.post(path)
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert first.content.startswith(b"PK")
    second = client.post(path)
    assert second.status_code == 410 and "This link has already been used" in second.content.decode()


# ------------------------------------------------------------------ what the token pages leave out


def test_pages_with_a_token_in_the_address_load_no_analytics_and_send_no_referrer(client, published):
    assert "beacon.js" in client.get(CENTER).content.decode()  # the form page counts as any page
    for path in (CENTER + "confirm/" + "x" * 43 + "/", CENTER + "download/" + "x" * 43 + "/"):
        for response in (client.get(path), client.post(path)):
            html = response.content.decode()
            assert "beacon.js" not in html and "analytics-pixel" not in html
            assert response["Referrer-Policy"] == "no-referrer"
            assert "no-store" in response["Cache-Control"]
