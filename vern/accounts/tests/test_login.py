"""Logging in at /staff/ with email and password, rate-limited; passwords reset by mail."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from vern.accounts import services
from vern.accounts.testing import staff_device, staff_login, totp_code
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.mail.models import OutboxMessage

STRONG = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ola(db):
    return services.staff_create(
        email="ola@example.com", name="Ola", roles=["sales"], password=STRONG, actor=Actor.cli()
    )


def test_the_staff_console_sends_a_visitor_to_the_login_page(client, db):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/staff/"


def test_staff_log_in_with_email_password_and_code_and_land_on_the_console(client, ola):
    device = staff_device(ola)
    response = client.post("/staff/login/", {"email": "OLA@example.com", "password": STRONG})
    assert response.status_code == 302 and response["Location"] == "/staff/second-factor/"
    assert client.get("/staff/").status_code == 303  # the password alone opens nothing
    assert not Entry.objects.filter(action="staff.login", actor_id=ola.pk).exists()
    response = client.post("/staff/second-factor/", {"code": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    home = client.get("/staff/")
    assert home.status_code == 200
    assert "Hei, Ola" in home.content.decode()
    assert Entry.objects.filter(action="staff.login", actor_id=ola.pk).exists()


def test_the_login_page_speaks_english_under_en(client, db):
    page = client.get("/en/staff/login/").content.decode()
    assert '<html lang="en">' in page and "Staff login" in page


def test_a_wrong_password_gives_one_message_for_every_mistake(client, ola):
    wrong_password = client.post("/staff/login/", {"email": "ola@example.com", "password": "nope"})
    unknown_user = client.post("/staff/login/", {"email": "nobody@example.com", "password": "nope"})
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert "E-postadressen eller passordet er feil." in response.content.decode()
    assert Entry.objects.filter(action="staff.login_failed").count() == 1  # only the known account
    assert "_auth_user_id" not in client.session


def test_p24_guessing_passwords_is_stopped_after_a_few_tries(client, ola):
    for _ in range(8):
        client.post("/staff/login/", {"email": "ola@example.com", "password": "guess"})
    blocked = client.post("/staff/login/", {"email": " OLA@Example.COM", "password": STRONG})
    assert blocked.status_code == 429  # another spelling of the same address is the same account
    assert "For mange innloggingsforsøk" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_redirects_only_to_this_site(client, ola):
    response = client.post("/staff/login/?next=https://evil.example/", {"email": "ola@example.com", "password": STRONG})
    assert response["Location"] == "/staff/second-factor/setup/"
    code = client.post("/staff/second-factor/setup/?next=https://evil.example/", {"code": "000000"})
    assert code.status_code == 400 and "evil.example" not in code.content.decode()


def test_a_deactivated_account_cannot_log_in(client, personas):
    personas.deactivated.set_password(STRONG)
    personas.deactivated.save()
    response = client.post("/staff/login/", {"email": "dag@example.com", "password": STRONG})
    assert "E-postadressen eller passordet er feil." in response.content.decode()


def test_logging_out_ends_the_session(client, ola):
    staff_login(client, ola)
    assert client.get("/staff/logout/").status_code == 405
    response = client.post("/staff/logout/")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302
    assert Entry.objects.filter(action="staff.logout").exists()


def test_a_forgotten_password_is_reset_through_a_link_mailed_to_the_account(client, ola):
    sent = client.post("/staff/password/forgot/", {"email": "ola@example.com"})
    unknown = client.post("/staff/password/forgot/", {"email": "nobody@example.com"})
    assert sent.status_code == unknown.status_code == 200
    assert sent.content == unknown.content  # nobody learns which addresses have accounts
    mail = OutboxMessage.objects.get()
    found = re.search(r"http://testserver(/staff/password/set/\S+/)", mail.body_text)
    assert found is not None
    link = found.group(1)
    form = client.get(link)
    assert form.status_code == 200
    done = client.post(link, {"new_password1": "a brand new passphrase 7", "new_password2": "a brand new passphrase 7"})
    assert done.status_code == 302
    ola.refresh_from_db()
    assert ola.check_password("a brand new passphrase 7")
    assert client.get(link).status_code == 404  # the link works once
    assert Entry.objects.filter(action="staff.password_set", object_id=str(ola.pk)).exists()


def test_mismatched_new_passwords_are_refused_next_to_the_field(client, ola):
    link = services.password_set_link(ola).replace("http://testserver", "")
    response = client.post(link, {"new_password1": "a brand new passphrase 7", "new_password2": "different 7"})
    assert response.status_code == 200
    assert "De to passordfeltene" in response.content.decode()
    ola.refresh_from_db()
    assert ola.check_password(STRONG)


def test_staff_can_change_their_own_password(client, ola):
    staff_login(client, ola)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": STRONG,
            "new_password1": "another fine passphrase 9",
            "new_password2": "another fine passphrase 9",
        },
    )
    assert response.status_code == 302
    ola.refresh_from_db()
    assert ola.check_password("another fine passphrase 9")
    assert client.get("/staff/").status_code == 200  # still logged in
