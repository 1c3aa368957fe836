"""The ``vern`` command: Django's management commands, with errors in one line.

``vern serve``, ``vern worker``, ``vern run``, ``vern migrate``, ``vern staff …``,
``vern audit verify`` and every other management command. A malformed setting
or a database that cannot be reached ends the command with one line on stderr
and a non-zero exit status, not a traceback.
"""

from __future__ import annotations

import os
import sys


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


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

    try:
        execute_from_command_line(["vern", *args])
    except OperationalError as exc:
        from django.db import connection

        where = connection.settings_dict.get("HOST") or connection.settings_dict.get("NAME")
        sys.exit(f"vern: cannot use the database at {where}: {_first_line(exc)} (check DATABASE_URL)")
    except KeyboardInterrupt:
        sys.exit(130)
