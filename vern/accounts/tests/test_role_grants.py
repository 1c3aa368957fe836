"""Nobody changes their own roles, and a powerful role needs a second administrator (P18, P19)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from vern.accounts import services
from vern.accounts.models import PendingRoleGrant, RoleGrant, User
from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.mail.services import outbox_deliver_due

pytestmark = pytest.mark.django_db


def admin(email: str, name: str, language: str = "nb") -> User:
    user = User.objects.create_user(email=email, password=None, name=name, language=language)
    RoleGrant.objects.create(user=user, role="admin")
    return user


def actions() -> list[str]:
    return list(Entry.objects.order_by("seq").values_list("action", flat=True))


def test_an_administrator_cannot_change_their_own_roles(client, personas):
    alice = personas.admin
    staff_login(client, alice)
    page = client.get(f"/staff/people/{alice.pk}/").content.decode()
    assert f'action="/staff/people/{alice.pk}/roles/"' not in page
    assert "Ingen kan endre sine egne roller" in page

    response = client.post(f"/staff/people/{alice.pk}/roles/", {"roles": ["admin", "privacy_officer"]})
    assert response.status_code == 400
    assert "Ingen kan endre sine egne roller. Be en annen administrator." in response.content.decode()
    assert User.objects.get(pk=alice.pk).roles == {"admin"}
    assert not PendingRoleGrant.objects.exists()
    assert client.get("/staff/enquiries/").status_code == 403
    refused = Entry.objects.get(action="staff.roles_self_change_refused")
    assert refused.actor_id == alice.pk and refused.object_id == str(alice.pk)
    assert refused.data == {"asked": ["admin", "privacy_officer"]}
    assert actions() == ["staff.roles_self_change_refused"]


def test_the_privacy_officer_role_takes_effect_only_when_a_second_administrator_approves(client, personas, smtp_server):
    alice = personas.admin
    bea = admin("bea@example.com", "Bea Berg", language="en")
    dora = admin("dora@example.com", "Dora Drift")

    staff_login(client, alice)
    response = client.post(f"/staff/people/{dora.pk}/roles/", {"roles": ["admin", "privacy_officer"]})
    assert response.status_code == 303
    message = client.get(response["Location"]).content.decode()
    assert "Personvernansvarlig gjelder først når en annen administrator godkjenner det" in message
    grant = PendingRoleGrant.objects.get()
    assert (grant.user, grant.role, grant.requested_by) == (dora, "privacy_officer", alice)
    assert User.objects.get(pk=dora.pk).roles == {"admin"}

    # Not yet: Dora still cannot open the enquiry inbox.
    staff_login(client, dora)
    assert client.get("/staff/enquiries/").status_code == 403

    # Neither the one who asked nor the one who gets the role may approve it.
    reasons = {
        alice: "Du ba om denne rollen, så en annen administrator avgjør den.",
        dora: "Ingen kan endre sine egne roller",
    }
    for who in (alice, dora):
        staff_login(client, who)
        page = client.get("/staff/people/").content.decode()
        assert "Dora Drift som Personvernansvarlig" in page
        assert f'action="/staff/people/grants/{grant.pk}/"' not in page
        response = client.post(f"/staff/people/grants/{grant.pk}/", {"decision": "approve"})
        assert response.status_code == 303
        assert reasons[who] in client.get(response["Location"]).content.decode()
        assert PendingRoleGrant.objects.filter(pk=grant.pk).exists()
        assert User.objects.get(pk=dora.pk).roles == {"admin"}
    staff_login(client, dora)
    assert client.get("/staff/enquiries/").status_code == 403

    # Bea, a second administrator, sees the buttons and approves.
    staff_login(client, bea)
    page = client.get("/staff/people/").content.decode()
    assert f'action="/staff/people/grants/{grant.pk}/"' in page
    response = client.post(f"/staff/people/grants/{grant.pk}/", {"decision": "approve"})
    assert response.status_code == 303
    assert not PendingRoleGrant.objects.exists()
    assert User.objects.get(pk=dora.pk).roles == {"admin", "privacy_officer"}
    staff_login(client, dora)
    assert client.get("/staff/enquiries/").status_code == 200

    assert [a for a in actions() if a.startswith("staff.")] == [
        "staff.role_grant_request",
        "staff.roles_self_change_refused",
        "staff.roles_self_change_refused",
        "staff.role_grant_approve",
        "staff.roles_change",
    ]
    approved = Entry.objects.get(action="staff.role_grant_approve")
    assert approved.actor_id == bea.pk and approved.object_id == str(dora.pk)
    assert approved.data["role"] == "privacy_officer" and approved.data["requested_by"] == alice.pk

    # Every active administrator heard of the request and of the approval, in their own language.
    outbox_deliver_due()
    received = sorted((m["To"], str(m["Subject"]).strip()) for m in smtp_server.messages)
    assert received == [
        ("alice@example.com", "Godkjenning trengs: Dora Drift som Personvernansvarlig"),
        ("alice@example.com", "Rolle godkjent: Dora Drift er nå Personvernansvarlig"),
        ("bea@example.com", "Approval needed: Dora Drift as Privacy officer"),
        ("bea@example.com", "Role approved: Dora Drift is now Privacy officer"),
        ("dora@example.com", "Godkjenning trengs: Dora Drift som Personvernansvarlig"),
        ("dora@example.com", "Rolle godkjent: Dora Drift er nå Personvernansvarlig"),
    ]
    # The deactivated administrator is not told; no mail names anyone's address.
    assert "dag@example.com" not in [m["To"] for m in smtp_server.messages]
    for mail in smtp_server.messages:
        body = mail.get_body(("plain",)).get_content()
        assert "Bea Berg" in body or "Alice Admin" in body
        assert "@example.com" not in body


def test_a_declined_role_leaves_the_roles_as_they_were(client, personas, smtp_server):
    alice = personas.admin
    bea = admin("bea@example.com", "Bea Berg")
    sam = personas.sales
    staff_login(client, alice)
    client.post(f"/staff/people/{sam.pk}/roles/", {"roles": ["sales", "admin"]})
    grant = PendingRoleGrant.objects.get(user=sam, role="admin")

    staff_login(client, bea)
    response = client.post(f"/staff/people/grants/{grant.pk}/", {"decision": "decline"})
    assert "Rollen er avslått." in client.get(response["Location"]).content.decode()
    assert User.objects.get(pk=sam.pk).roles == {"sales"}
    assert not PendingRoleGrant.objects.exists()
    staff_login(client, sam)
    assert client.get("/staff/people/").status_code == 403
    declined = Entry.objects.get(action="staff.role_grant_decline")
    assert declined.actor_id == bea.pk and declined.data["role"] == "admin"
    assert "staff.roles_change" not in actions()

    outbox_deliver_due()
    subjects = sorted((m["To"], str(m["Subject"]).strip()) for m in smtp_server.messages)
    assert subjects == [
        ("alice@example.com", "Godkjenning trengs: Sam Salg som Administrator"),
        ("alice@example.com", "Rolle avslått: Sam Salg blir ikke Administrator"),
        ("bea@example.com", "Godkjenning trengs: Sam Salg som Administrator"),
        ("bea@example.com", "Rolle avslått: Sam Salg blir ikke Administrator"),
    ]


def test_removing_roles_and_granting_sales_take_effect_at_once(client, personas):
    bea = admin("bea@example.com", "Bea Berg")
    staff_login(client, personas.admin)
    client.post(f"/staff/people/{bea.pk}/roles/", {"roles": ["sales"]})
    assert User.objects.get(pk=bea.pk).roles == {"sales"}
    client.post(f"/staff/people/{personas.privacy_officer.pk}/roles/", {"roles": ["sales"]})
    assert User.objects.get(pk=personas.privacy_officer.pk).roles == {"sales"}
    assert not PendingRoleGrant.objects.exists()


def test_with_one_administrator_the_grant_waits_and_the_operator_can_grant_it_on_the_server(client, personas):
    pia = personas.privacy_officer
    staff_login(client, personas.admin)
    response = client.post(f"/staff/people/{pia.pk}/roles/", {"roles": ["privacy_officer", "admin"]})
    page = client.get(response["Location"]).content.decode()
    assert "Ingen annen administrator kan godkjenne det ennå" in page and "vern staff roles" in page
    assert User.objects.get(pk=pia.pk).roles == {"privacy_officer"}

    call_command("staff", "roles", "--email", pia.email, "--role", "privacy_officer", "--role", "admin")
    assert User.objects.get(pk=pia.pk).roles == {"privacy_officer", "admin"}
    assert not PendingRoleGrant.objects.exists()
    change = Entry.objects.get(action="staff.roles_change")
    assert change.actor_kind == "cli"


def test_two_administrators_approving_at_once_grant_the_role_once(personas):
    bea = admin("bea@example.com", "Bea Berg")
    cato = admin("cato@example.com", "Cato Cox")
    saved = services.staff_set_roles(
        user=personas.sales, roles=["sales", "privacy_officer"], actor=Actor.staff(personas.admin)
    )
    [grant] = saved.waiting
    services.staff_grant_decide(grant=grant, approve=True, by=bea)
    with pytest.raises(services.StaffError, match="allerede bestemt"):
        services.staff_grant_decide(grant=grant, approve=False, by=cato)
    assert User.objects.get(pk=personas.sales.pk).roles == {"sales", "privacy_officer"}


def test_a_new_account_gets_a_powerful_role_only_through_a_second_administrator(client, personas):
    staff_login(client, personas.admin)
    client.post(
        "/staff/people/new/",
        {"name": "Nina", "email": "nina@example.com", "language": "nb", "roles": ["privacy_officer", "admin", "sales"]},
    )
    nina = User.objects.get(email="nina@example.com")
    assert nina.roles == {"sales"}  # what needs no second administrator takes effect
    assert set(PendingRoleGrant.objects.filter(user=nina).values_list("role", flat=True)) == {
        "admin",
        "privacy_officer",
    }


def test_a_replaced_role_goes_at_once_and_a_grant_no_longer_chosen_lapses(personas):
    alice = personas.admin
    sam = personas.sales
    saved = services.staff_set_roles(user=sam, roles=["privacy_officer"], actor=Actor.staff(alice))
    assert User.objects.get(pk=sam.pk).roles == set() and [g.role for g in saved.waiting] == ["privacy_officer"]
    services.staff_set_roles(user=sam, roles=["sales"], actor=Actor.staff(alice))  # asked no more
    assert User.objects.get(pk=sam.pk).roles == {"sales"} and not PendingRoleGrant.objects.filter(user=sam).exists()


def test_grants_lapse_with_the_administrator_who_asked(personas):
    alice, bob = personas.admin, admin("bob@example.com", "Bob")
    services.staff_set_roles(user=personas.sales, roles=["sales", "privacy_officer"], actor=Actor.staff(bob))
    assert PendingRoleGrant.objects.filter(requested_by=bob).exists()
    services.staff_deactivate(user=bob, actor=Actor.staff(alice))
    assert not PendingRoleGrant.objects.filter(requested_by=bob).exists()  # nobody can approve it now
