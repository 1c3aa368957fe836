"""Administrators manage staff accounts in the console."""

from __future__ import annotations

import pytest

from vern.accounts.models import PendingRoleGrant, User
from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.mail.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_a_staff_member_who_is_invited_by_mail(client, personas):
    staff_login(client, personas.admin)
    response = client.post(
        "/staff/people/new/",
        {
            "name": "Nina Ny",
            "email": "nina@example.com",
            "roles": ["sales"],
            "language": "en",
        },
    )
    nina = User.objects.get(email="nina@example.com")
    assert response.status_code == 302 and response["Location"] == f"/staff/people/{nina.pk}/"
    assert nina.roles == {"sales"}
    assert OutboxMessage.objects.get().kind == "staff_invitation"


def test_adding_a_staff_member_without_a_role_explains_what_is_missing(client, personas):
    staff_login(client, personas.admin)
    response = client.post("/staff/people/new/", {"name": "Nina", "email": "nina@example.com", "language": "nb"})
    assert response.status_code == 200
    assert "Feltet er påkrevet." in response.content.decode()
    assert not User.objects.filter(email="nina@example.com").exists()


def test_an_administrator_changes_roles_and_deactivates_an_account(client, personas):
    staff_login(client, personas.admin)
    # Adding sales takes effect at once (a privacy officer role would wait for a second administrator).
    sam = personas.privacy_officer
    client.post(f"/staff/people/{sam.pk}/roles/", {"roles": ["sales", "privacy_officer"]})
    assert User.objects.get(pk=sam.pk).roles == {"sales", "privacy_officer"}
    client.post(f"/staff/people/{sam.pk}/active/", {"active": "no"})
    assert not User.objects.get(pk=sam.pk).is_active
    client.post(f"/staff/people/{sam.pk}/active/", {"active": "yes"})
    assert User.objects.get(pk=sam.pk).is_active
    # Back in, the privacy officer role waits for a second administrator, as when it was first given.
    assert User.objects.get(pk=sam.pk).roles == {"sales"}
    assert list(PendingRoleGrant.objects.filter(user=sam).values_list("role", flat=True)) == ["privacy_officer"]
    assert list(Entry.objects.order_by("seq").values_list("action", flat=True)) == [
        "staff.roles_change",
        "staff.deactivate",
        "staff.reactivate",
        "staff.roles_change",
        "staff.role_grant_request",
    ]


def test_a_deactivated_member_is_logged_out_at_once(client, personas):
    staff_login(client, personas.sales)
    assert client.get("/staff/").status_code == 200
    personas.sales.is_active = False
    personas.sales.save()
    assert client.get("/staff/").status_code == 302


def test_the_staff_list_shows_everyone_in_few_queries(client, personas, django_assert_max_num_queries):
    staff_login(client, personas.admin)
    # Two of them check the session's second factor and that its sign-in was not ended elsewhere.
    with django_assert_max_num_queries(10):
        page = client.get("/staff/people/").content.decode()
    for person in personas.all().values():
        assert person.email in page


def test_an_unclear_activation_request_changes_nothing(client, personas):
    staff_login(client, personas.admin)
    response = client.post(f"/staff/people/{personas.sales.pk}/active/", {"active": "maybe"})
    assert response.status_code == 400
    assert User.objects.get(pk=personas.sales.pk).is_active
    assert not Entry.objects.exists()
