"""Two-factor staff login (P18): enrolment at first login, codes, recovery codes, reset, re-authentication,
sessions staff can see and end."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from vern.accounts.models import SignIn
from vern.accounts.testing import staff_device, staff_login, totp_code
from vern.accounts.tests.test_login import STRONG
from vern.audit.models import Entry
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def ola(django_user_model):
    from vern.accounts.models import RoleGrant

    user = django_user_model.objects.create_user(email="ola@example.com", password=STRONG, name="Ola", language="en")
    RoleGrant.objects.create(user=user, role="privacy_officer")
    return user


def password_step(network: str = "192.0.2.10", *, next_url: str = "") -> Client:
    client = Client(
        REMOTE_ADDR=network, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0"
    )
    response = client.post(
        "/staff/login/" + (f"?next={next_url}" if next_url else ""), {"email": "ola@example.com", "password": STRONG}
    )
    assert response.status_code == 302
    return client


def code_for(secret_b32: str) -> str:
    from base64 import b32decode

    key = b32decode(secret_b32.replace(" ", "") + "=" * (-len(secret_b32.replace(" ", "")) % 8))
    return f"{TOTP(key).token():06d}"


def test_p18_first_login_enrols_an_authenticator_and_shows_recovery_codes_once(ola):
    client = password_step()
    assert client.get("/staff/")["Location"].startswith("/staff/second-factor/setup/")
    page = client.get("/staff/second-factor/setup/").content.decode()
    assert "<svg" in page
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', page).group(1)
    assert client.get("/staff/second-factor/setup/").content.decode().count(secret) == 1  # the same secret again

    wrong = client.post("/staff/second-factor/setup/", {"code": "000000"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(user=ola, confirmed=True).exists()
    assert Entry.objects.filter(action="staff.second_factor_fail", object_id=str(ola.pk)).exists()

    done = client.post("/staff/second-factor/setup/", {"code": code_for(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=ola).confirmed
    assert Entry.objects.filter(action="staff.second_factor_enrol", object_id=str(ola.pk)).exists()
    assert client.get("/staff/").status_code == 200
    security = client.get("/en/staff/security/").content.decode()
    assert "10 unused recovery codes" in security and codes[0] not in security  # shown once only


def test_p18_the_password_alone_opens_nothing_and_the_code_completes_the_sign_in(ola):
    device = staff_device(ola)
    client = password_step()
    assert client.get("/staff/requests/")["Location"] == "/staff/second-factor/?next=%2Fstaff%2Frequests%2F"
    response = client.post("/staff/second-factor/?next=/staff/requests/", {"code": totp_code(device)})
    assert response["Location"] == "/staff/requests/"
    assert client.get("/staff/requests/").status_code == 200
    sign_in = SignIn.objects.get(user=ola)
    assert sign_in.ip == "192.0.2.0" and sign_in.browser == "Firefox" and sign_in.method == "totp"
    replayed = password_step()
    assert replayed.post("/staff/second-factor/", {"code": totp_code(device, fresh=False)}).status_code == 400


def test_p18_a_recovery_code_works_once_is_audited_and_its_owner_mailed(ola):
    staff_device(ola)
    codes = Client()
    staff_login(codes, ola)
    shown = codes.post("/staff/security/recovery-codes/").content.decode()
    code = re.findall(r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", shown)[0]

    client = password_step()
    assert client.post("/staff/second-factor/", {"code": code.upper()}).status_code == 302
    assert client.get("/staff/").status_code == 200
    assert Entry.objects.filter(action="staff.recovery_code_use", object_id=str(ola.pk)).exists()
    mail = OutboxMessage.objects.filter(kind="staff_recovery_code_used").get()
    assert "9 unused recovery codes" in mail.body_text
    again = password_step()
    assert again.post("/staff/second-factor/", {"code": code}).status_code == 400


def test_p18_wrong_codes_slow_a_network_down_but_never_the_owner_elsewhere(ola):
    device = staff_device(ola)
    with time_machine.travel(timezone.now(), tick=False):
        thief = password_step("198.51.100.7")  # the password was stolen
        statuses = [thief.post("/staff/second-factor/", {"code": "123456"}).status_code for _ in range(5)]
        assert statuses[:3] == [400, 400, 400] and statuses[3] == 429
        for n in range(30):  # and from many other networks too
            other = password_step(f"203.0.{n}.9")
            other.post("/staff/second-factor/", {"code": "654321"})
        owner = password_step("192.0.2.10")
        assert owner.post("/staff/second-factor/", {"code": totp_code(device)}).status_code == 302
        assert owner.get("/staff/").status_code == 200


def test_p18_an_administrator_resets_someone_elses_second_factor_but_not_their_own(ola, personas):
    device = staff_device(ola)
    phone = password_step()
    phone.post("/staff/second-factor/", {"code": totp_code(device)})
    assert phone.get("/staff/").status_code == 200

    admin = Client()
    staff_login(admin, personas.admin)
    own = admin.post(f"/staff/people/{personas.admin.pk}/second-factor/reset/")
    assert own.status_code == 303 and TOTPDevice.objects.filter(user=personas.admin).exists()
    response = admin.post(f"/staff/people/{ola.pk}/second-factor/reset/")
    assert response.status_code == 303
    assert not TOTPDevice.objects.filter(user=ola).exists()
    assert Entry.objects.filter(action="staff.second_factor_reset", object_id=str(ola.pk)).exists()
    assert OutboxMessage.objects.filter(kind="staff_second_factor_reset").count() == 1
    assert phone.get("/staff/")["Location"].startswith("/staff/login/")  # the old session is over
    again = password_step()
    assert again.get("/staff/")["Location"].startswith("/staff/second-factor/setup/")  # enrols again


def test_the_operator_resets_the_last_administrators_second_factor_from_the_command_line(personas):
    staff_device(personas.admin)
    call_command("staff", "reset-second-factor", "--email", "alice@example.com")
    assert not TOTPDevice.objects.filter(user=personas.admin).exists()
    entry = Entry.objects.get(action="staff.second_factor_reset")
    assert entry.actor_kind == Entry.ActorKind.CLI


def test_new_recovery_codes_replace_the_old_ones(ola):
    client = Client()
    staff_login(client, ola)
    first = re.findall(
        r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", client.post("/staff/security/recovery-codes/").content.decode()
    )
    second = re.findall(
        r"<li>([a-z2-7]{4}-[a-z2-7]{4})</li>", client.post("/staff/security/recovery-codes/").content.decode()
    )
    assert len(first) == len(second) == 10 and not set(first) & set(second)
    assert StaticToken.objects.filter(device__user=ola).count() == 10
    assert password_step().post("/staff/second-factor/", {"code": first[0]}).status_code == 400


# ------------------------------------------------------------------ re-authentication


def test_p18_publishing_after_ten_minutes_asks_for_the_password_and_returns_to_the_form(ola, published):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        staff_login(client, ola)
        clock.shift(11 * 60)
        response = client.post(
            "/staff/declaration/publish/", {"note": "x"}, HTTP_REFERER="http://testserver/staff/declaration/"
        )
        assert response.status_code == 303
        assert response["Location"] == "/staff/confirm-password/?next=%2Fstaff%2Fdeclaration%2F"
        assert not Entry.objects.filter(action="policy.publish", actor_id=ola.pk).exists()  # nothing was sent on
        wrong = client.post("/staff/confirm-password/", {"password": "nope", "next": "/staff/declaration/"})
        assert wrong.status_code == 400
        right = client.post("/staff/confirm-password/", {"password": STRONG, "next": "/staff/declaration/"})
        assert right.status_code == 302 and right["Location"] == "/staff/declaration/"
        assert Entry.objects.filter(action="staff.reauth", object_id=str(ola.pk)).exists()
        erasure_ok = client.get("/staff/analytics/export.csv")
        assert erasure_ok.status_code == 200
        clock.shift(11 * 60)
        stale = client.get("/staff/analytics/export.csv")
        assert stale.status_code == 303, stale.status_code
        assert stale["Location"].startswith("/staff/confirm-password/?next=")


def test_changing_roles_after_ten_minutes_asks_for_the_password_first(personas):
    client = Client()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        staff_login(client, personas.admin)
        clock.shift(11 * 60)
        response = client.post(f"/staff/people/{personas.sales.pk}/roles/", {"roles": ["admin"]})
        assert response["Location"].startswith("/staff/confirm-password/")
        assert personas.sales.role_grants.get().role == "sales"
        assert not personas.sales.pending_role_grants.exists()


# ------------------------------------------------------------------ sessions


def test_staff_see_their_sign_ins_and_ending_one_logs_that_session_out(ola):
    device = staff_device(ola)
    laptop = password_step("192.0.2.10")
    laptop.post("/staff/second-factor/", {"code": totp_code(device)})
    phone = password_step("2001:db8:85a3::8a2e:370:7334")
    phone.post("/staff/second-factor/", {"code": totp_code(device)})
    assert phone.get("/staff/").status_code == 200

    page = laptop.get("/staff/security/").content.decode()
    assert "192.0.2.0" in page and "2001:db8:85a3::" in page and "Firefox" in page
    assert "192.0.2.10" not in page and "8a2e" not in page  # never a full address
    other = SignIn.objects.get(user=ola, ip="2001:db8:85a3::")
    mine = SignIn.objects.get(user=ola, ip="192.0.2.0")
    assert laptop.post(f"/staff/security/sessions/{mine.pk}/end/").status_code == 303  # refused: log out instead
    assert SignIn.objects.get(pk=mine.pk).ended_at is None
    assert laptop.post(f"/staff/security/sessions/{other.pk}/end/").status_code == 303
    assert phone.get("/staff/")["Location"].startswith("/staff/login/")
    assert "_auth_user_id" not in phone.session
    assert laptop.get("/staff/").status_code == 200
    assert Entry.objects.filter(action="staff.session_end", object_id=str(ola.pk)).exists()


def test_someone_elses_sign_in_cannot_be_ended(ola, personas):
    theirs = staff_login(Client(), personas.admin)
    client = Client()
    staff_login(client, ola)
    client.post(f"/staff/security/sessions/{theirs.pk}/end/")
    assert SignIn.objects.get(pk=theirs.pk).ended_at is None


def test_sign_ins_are_deleted_after_the_declared_month_of_technical_logs(ola, published):
    old = SignIn.objects.create(user=ola, ip="192.0.2.0", browser="Firefox", method="totp")
    SignIn.objects.filter(pk=old.pk).update(signed_in_at=timezone.now() - dt.timedelta(days=40))
    recent = SignIn.objects.create(user=ola, ip="192.0.2.0", browser="Firefox", method="totp")
    call_command("retention", "run")
    assert list(SignIn.objects.values_list("pk", flat=True)) == [recent.pk]


def test_p18_the_first_administrator_from_the_readme_sets_a_password_enrols_and_gets_in(db, capsys):
    # README: `vern staff add --email you@example.com --role admin` prints a link to set the password.
    call_command("staff", "add", "--email", "you@example.com", "--role", "admin")
    link = re.search(r"http://testserver(/staff/password/set/\S+/)", capsys.readouterr().out).group(1)
    client = Client()
    passphrase = "a brand new passphrase 7"
    assert client.post(link, {"new_password1": passphrase, "new_password2": passphrase}).status_code == 302
    login = client.post("/staff/login/", {"email": "you@example.com", "password": passphrase})
    assert login["Location"] == "/staff/second-factor/setup/"
    page = client.get("/staff/second-factor/setup/").content.decode()
    secret = re.search(r'id="secret">([A-Z2-7 ]+)<', page).group(1)
    assert client.post("/staff/second-factor/setup/", {"code": code_for(secret)}).status_code == 200
    assert client.get("/staff/people/").status_code == 200


def test_the_two_steps_send_each_other_on_keeping_where_the_person_was_going(ola):
    client = password_step()
    to_setup = client.get("/staff/second-factor/?next=/staff/requests/?page=2")
    assert to_setup["Location"] == "/staff/second-factor/setup/?next=%2Fstaff%2Frequests%2F%3Fpage%3D2"
    staff_device(ola)
    to_code = client.get("/staff/second-factor/setup/?next=/staff/requests/")
    assert to_code["Location"] == "/staff/second-factor/?next=%2Fstaff%2Frequests%2F"
