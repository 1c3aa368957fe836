"""Staff accounts: create, change roles, deactivate, passwords, login. Each change is audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from vern.accounts import second_factor, throttle
from vern.accounts.models import PendingRoleGrant, RoleGrant, User
from vern.accounts.roles import NEEDS_SECOND_ADMIN, Capability, Role
from vern.audit.events import AuditEvent
from vern.audit.models import Entry
from vern.audit.services import Actor, audit_record
from vern.lib.ip import client_ip_shortened
from vern.lib.normalise import InvalidIdentifier, normalise_email
from vern.lib.ratelimit import Limit, hit
from vern.mail import emails

RESET_PER_IP = Limit("staff-reset-ip", limit=10, window_seconds=60 * 60)
RESET_PER_ACCOUNT = Limit("staff-reset-account", limit=3, window_seconds=60 * 60)


class StaffError(ValueError):
    """A staff change that is refused; the message is shown to the person who asked."""


class Throttled(Exception):
    """Too many failed attempts from this network; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, retry_after: int = 0) -> None:
        super().__init__(f"try again in {retry_after} s")
        self.retry_after = retry_after


def _clean_roles(roles: Iterable[str]) -> list[Role]:
    cleaned = sorted({Role(role) for role in roles})
    if not cleaned:
        raise StaffError(_("Give the account at least one role."))
    return cleaned


def _active_admins_other_than(user: User) -> int:
    """How many other active administrators there are (call inside a transaction).

    Every administrator's row is locked first, this one's included and in a fixed
    order, so two administrators who demote each other at the same moment queue
    up; the count after the lock is a fresh read, so the second sees that the
    first is gone and is refused.
    """
    list(User.objects.select_for_update().filter(role_grants__role=Role.ADMIN).order_by("pk").values_list("pk"))
    return User.objects.filter(is_active=True, role_grants__role=Role.ADMIN).exclude(pk=user.pk).distinct().count()


def password_set_link(user: User) -> str:
    """A link, in the account's own language, that lets its owner set a password (valid three days)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    with translation.override(user.language):
        path = reverse("accounts:password_set", kwargs={"uidb64": uid, "token": token})
    return f"{settings.VERN_PUBLIC_URL}{path}"


def staff_create(
    *,
    email: str,
    name: str,
    roles: Iterable[str],
    actor: Actor,
    password: str | None = None,
    language: str = "nb",
    send_invitation: bool = True,
) -> User:
    """Create a staff account. Without a password, the person is sent a link to set one."""
    try:
        address = normalise_email(email)
    except InvalidIdentifier:
        raise StaffError(_("Enter a valid email address.")) from None
    cleaned_roles = _clean_roles(roles)
    name = name.strip() or address.split("@")[0]
    with transaction.atomic():
        if User.objects.filter(email=address).exists():
            raise StaffError(_("A staff account with this email address already exists."))
        user = User(email=address, name=name, language=language)
        if password is not None:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise StaffError(" ".join(exc.messages)) from None
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        # From the console, admin and privacy officer wait for a second administrator here too.
        asked = [role for role in cleaned_roles if role in NEEDS_SECOND_ADMIN] if _by_staff(actor) else []
        granted = [role for role in cleaned_roles if role not in asked]
        RoleGrant.objects.bulk_create([RoleGrant(user=user, role=role) for role in granted])
        audit_record(
            action=AuditEvent.STAFF_CREATED,
            actor=actor,
            object_type="accounts.user",
            object_id=user.pk,
            data={"roles": [str(role) for role in granted], "password_set": password is not None},
        )
        _ask_for(user=user, roles=asked, actor=actor)
        if password is None and send_invitation:
            emails.staff_invitation(to=user.email, language=user.language, name=user.name, link=password_set_link(user))
    return user


@dataclass(frozen=True)
class RolesSaved:
    """What saving an account's roles did: ``user`` has its roles now; ``waiting`` waits for a second administrator."""

    user: User
    waiting: list[PendingRoleGrant]
    approvers: int  # how many active administrators could approve what waits


