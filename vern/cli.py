"""The ``vern`` command: vern's own management commands, with errors in one line.

``vern`` alone (or ``vern help``) lists vern's own commands: ``serve``, ``worker``,
``run``, ``staff``, ``declaration``, ``rights``, ``audit`` and the rest, plus the
two Django commands an operator needs, ``migrate`` and ``check``. Django's other
commands, ``flush`` and ``createsuperuser`` among them, stay reachable under one
subcommand, ``vern django NAME``, so that they are not offered beside vern's own.

A malformed setting or a database that cannot be reached ends the command with
one line on stderr and a non-zero exit status, not a traceback.
"""

from __future__ import annotations

import os
import sys

# Django's commands that an operator of vern runs directly; every other Django command is under `vern django`.
DJANGO_AT_TOP = frozenset({"check", "migrate"})
HELP_WORDS = frozenset({"help", "--help", "-h"})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def top_level_commands() -> dict[str, str]:
    """Each command ``vern NAME`` offers, with the app that provides it: vern's own and ``DJANGO_AT_TOP``."""
    from django.core.management import get_commands

    return {
        name: app
        for name, app in sorted(get_commands().items())
        if app == "vern" or app.startswith("vern.") or name in DJANGO_AT_TOP
    }


def _usage() -> str:
    from django.core.management import load_command_class

    lines = ["Usage: vern COMMAND [options]", "", "Commands:"]
    for name, app in top_level_commands().items():
        summary = (load_command_class(app, name).help or "").strip().splitlines()
        lines.append(f"  {name:<12} {summary[0] if summary else ''}")
    lines += [
        "",
        "  django       Django's own commands: `vern django help` lists them, `vern django NAME` runs one",
        "",
        "`vern help COMMAND` or `vern COMMAND --help` describes one command.",
    ]
    return "\n".join(lines)


def _django_argv(args: list[str]) -> list[str] | None:
    """The argument list for Django's command runner, or None after printing help (or exiting on an unknown command)."""
    if not args or (args[0] in HELP_WORDS and len(args) == 1):
        print(_usage())
        return None
    if args[0] == "django":
        return ["vern django", *args[1:]]
    name = args[1] if args[0] == "help" else args[0]
    if name.startswith("-") or name in top_level_commands():
        return ["vern", *args]
    sys.exit(
        f"vern: unknown command {name!r}. `vern help` lists vern's commands; "
        f"Django's own are under `vern django {name}`."
    )


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vern.settings")
    args = sys.argv[1:] if argv is None else argv

    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.db.utils import OperationalError

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        sys.exit(f"vern: configuration error: {_first_line(exc)}")

    from django.core.management import execute_from_command_line
    from django.utils import translation

    # Messages follow the operator's locale: Norwegian for nb/nn/no, English otherwise.
    locale = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    translation.activate("nb" if locale[:2] in ("nb", "nn", "no") else "en")

    django_argv = _django_argv(args)
    if django_argv is None:
        return
    try:
        execute_from_command_line(django_argv)
    except OperationalError as exc:
        from django.db import connection

        where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
        sys.exit(f"vern: cannot use the database at {where}: {_first_line(exc)} (check DATABASE_URL)")
    except KeyboardInterrupt:
        sys.exit(130)
