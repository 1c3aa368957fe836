"""Passkeys as the second factor and for re-authentication (P18): the server side.

A software authenticator (``vern.accounts.testing.SoftPasskey``) signs vern's real challenges
with a real key; py_webauthn checks them as it checks a browser's. The browser test beside this
file does the same with Chromium's virtual authenticator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from vern.accounts.models import Passkey, SignIn
from vern.accounts.testing import SoftPasskey, staff_device, staff_login
from vern.accounts.tests.test_login import STRONG
from vern.accounts.tests.test_second_factor import ola, password_step  # noqa: F401 - the fixture
from vern.audit.models import Entry
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db

REGISTER_OPTIONS = "/en/staff/security/passkeys/options/"
REGISTER = "/en/staff/security/passkeys/"
SIGN_IN_OPTIONS = "/en/staff/second-factor/passkey/options/"
SIGN_IN = "/en/staff/second-factor/passkey/"
REAUTH_OPTIONS = "/en/staff/confirm-password/passkey/options/"
REAUTH = "/en/staff/confirm-password/passkey/"


def post_json(client: Client, url: str, body: Any = None) -> Any:
    return client.post(
        url,
        data=json.dumps({} if body is None else body),
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )


def add_passkey(client: Client, name: str = "Work laptop", key: SoftPasskey | None = None) -> SoftPasskey:
    key = key or SoftPasskey()
    options = post_json(client, REGISTER_OPTIONS)
    assert options.status_code == 200, options.content
    added = post_json(client, REGISTER, {"name": name, "credential": key.create(options.json())})
    assert added.status_code == 200, added.content
    assert added.json() == {"redirect": "/en/staff/security/"}
    return key


def still_at_second_step(client: Client) -> bool:
    return bool(client.get("/staff/requests/")["Location"].startswith("/staff/second-factor/"))


def signed_in_with_totp(user: Any) -> Client:
    client = Client()
    staff_login(client, user)
    return client


def passkey_sign_in(key: SoftPasskey, network: str = "192.0.2.10", **answer: Any) -> tuple[Client, Any]:
    client = password_step(network, next_url="/staff/requests/")
    options = post_json(client, f"{SIGN_IN_OPTIONS}?next=/staff/requests/")
    assert options.status_code == 200, options.content
    response = post_json(client, f"{SIGN_IN}?next=/staff/requests/", {"credential": key.get(options.json(), **answer)})
    return client, response


# The JSON steps are asked for in English, as a page in English asks for them (messages in the page's language).

# ------------------------------------------------------------------ adding, signing in


def test_p18_a_passkey_added_on_the_security_page_completes_the_sign_in_after_the_password(ola):  # noqa: F811
    owner = signed_in_with_totp(ola)
    assert "Add a passkey" in owner.get("/en/staff/security/").content.decode()
    key = add_passkey(owner, "Work laptop")
    passkey = Passkey.objects.get(user=ola)
    assert passkey.name == "Work laptop" and passkey.confirmed and passkey.transports == "internal"
    added = Entry.objects.get(action="staff.passkey_add", object_id=str(ola.pk))
    assert added.data["passkey"] == passkey.pk
    mail = OutboxMessage.objects.get(kind="staff_passkey_added")
    assert "Work laptop" in mail.body_text and "http://testserver/en/staff/security/" in mail.body_text
    page = owner.get("/en/staff/security/").content.decode()
    assert "Work laptop" in page and "You have no passkeys yet." not in page

    client = password_step(next_url="/staff/requests/")
    assert still_at_second_step(client)  # the password alone opens nothing
    code_page = client.get("/en/staff/second-factor/?next=/staff/requests/").content.decode()
    assert "Sign in with a passkey" in code_page and "vern/passkeys.js" in code_page
    options = post_json(client, f"{SIGN_IN_OPTIONS}?next=/staff/requests/").json()
    assert [c["id"] for c in options["allowCredentials"]] == [key.b64(key.credential_id)]
    assert options["rpId"] == "testserver"
    done = post_json(client, f"{SIGN_IN}?next=/staff/requests/", {"credential": key.get(options)})
    assert done.status_code == 200 and done.json() == {"redirect": "/staff/requests/"}
    assert client.get("/staff/requests/").status_code == 200
    sign_in = SignIn.objects.filter(user=ola).latest("pk")
    assert sign_in.method == SignIn.Method.PASSKEY
    assert Entry.objects.filter(action="staff.passkey_use", data__purpose="sign_in").count() == 1
    assert Entry.objects.filter(action="staff.login", data__second_factor="passkey").count() == 1
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert "passkey" in client.get("/en/staff/security/").content.decode()  # the sign-in says how


def test_adding_a_passkey_needs_a_name_and_the_password_from_the_last_ten_minutes(ola):  # noqa: F811
    with time_machine.travel(timezone.now(), tick=False) as clock:
        owner = signed_in_with_totp(ola)
        options = post_json(owner, REGISTER_OPTIONS).json()
        nameless = post_json(owner, REGISTER, {"name": "  ", "credential": SoftPasskey().create(options)})
        assert nameless.status_code == 400 and "Give the passkey a name" in nameless.json()["detail"]
        clock.shift(11 * 60)
        late = post_json(owner, REGISTER_OPTIONS)
        assert late.status_code == 403 and late.json()["error"] == "reauthentication_required"
    assert not Passkey.objects.exists()
    assert not OutboxMessage.objects.filter(kind="staff_passkey_added").exists()


def test_a_passkey_registered_for_another_site_or_twice_is_refused(ola):  # noqa: F811
    owner = signed_in_with_totp(ola)
    options = post_json(owner, REGISTER_OPTIONS).json()
    phished = SoftPasskey(origin="https://vern.example.evil", rp_id="vern.example.evil")
    refused = post_json(owner, REGISTER, {"name": "Phone", "credential": phished.create(options)})
    assert refused.status_code == 400 and refused.json()["error"] == "refused"
    key = add_passkey(owner)
    options = post_json(owner, REGISTER_OPTIONS).json()
    assert [c["id"] for c in options["excludeCredentials"]] == [key.b64(key.credential_id)]
    twice = post_json(owner, REGISTER, {"name": "Again", "credential": key.create(options)})
    assert twice.status_code == 400 and "already registered" in twice.json()["detail"]
    assert Passkey.objects.filter(user=ola).count() == 1


def test_passkeys_follow_the_public_address_vern_is_set_up_with(ola, settings):  # noqa: F811
    settings.VERN_PUBLIC_URL = "https://vern.example.no"
    owner = signed_in_with_totp(ola)
    options = post_json(owner, REGISTER_OPTIONS).json()
    assert options["rp"] == {"id": "vern.example.no", "name": "Kaukus staff"}
    local = post_json(owner, REGISTER, {"name": "Laptop", "credential": SoftPasskey().create(options)})
    assert local.status_code == 400  # signed for testserver, not for the public address
    key = SoftPasskey(origin="https://vern.example.no", rp_id="vern.example.no")
    add_passkey(owner, key=key)
    _, done = passkey_sign_in(key)
    assert done.status_code == 200


# ------------------------------------------------------------------ what is refused


def test_p18_a_replayed_or_forged_passkey_answer_is_refused(ola):  # noqa: F811
    staff_device(ola)
    key = add_passkey(signed_in_with_totp(ola))
    client = password_step()
    options = post_json(client, SIGN_IN_OPTIONS).json()
    recorded = key.get(options)
    assert post_json(client, SIGN_IN, {"credential": recorded}).status_code == 200

    # The same answer, recorded and sent again in another session (which got its own challenge): refused.
    thief = password_step("198.51.100.7")
    post_json(thief, SIGN_IN_OPTIONS)
    replayed = post_json(thief, SIGN_IN, {"credential": recorded})
    assert replayed.status_code == 400 and replayed.json()["error"] == "refused"
    assert still_at_second_step(thief)

    # A forged answer: the right credential id, signed with another key.
    thief = password_step("198.51.100.7")
    options = post_json(thief, SIGN_IN_OPTIONS).json()
    forger = SoftPasskey()
    forger.credential_id = key.credential_id
    forged = post_json(thief, SIGN_IN, {"credential": forger.get(options)})
    assert forged.status_code == 400 and forged.json()["error"] == "refused"
    assert still_at_second_step(thief)

    # A copy of the passkey whose counter has gone back (a cloned authenticator): refused.
    thief = password_step("198.51.100.7")
    options = post_json(thief, SIGN_IN_OPTIONS).json()
    key.counter = 0
    cloned = post_json(thief, SIGN_IN, {"credential": key.get(options)})
    assert cloned.status_code == 400
    assert Entry.objects.filter(action="staff.second_factor_fail", data__step="passkey_sign_in").count() == 3
    assert SignIn.objects.filter(user=ola, method="passkey").count() == 1


def test_a_challenge_is_answered_once_and_expires(ola):  # noqa: F811
    key = add_passkey(signed_in_with_totp(ola))
    client = password_step()
    options = post_json(client, SIGN_IN_OPTIONS).json()
    answer = key.get(options)
    bad = dict(
        answer, response=dict(answer["response"], signature=SoftPasskey.b64(b"\x30\x06\x02\x01\x01\x02\x01\x01"))
    )
    assert post_json(client, SIGN_IN, {"credential": bad}).status_code == 400
    again = post_json(client, SIGN_IN, {"credential": answer})  # right, but for a challenge already answered
    assert again.status_code == 400 and "expired or was already used" in again.json()["detail"]
    assert still_at_second_step(client)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = password_step()
        options = post_json(client, SIGN_IN_OPTIONS).json()
        clock.shift(6 * 60)
        late = post_json(client, SIGN_IN, {"credential": key.get(options)})
        assert late.status_code == 400 and "expired" in late.json()["detail"]


def test_p18_a_passkey_of_another_account_does_not_sign_in(ola, personas):  # noqa: F811
    alices = add_passkey(signed_in_with_totp(personas.admin), "Alice's key")
    staff_device(ola)
    client = password_step()  # Ola's password
    assert post_json(client, SIGN_IN_OPTIONS).status_code == 400  # Ola has no passkey to ask for
    add_passkey(signed_in_with_totp(ola), "Ola's key")
    client = password_step()
    options = post_json(client, SIGN_IN_OPTIONS).json()
    response = post_json(client, SIGN_IN, {"credential": alices.get(options)})
    assert response.status_code == 400 and "not one of your account's passkeys" in response.json()["detail"]
    assert still_at_second_step(client)


def test_p18_wrong_passkey_answers_slow_that_network_down_but_never_the_owner_elsewhere(ola):  # noqa: F811
    key = add_passkey(signed_in_with_totp(ola))
    forger = SoftPasskey()
    forger.credential_id = key.credential_id
    with time_machine.travel(timezone.now(), tick=False):
        statuses = [passkey_sign_in(forger, "198.51.100.7")[1].status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 429]
        thief = password_step("198.51.100.7")
        options = post_json(thief, SIGN_IN_OPTIONS).json()
        throttled = post_json(thief, SIGN_IN, {"credential": key.get(options)})  # the right key waits too
        assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1
        assert "Try again in" in throttled.json()["detail"]
        _, owner = passkey_sign_in(key, "192.0.2.10")
        assert owner.status_code == 200


def test_answers_that_are_not_webauthn_get_a_clear_refusal(ola):  # noqa: F811
    add_passkey(signed_in_with_totp(ola))
    client = password_step()
    post_json(client, SIGN_IN_OPTIONS)
    garbage = client.post(SIGN_IN, data=b"{not json", content_type="application/json", HTTP_ACCEPT="application/json")
    assert garbage.status_code == 400 and garbage.json()["error"] == "request"
    assert "could not be read" in garbage.json()["detail"]
    in_norwegian = client.post(
        "/staff/second-factor/passkey/", data=b"[", content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert in_norwegian.json()["detail"].startswith("Svaret fra nettleseren kunne ikke leses.")
    post_json(client, SIGN_IN_OPTIONS)
    nonsense = post_json(client, SIGN_IN, {"credential": {"id": "x", "response": [1, 2]}})
    assert nonsense.status_code == 400 and nonsense.json()["error"] == "refused"
    assert still_at_second_step(client)


# ------------------------------------------------------------------ re-authentication


def test_p18_a_passkey_confirms_who_is_there_before_publishing(ola, published):  # noqa: F811
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in_with_totp(ola)
        key = add_passkey(client)
        clock.shift(11 * 60)
        response = client.post(
            "/staff/declaration/publish/", {"note": "x"}, HTTP_REFERER="http://testserver/staff/declaration/"
        )
        assert response["Location"] == "/staff/confirm-password/?next=%2Fstaff%2Fdeclaration%2F"
        page = client.get("/en" + response["Location"]).content.decode()
        assert "Confirm with a passkey" in page
        options = post_json(client, f"{REAUTH_OPTIONS}?next=/staff/declaration/").json()
        assert options["userVerification"] == "required"
        unverified = post_json(client, REAUTH, {"credential": key.get(options, user_verified=False)})
        assert unverified.status_code == 400  # a passkey that did not check its holder stands in for no password
        assert client.get("/staff/analytics/export.csv").status_code == 303
        options = post_json(client, f"{REAUTH_OPTIONS}?next=/staff/declaration/").json()
        done = post_json(client, f"{REAUTH}?next=/staff/declaration/", {"credential": key.get(options)})
        assert done.status_code == 200 and done.json() == {"redirect": "/staff/declaration/"}
        assert client.get("/staff/analytics/export.csv").status_code == 200
        assert Entry.objects.filter(action="staff.reauth", data__method="passkey").count() == 1
        assert Entry.objects.filter(action="staff.passkey_use", data__purpose="reauth").count() == 1


def test_the_reauthentication_challenge_is_not_a_sign_in_challenge(ola):  # noqa: F811
    key = add_passkey(signed_in_with_totp(ola))
    client = password_step()
    options = post_json(client, SIGN_IN_OPTIONS).json()
    signed_in = signed_in_with_totp(ola)
    # An answer to one session's sign-in challenge does not confirm another session.
    assert post_json(signed_in, REAUTH, {"credential": key.get(options)}).status_code == 400


# ------------------------------------------------------------------ removing


def test_removing_passkeys_keeps_at_least_one_second_factor(ola, personas):  # noqa: F811
    client = signed_in_with_totp(ola)
    add_passkey(client, "Laptop")
    phone_key = add_passkey(client, "Phone")
    laptop, phone = Passkey.objects.filter(user=ola).order_by("pk")
    add_passkey(signed_in_with_totp(personas.admin), "Alice's key")
    alices = Passkey.objects.get(user=personas.admin)
    assert client.post(f"/staff/security/passkeys/{alices.pk}/remove/").status_code == 303
    assert Passkey.objects.filter(pk=alices.pk).exists()  # someone else's: untouched

    assert client.post(f"/staff/security/passkeys/{laptop.pk}/remove/").status_code == 303
    assert not Passkey.objects.filter(pk=laptop.pk).exists()
    assert Entry.objects.filter(action="staff.passkey_remove", data__passkey=laptop.pk).count() == 1

    client, done = passkey_sign_in(phone_key)
    assert done.status_code == 200
    client.post("/staff/confirm-password/", {"password": STRONG})
    TOTPDevice.objects.filter(user=ola).delete()  # the phone passkey is now the account's only factor
    response = client.post(f"/en/staff/security/passkeys/{phone.pk}/remove/", follow=True)
    assert Passkey.objects.filter(pk=phone.pk).exists()
    assert "your only second factor" in response.content.decode()
    assert Entry.objects.filter(action="staff.passkey_remove").count() == 1


def test_removing_the_passkey_a_session_signed_in_with_keeps_that_session(ola):  # noqa: F811
    staff_device(ola)
    key = add_passkey(signed_in_with_totp(ola))
    client, done = passkey_sign_in(key)
    assert done.status_code == 200
    client.post("/staff/confirm-password/", {"password": STRONG})
    assert client.post(f"/staff/security/passkeys/{Passkey.objects.get().pk}/remove/").status_code == 303
    assert not Passkey.objects.exists()
    assert client.get("/staff/requests/").status_code == 200


def test_p18_an_administrators_reset_also_removes_the_passkeys(ola, personas):  # noqa: F811
    key = add_passkey(signed_in_with_totp(ola))
    admin = signed_in_with_totp(personas.admin)
    assert admin.post(f"/staff/people/{ola.pk}/second-factor/reset/").status_code == 303
    assert not Passkey.objects.filter(user=ola).exists()
    client = password_step()
    assert client.get("/staff/")["Location"].startswith("/staff/second-factor/setup/")
    assert post_json(client, SIGN_IN_OPTIONS).status_code == 400
    assert passkey_sign_in_answer_refused(client, key)


def passkey_sign_in_answer_refused(client: Client, key: SoftPasskey) -> bool:
    """An answer signed by a passkey that the account no longer has (its challenge made up) is refused."""
    answer = key.get({"challenge": SoftPasskey.b64(b"a challenge from before the reset")})
    return bool(post_json(client, SIGN_IN, {"credential": answer}).status_code == 400)


# ------------------------------------------------------------------ the public address


@pytest.mark.parametrize(
    ("public_url", "warned"),
    [
        ("https://vern.example.no", False),
        ("http://localhost:8000", False),
        ("http://192.0.2.4:8000", True),
        ("https://192.0.2.4", True),
        ("http://vern.example.no", True),
    ],
)
def test_vern_check_deploy_says_when_the_public_address_rules_passkeys_out(public_url, warned, settings):
    from vern.accounts.checks import check_passkeys_can_work

    settings.VERN_PUBLIC_URL = public_url
    found = check_passkeys_can_work(None)
    assert [w.id for w in found] == (["vern.W201"] if warned else [])
