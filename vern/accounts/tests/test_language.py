"""Each staff member reads the console in their own language, with dates as Norwegians write them (issue 21)."""

from __future__ import annotations

import re

import pytest

from vern.accounts import services
from vern.accounts.models import User
from vern.accounts.testing import staff_login, totp_code
from vern.audit.services import Actor

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def erik(db) -> User:
    return services.staff_create(
        email="erik@example.com",
        name="Erik English",
        roles=["admin"],
        language="en",
        password=PASSWORD,
        actor=Actor.cli(),
    )


def sign_in(client, email: str, login_path: str = "/staff/login/") -> tuple[str, str]:
    """Password, then the code of the account's authenticator app; returns where the sign-in ends."""
    from vern.accounts.testing import staff_device

    device = staff_device(User.objects.get(email=email))
    response = client.post(login_path, {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response
    code_page = response["Location"]
    response = client.post(code_page, {"code": totp_code(device)})
    assert response.status_code in (302, 303), response
    return code_page, response["Location"]


def test_an_english_account_lands_in_the_english_console_from_the_norwegian_login_page(client, erik):
    code_page, landing = sign_in(client, "erik@example.com")
    assert code_page.startswith("/en/staff/second-factor/") and landing == "/en/staff/"
    client.logout()
    code_page, landing = sign_in(client, "erik@example.com", "/staff/login/?next=/staff/audit/%3Fpage%3D1")
    assert landing == "/en/staff/audit/?page=1"

    page = client.get(landing)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="en">' in html and "Audit log" in html
    # The menu keeps to the page's language, so every next page is English too.
    assert 'href="/en/staff/people/"' in html and 'href="/staff/people/"' not in html
    # The audit log lists Erik's own account creation, dated day first with the month in words.
    assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}\b", html)
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{4}\b", html)


def test_a_norwegian_account_lands_in_the_norwegian_console(client, erik):
    services.staff_create(email="kari@example.com", name="Kari", roles=["admin"], password=PASSWORD, actor=Actor.cli())
    code_page, landing = sign_in(client, "kari@example.com", "/en/staff/login/")
    assert code_page.startswith("/staff/second-factor/") and landing == "/staff/"
    assert '<html lang="nb">' in client.get("/staff/").content.decode()


def test_the_language_switch_changes_the_account_and_shows_the_same_page(client, erik):
    staff_login(client, erik)
    response = client.post("/en/staff/language/", {"language": "nb", "next": "/en/staff/audit/"})
    assert response.status_code == 302 and response["Location"] == "/staff/audit/"
    erik.refresh_from_db()
    assert erik.language == "nb"
    norwegian = client.get("/staff/audit/")
    assert norwegian.status_code == 200 and "Revisjonslogg" in norwegian.content.decode()
    # The next sign-in lands in Norwegian.
    client.logout()
    assert sign_in(client, "erik@example.com", "/en/staff/login/")[1] == "/staff/"


def test_the_switch_refuses_an_unknown_language_and_a_foreign_next_and_changes_nothing(client, erik):
    staff_login(client, erik)
    refused = client.post("/en/staff/language/", {"language": "de", "next": "/en/staff/"})
    assert refused.status_code == 400
    erik.refresh_from_db()
    assert erik.language == "en"
    elsewhere = client.post("/en/staff/language/", {"language": "nb", "next": "https://evil.example/"})
    assert elsewhere["Location"] == "/staff/"


def test_the_switch_needs_a_signed_in_staff_member(client, db):
    response = client.post("/staff/language/", {"language": "en"})
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_a_403_in_the_console_names_the_role_that_opens_the_page_and_who_holds_it(client, personas):
    """Issue 21: the 403 page used the public layout and told an administrator to "ask an administrator"."""
    staff_login(client, personas.sales)
    response = client.get("/en/staff/requests/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="staff-header"' in html and "Staff menu" in html  # the console's layout and menu
    assert "This page is open to the role Privacy officer, which your account does not have." in html
    assert "<li>Pia Personvern</li>" in html
    assert "Dag Deaktivert" not in html  # who has left holds nothing

    staff_login(client, personas.admin)
    norwegian = client.get("/staff/enquiries/")
    assert norwegian.status_code == 403
    text = norwegian.content.decode()
    assert '<html lang="nb">' in text and "Personvernansvarlig" in text and "Pia Personvern" in text
    assert "Sam Salg" in text  # sales opens the inbox too