def _refuse_own_roles(*, user: User, actor: Actor, data: dict[str, Any]) -> NoReturn:
    # In a transaction of its own, so that the attempt stays on record although nothing else happens.
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_ROLES_SELF_CHANGE_REFUSED,
            actor=actor,
            object_type="accounts.user",
            object_id=user.pk,
            data=data,
        )
    raise StaffError(_("Nobody can change their own roles. Ask another administrator."))


def _approvers(grant_user_id: int, requested_by_id: int) -> int:
    return (
        User.objects.filter(is_active=True, role_grants__role=Role.ADMIN)
        .exclude(pk__in=[grant_user_id, requested_by_id])
        .distinct()
        .count()
    )


def _tell_administrators(*, outcome: str, grant: PendingRoleGrant, decided_by: User | None = None) -> None:
    """Mail every active administrator about a grant of a powerful role: asked for, approved or declined."""
    for admin in User.objects.filter(is_active=True, role_grants__role=Role.ADMIN).distinct().order_by("pk"):
        with translation.override(admin.language):
            link = f"{settings.VERN_PUBLIC_URL}{reverse('accounts:people')}"
        emails.staff_role_grant(
            to=admin.email,
            language=admin.language,
            name=admin.name,
            outcome=outcome,
            person=grant.user.name,
            role=Role(grant.role).label,  # lazy: the mail is written in the recipient's language
            requested_by=grant.requested_by.name,
            decided_by=decided_by.name if decided_by is not None else "",
            link=link,
        )


def _by_staff(actor: Actor) -> bool:
    """Whether a staff member acts in the console (the operator's ``vern staff`` grants at once)."""
    return actor.kind == Entry.ActorKind.STAFF and actor.id is not None


def _ask_for(*, user: User, roles: Iterable[Role], actor: Actor) -> list[PendingRoleGrant]:
    """File each role as a grant that waits for a second administrator, audited, every admin told."""
    waiting: list[PendingRoleGrant] = []
    roles = list(roles)
    if not roles or actor.id is None:
        return waiting
    requester = User.objects.get(pk=actor.id)
    for role in roles:
        grant, created = PendingRoleGrant.objects.get_or_create(
            user=user, role=role, defaults={"requested_by": requester}
        )
        waiting.append(grant)
        if created:
            audit_record(
                action=AuditEvent.STAFF_ROLE_GRANT_REQUESTED,
                actor=actor,
                object_type="accounts.user",
                object_id=user.pk,
                data={"role": str(role), "grant": grant.pk},
            )
            _tell_administrators(outcome="requested", grant=grant)
    return waiting


def _forget_grants_asked_by(user: User) -> None:
    """Grants this account asked for lapse when it can no longer ask (deactivated, or no longer admin)."""
    PendingRoleGrant.objects.filter(requested_by=user).delete()


