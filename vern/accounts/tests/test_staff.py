"""Staff accounts: created without a prompt, roles with least privilege, every change audited (P18)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from vern.accounts import services
from vern.accounts.models import User
from vern.accounts.roles import Capability, Role
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.mail.models import OutboxMessage
from vern.testing import run_vern, vern_env

STRONG = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_p18_passwords_are_stored_with_argon2():
    user = services.staff_create(
        email="ola@example.com", name="Ola", roles=["sales"], password=STRONG, actor=Actor.cli()
    )
    assert user.password.startswith("argon2$")
    assert user.check_password(STRONG)


@pytest.mark.django_db
def test_p18_each_role_gets_only_what_it_needs():
    sales = services.staff_create(email="s@example.com", name="S", roles=["sales"], password=STRONG, actor=Actor.cli())
    assert sales.capabilities == {Capability.CONSOLE, Capability.WORK_ENQUIRIES, Capability.READ_ANALYTICS}
    officer = services.staff_create(
        email="p@example.com", name="P", roles=["privacy_officer"], password=STRONG, actor=Actor.cli()
    )
    assert officer.capabilities == {
        Capability.CONSOLE,
        Capability.READ_AUDIT,
        Capability.MANAGE_DECLARATION,
        Capability.READ_CONSENT,
        Capability.WORK_ENQUIRIES,
        Capability.MANAGE_RETENTION,
        Capability.READ_ANALYTICS,
        Capability.HANDLE_REQUESTS,
        Capability.READ_SECURITY_REGISTERS,
        Capability.KEEP_SECURITY_REGISTERS,
        Capability.READ_PROCESSORS,
        Capability.MANAGE_PROCESSORS,
    }
    both = services.staff_create(
        email="b@example.com",
        name="B",
        roles=["sales", "privacy_officer"],
        password=STRONG,
        actor=Actor.cli(),
    )
    assert both.roles == {"sales", "privacy_officer"}


@pytest.mark.django_db
def test_a_new_account_without_a_password_gets_an_invitation_by_mail():
    user = services.staff_create(
        email="Kari@Example.com", name="Kari", roles=["sales"], actor=Actor.cli(), language="en"
    )
    assert user.email == "kari@example.com"
    assert not user.has_usable_password()
    mail = OutboxMessage.objects.get()
    assert mail.kind == "staff_invitation" and mail.language == "en"
    assert "http://testserver/en/staff/password/set/" in mail.body_text  # the link opens in her language


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"email": "not-an-email"}, "valid email"),
        ({"roles": []}, "at least one role"),
        ({"password": "short"}, "too short"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_creates_nothing(kwargs, message):
    arguments = {"email": "ok@example.com", "name": "Ok", "roles": ["sales"], "actor": Actor.cli(), **kwargs}
    with pytest.raises(services.StaffError, match=message):
        services.staff_create(**arguments)
    assert not User.objects.exists() and not Entry.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_an_email_address_can_have_only_one_account_whatever_its_case():
    services.staff_create(email="ola@example.com", name="Ola", roles=["sales"], password=STRONG, actor=Actor.cli())
    with pytest.raises(services.StaffError, match="already exists"):
        services.staff_create(email="OLA@example.com", name="Ola", roles=["sales"], password=STRONG, actor=Actor.cli())


@pytest.mark.django_db
def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(personas):
    alice = personas.admin
    # Nobody changes their own roles in the console, so the operator tries it on the command line.
    with pytest.raises(services.StaffError, match="last active administrator"):
        services.staff_set_roles(user=alice, roles=["sales"], actor=Actor.cli())
    with pytest.raises(services.StaffError, match="last active administrator"):
        services.staff_deactivate(user=alice, actor=Actor.staff(alice))
    services.staff_set_roles(user=personas.privacy_officer, roles=["privacy_officer", "admin"], actor=Actor.cli())
    services.staff_set_roles(user=alice, roles=["sales"], actor=Actor.staff(personas.privacy_officer))
    assert User.objects.get(pk=alice.pk).roles == {"sales"}


@pytest.mark.django_db
def test_p19_role_changes_are_audited_with_old_and_new_values(personas):
    # A privacy officer role asked for by another administrator takes effect when Alice approves it.
    other = services.staff_create(
        email="ole@example.com", name="Ole", roles=["admin"], password=STRONG, actor=Actor.cli()
    )
    saved = services.staff_set_roles(user=personas.sales, roles=["sales", "privacy_officer"], actor=Actor.staff(other))
    services.staff_grant_decide(grant=saved.waiting[0], approve=True, by=personas.admin)
    entry = Entry.objects.get(action="staff.roles_change")
    assert entry.actor_id == personas.admin.pk
    assert entry.object_id == str(personas.sales.pk)
    assert entry.data == {"old": ["sales"], "new": ["privacy_officer", "sales"]}


@pytest.mark.django_db(transaction=True)
def test_vern_staff_add_works_without_a_prompt(tmp_path):
    password_file = tmp_path / "password"
    password_file.write_text(STRONG + "\n")
    result = run_vern(
        "staff",
        "add",
        "--email",
        "Ada@Example.com",
        "--role",
        "admin",
        "--role",
        "privacy_officer",
        "--name",
        "Ada",
        "--password-file",
        str(password_file),
        env=vern_env(),
    )
    assert result.returncode == 0, result.stderr
    assert "created staff account ada@example.com (admin, privacy_officer)" in result.stdout
    user = User.objects.get(email="ada@example.com")
    assert user.check_password(STRONG)
    assert set(user.roles) == {Role.ADMIN, Role.PRIVACY_OFFICER}
    assert Entry.objects.get(action="staff.create").actor_kind == "cli"

    invited = run_vern("staff", "add", "--email", "bo@example.com", "--role", "sales", env=vern_env())
    assert invited.returncode == 0, invited.stderr
    assert re.search(r"http://testserver/staff/password/set/\S+/\S+/", invited.stdout)

    listing = run_vern("staff", "list", env=vern_env())
    assert "ada@example.com\tadmin,privacy_officer\tactive" in listing.stdout

    duplicate = run_vern("staff", "add", "--email", "ada@example.com", "--role", "sales", env=vern_env())
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr

    wrong_role = run_vern("staff", "add", "--email", "x@example.com", "--role", "boss", env=vern_env())
    assert wrong_role.returncode != 0 and "invalid choice: 'boss'" in wrong_role.stderr


@pytest.mark.django_db(transaction=True)
def test_two_administrators_demoting_each_other_at_once_leave_one_administrator():
    import threading

    from django.db import connection

    first = services.staff_create(
        email="a1@example.com", name="A1", roles=["admin"], password=STRONG, actor=Actor.cli()
    )
    second = services.staff_create(
        email="a2@example.com", name="A2", roles=["admin"], password=STRONG, actor=Actor.cli()
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(user: User, by: User) -> None:
        barrier.wait()
        try:
            services.staff_set_roles(user=user, roles=["sales"], actor=Actor.staff(by))
            outcomes.append("demoted")
        except services.StaffError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first, second)),
        threading.Thread(target=demote, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["demoted", "refused"]
    assert User.objects.filter(role_grants__role="admin", is_active=True).count() == 1
