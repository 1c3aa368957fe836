"""``vern staff add|list|roles|deactivate|reactivate|password|link|reset-second-factor``: staff accounts without a
browser."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from vern.accounts import second_factor, services
from vern.accounts.models import User
from vern.accounts.roles import Role
from vern.audit.services import Actor
from vern.lib.normalise import InvalidIdentifier, normalise_email

ROLE_NAMES = [role.value for role in Role]


def _read_password(path: str) -> str:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read the password file {path}: {exc.strerror}") from None
    password = text.rstrip("\r\n")
    if not password:
        raise CommandError(f"the password file {path} is empty")
    return password


class Command(BaseCommand):
    help = "Manage staff accounts: add, list, roles, deactivate, reactivate, password, link, reset-second-factor."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        add = sub.add_parser("add", help="create a staff account")
        add.add_argument("--email", required=True)
        add.add_argument("--role", action="append", required=True, choices=ROLE_NAMES, help="repeat for several roles")
        add.add_argument("--name", default="")
        add.add_argument("--language", default="nb", choices=["nb", "en"])
        add.add_argument(
            "--password-file",
            help="read the password from this file ('-' for stdin); "
            "without it, a link to set the password is printed and mailed",
        )

        sub.add_parser("list", help="list staff accounts")

        roles = sub.add_parser("roles", help="replace the roles of an account (at once, audited as a command-line act)")
        roles.add_argument("--email", required=True)
        roles.add_argument("--role", action="append", required=True, choices=ROLE_NAMES)

        for name in ("deactivate", "reactivate", "link"):
            one = sub.add_parser(
                name,
                help={
                    "deactivate": "stop an account from logging in",
                    "reactivate": "let a deactivated account log in again",
                    "link": "print and mail a fresh link to set the password",
                }[name],
            )
            one.add_argument("--email", required=True)

        reset = sub.add_parser(
            "reset-second-factor",
            help="forget an account's authenticator app and recovery codes (lost phone, or the last administrator "
            "locked out); it sets one up again at its next login",
        )
        reset.add_argument("--email", required=True)

        password = sub.add_parser("password", help="set the password of an account")
        password.add_argument("--email", required=True)
        password.add_argument("--password-file", required=True)

    def _user(self, email: str) -> User:
        try:
            user = User.objects.filter(email=normalise_email(email)).first()
        except InvalidIdentifier:
            user = None
        if user is None:
            raise CommandError(f"no staff account has the email address {email}")
        return user

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        actor = Actor.cli()
        try:
            getattr(self, f"_{action.replace('-', '_')}")(actor=actor, **options)
        except (services.StaffError, second_factor.SecondFactorError) as exc:
            raise CommandError(str(exc)) from None

    def _add(
        self,
        *,
        actor: Actor,
        email: str,
        role: list[str],
        name: str,
        language: str,
        password_file: str | None,
        **_: Any,
    ) -> None:
        password = _read_password(password_file) if password_file else None
        with transaction.atomic():
            user = services.staff_create(
                email=email, name=name, roles=role, language=language, password=password, actor=actor
            )
        self.stdout.write(f"created staff account {user.email} ({', '.join(sorted(user.roles))})")
        if password is None:
            self.stdout.write(
                "set the password within three days at:\n"
                f"  {services.password_set_link(user)}\n"
                "(the same link is also mailed to the account)"
            )

    def _list(self, **_: Any) -> None:
        for user in User.objects.prefetch_related("role_grants").order_by("email"):
            state = "active" if user.is_active else "deactivated"
            self.stdout.write(f"{user.email}\t{','.join(sorted(user.roles))}\t{state}")

    def _roles(self, *, actor: Actor, email: str, role: list[str], **_: Any) -> None:
        # The operator's own act on the server: it takes effect at once, with no second administrator.
        user = services.staff_set_roles(user=self._user(email), roles=role, actor=actor).user
        self.stdout.write(f"{user.email} now has the roles {', '.join(sorted(role))}")

    def _deactivate(self, *, actor: Actor, email: str, **_: Any) -> None:
        user = services.staff_deactivate(user=self._user(email), actor=actor)
        self.stdout.write(f"{user.email} is deactivated")

    def _reactivate(self, *, actor: Actor, email: str, **_: Any) -> None:
        user = services.staff_reactivate(user=self._user(email), actor=actor)
        self.stdout.write(f"{user.email} is active again")

    def _password(self, *, actor: Actor, email: str, password_file: str, **_: Any) -> None:
        user = services.staff_set_password(user=self._user(email), password=_read_password(password_file), actor=actor)
        self.stdout.write(f"the password of {user.email} is set")

    def _link(self, *, actor: Actor, email: str, **_: Any) -> None:
        user = self._user(email)
        services.staff_send_password_link(user=user, actor=actor)
        self.stdout.write(f"set the password within three days at:\n  {services.password_set_link(user)}")

    def _reset_second_factor(self, *, actor: Actor, email: str, **_: Any) -> None:
        user = self._user(email)
        second_factor.second_factor_reset(user=user, actor=actor)
        self.stdout.write(
            f"the second factor of {user.email} is reset; it sets up an authenticator app again at its next login"
        )