def staff_set_roles(*, user: User, roles: Iterable[str], actor: Actor) -> RolesSaved:
    """Give ``user`` exactly ``roles``.

    Nobody changes their own roles. Roles taken away, and roles that open neither
    personal data nor the staff accounts, take effect at once. A staff member who gives
    someone a role of ``NEEDS_SECOND_ADMIN`` only asks for it: it waits as a
    ``PendingRoleGrant`` until another administrator approves it, and every
    administrator is told by mail; until then the account has the other roles chosen,
    possibly none. A waiting grant for a role no longer chosen lapses. The operator on
    the command line (``vern staff``) grants at once.
    """
    new = _clean_roles(roles)
    by_staff = _by_staff(actor)
    if by_staff and actor.id == user.pk:
        _refuse_own_roles(user=user, actor=actor, data={"asked": [str(role) for role in new]})
    with transaction.atomic():
        old = sorted(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
        asked = [role for role in new if role not in old and role in NEEDS_SECOND_ADMIN] if by_staff else []
        effective = [role for role in new if role not in asked]
        if Role.ADMIN in old and Role.ADMIN not in effective and _active_admins_other_than(user) == 0:
            raise StaffError(_("This is the last active administrator; make someone else an administrator first."))
        # A grant waiting for a role no longer chosen lapses; one for a role granted here is done.
        PendingRoleGrant.objects.filter(user=user).exclude(role__in=asked).delete()
        if effective != old:
            RoleGrant.objects.filter(user=user).exclude(role__in=effective).delete()
            RoleGrant.objects.bulk_create(
                [RoleGrant(user=user, role=role) for role in effective if role not in old], ignore_conflicts=True
            )
            audit_record(
                action=AuditEvent.STAFF_ROLES_CHANGED,
                actor=actor,
                object_type="accounts.user",
                object_id=user.pk,
                data={"old": old, "new": [str(role) for role in effective]},
            )
        if Role.ADMIN in old and Role.ADMIN not in effective:
            _forget_grants_asked_by(user)  # no longer an administrator, so no longer asking
        waiting = _ask_for(user=user, roles=asked, actor=actor)
    user.__dict__.pop("roles", None)
    approvers = min((_approvers(grant.user_id, grant.requested_by_id) for grant in waiting), default=0)
    return RolesSaved(user=user, waiting=waiting, approvers=approvers)


def staff_grant_decide(*, grant: PendingRoleGrant, approve: bool, by: User) -> PendingRoleGrant:
    """Another administrator approves (the role takes effect) or declines a waiting grant.

    Neither the one who asked nor the one who would get the role may decide.
    """
    actor = Actor.staff(by)
    if by.pk == grant.requested_by_id and by.pk != grant.user_id:
        with transaction.atomic():  # on record, although nothing else happens
            audit_record(
                action=AuditEvent.STAFF_ROLES_SELF_CHANGE_REFUSED,
                actor=actor,
                object_type="accounts.user",
                object_id=grant.user_id,
                data={"role": grant.role, "grant": grant.pk, "decision": "approve" if approve else "decline"},
            )
        raise StaffError(_("You asked for this role, so another administrator decides it."))
    if by.pk == grant.user_id:
        _refuse_own_roles(
            user=grant.user,
            actor=actor,
            data={"role": grant.role, "grant": grant.pk, "decision": "approve" if approve else "decline"},
        )
    if not (by.is_active and by.can(Capability.MANAGE_STAFF)):
        raise StaffError(_("Only an administrator can approve or decline a role."))
    with transaction.atomic():
        locked = PendingRoleGrant.objects.select_for_update().filter(pk=grant.pk).first()
        if locked is None:
            raise StaffError(_("Another administrator has already decided this."))
        user = grant.user
        if approve and not User.objects.filter(pk=user.pk, is_active=True).exists():
            raise StaffError(_("The account is deactivated; reactivate it before approving a role for it."))
        old = sorted(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
        locked.delete()
        audit_record(
            action=AuditEvent.STAFF_ROLE_GRANT_APPROVED if approve else AuditEvent.STAFF_ROLE_GRANT_DECLINED,
            actor=actor,
            object_type="accounts.user",
            object_id=user.pk,
            data={"role": grant.role, "grant": grant.pk, "requested_by": grant.requested_by_id},
        )
        if approve:
            RoleGrant.objects.get_or_create(user=user, role=grant.role)
            audit_record(
                action=AuditEvent.STAFF_ROLES_CHANGED,
                actor=actor,
                object_type="accounts.user",
                object_id=user.pk,
                data={"old": old, "new": sorted({*old, grant.role})},
            )
        _tell_administrators(outcome="approved" if approve else "declined", grant=grant, decided_by=by)
    user.__dict__.pop("roles", None)
    return grant


def staff_deactivate(*, user: User, actor: Actor) -> User:
    with transaction.atomic():
        if RoleGrant.objects.filter(user=user, role=Role.ADMIN).exists() and _active_admins_other_than(user) == 0:
            raise StaffError(_("This is the last active administrator; make someone else an administrator first."))
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(action=AuditEvent.STAFF_DEACTIVATED, actor=actor, object_type="accounts.user", object_id=user.pk)
        # What it asked for, and what waited for it, lapse with the account.
        _forget_grants_asked_by(user)
        PendingRoleGrant.objects.filter(user=user).delete()
    return user


def staff_reactivate(*, user: User, actor: Actor) -> User:
    """Let a deactivated account log in again. From the console, its admin and privacy officer roles
    come back only through a second administrator's approval, as when they were first granted."""
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(action=AuditEvent.STAFF_REACTIVATED, actor=actor, object_type="accounts.user", object_id=user.pk)
        if _by_staff(actor):
            held = [Role(role) for role in RoleGrant.objects.filter(user=user).values_list("role", flat=True)]
            powerful = [role for role in held if role in NEEDS_SECOND_ADMIN]
            if powerful:
                RoleGrant.objects.filter(user=user, role__in=powerful).delete()
                audit_record(
                    action=AuditEvent.STAFF_ROLES_CHANGED,
                    actor=actor,
                    object_type="accounts.user",
                    object_id=user.pk,
                    data={"old": sorted(held), "new": sorted(role for role in held if role not in powerful)},
                )
                _ask_for(user=user, roles=powerful, actor=actor)
        user.__dict__.pop("roles", None)
    return user


def staff_set_password(*, user: User, password: str, actor: Actor) -> User:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise StaffError(" ".join(exc.messages)) from None
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(action=AuditEvent.STAFF_PASSWORD_SET, actor=actor, object_type="accounts.user", object_id=user.pk)
    return user


def staff_send_password_link(*, user: User, actor: Actor) -> None:
    """An administrator sends a staff member a fresh link to set a password."""
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_PASSWORD_LINK_SENT, actor=actor, object_type="accounts.user", object_id=user.pk
        )
        emails.staff_password_reset(to=user.email, language=user.language, name=user.name, link=password_set_link(user))


def staff_password_reset_request(*, request: HttpRequest, email: str) -> None:
    """Mail a set-password link if an active account has this address; say nothing either way."""
    try:
        address = normalise_email(email)
    except InvalidIdentifier:
        return
    if not hit(RESET_PER_IP, client_ip_shortened(request)) or not hit(RESET_PER_ACCOUNT, address):
        raise Throttled
    user = User.objects.filter(email=address, is_active=True).first()
    if user is None:
        return
    with transaction.atomic():
        audit_record(
            action=AuditEvent.STAFF_PASSWORD_RESET_REQUESTED,
            actor=Actor.visitor(),
            object_type="accounts.user",
            object_id=user.pk,
        )
        emails.staff_password_reset(to=user.email, language=user.language, name=user.name, link=password_set_link(user))


def staff_check_password(*, request: HttpRequest, email: str, password: str) -> User | None:
    """The account for this email and password, or None; raises ``Throttled`` while this network waits.

    Only failures count, per account from each network and per network (``throttle``): guessing
    slows down step by step, and failures from elsewhere never keep the owner out.
    """
    try:
        address = normalise_email(email)
    except InvalidIdentifier:
        address = email.strip().lower()  # still counted, so malformed guesses are limited too
    network = client_ip_shortened(request)
    wait = throttle.attempt(account=address, network=network)
    if wait:
        raise Throttled(wait)
    user = authenticate(request, username=address, password=password)
    if isinstance(user, User):
        throttle.succeeded(account=address, network=network)
        return user
    staff_login_failed(user=User.objects.filter(email=address).first())
    return None


def staff_login(*, request: HttpRequest, user: User) -> None:
    """The first step of a login whose password was checked: the session belongs to ``user`` now,
    but no staff page answers it until the second factor passes (``second_factor``)."""
    with transaction.atomic():
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        second_factor.mark_password_given(request.session)
        audit_record(
            action=AuditEvent.STAFF_PASSWORD_ACCEPTED,
            actor=Actor.staff(user),
            object_type="accounts.user",
            object_id=user.pk,
        )


def staff_login_failed(*, user: User | None) -> None:
    """Audit a failed password for a known account (unknown addresses are not recorded)."""
    if user is not None:
        audit_record(
            action=AuditEvent.STAFF_LOGIN_FAILED, actor=Actor.visitor(), object_type="accounts.user", object_id=user.pk
        )


def staff_logout(*, request: HttpRequest) -> None:
    user = request.user
    with transaction.atomic():
        if isinstance(user, User):
            audit_record(
                action=AuditEvent.STAFF_LOGGED_OUT,
                actor=Actor.staff(user),
                object_type="accounts.user",
                object_id=user.pk,
            )
        second_factor.sign_in_close(request.session)
        logout(request)


def staff_set_language(*, user: User, language: str) -> User:
    """The language the console, its dates and vern's mails to this person are in (``nb`` or ``en``)."""
    if language not in dict(settings.LANGUAGES):
        raise StaffError(_("Choose Norsk bokmål or English."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
