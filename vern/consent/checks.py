"""The cookies vern sets itself are declared, with the lifetime they really have (P13)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.utils.translation import gettext_noop

from vern.consent.choice import COOKIE_NAME
from vern.declaration.durations import Duration
from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.schema import Declaration
from vern.lib.wording import Wording

# Each cookie vern sets, and the lifetime it sets: None for a browser-session cookie.
SET_BY_VERN = {
    "vern_session": ("SESSION_COOKIE_NAME", "SESSION_COOKIE_AGE"),
    "vern_csrf": ("CSRF_COOKIE_NAME", "CSRF_COOKIE_AGE"),
}


def actual_lifetimes() -> dict[str, int | None]:
    """Name → max-age in seconds (None: ends with the browser session), from the settings."""
    found: dict[str, int | None] = {}
    for name_setting, age_setting in SET_BY_VERN.values():
        found[getattr(settings, name_setting)] = getattr(settings, age_setting)
    found[COOKIE_NAME] = -1  # follows the declaration's consent_lifetime by construction
    return found


def cookie_problems(declaration: Declaration) -> list[tuple[str, tuple[int | str, ...], Wording]]:
    """(check id, path in the declaration, message) for each cookie vern sets that the declaration
    leaves out, says another system sets, or gives another lifetime than the settings do."""
    index = {c.name: i for i, c in enumerate(declaration.cookies.cookies)}
    problems: list[tuple[str, tuple[int | str, ...], Wording]] = []
    for name, max_age in actual_lifetimes().items():
        if name not in index:
            problems.append(
                (
                    "vern.consent.E001",
                    ("cookies", "cookies"),
                    Wording.of(
                        gettext_noop("vern sets the cookie %(name)s, but the declaration does not list it (P8)."),
                        name=repr(name),
                    ),
                )
            )
            continue
        cookie = declaration.cookies.cookies[index[name]]
        at: tuple[int | str, ...] = ("cookies", "cookies", index[name])
        if cookie.set_by != "vern":
            problems.append(
                (
                    "vern.consent.E002",
                    (*at, "set_by"),
                    Wording.of(
                        gettext_noop("the declaration says %(name)s is set by another system; vern sets it."),
                        name=repr(name),
                    ),
                )
            )
        if max_age == -1:
            continue
        duration = Duration.parse(cookie.duration, allow_session=True)
        if (max_age is None) != duration.is_session or (max_age is not None and duration.exact_seconds() != max_age):
            lives = (
                Wording.of(
                    gettext_noop(
                        "%(name)s lives until the browser closes, but the declaration says %(declared)s (P13)."
                    ),
                    name=repr(name),
                    declared=cookie.duration,
                )
                if max_age is None
                else Wording.of(
                    gettext_noop("%(name)s lives %(seconds)s seconds, but the declaration says %(declared)s (P13)."),
                    name=repr(name),
                    seconds=str(max_age),
                    declared=cookie.duration,
                )
            )
            problems.append(("vern.consent.E003", (*at, "duration"), lives))
    return problems


def declared_cookie_problems(declaration: Declaration) -> list[tuple[tuple[int | str, ...], Wording]]:
    """The consent app's ``declaration_checks``: a declaration published from the console is held to P8 and P13 too,
    in the publishing staff member's language."""
    return [(path, message) for _code, path, message in cookie_problems(declaration)]


@register("vern")
def check_cookies_declared(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        declaration = load(settings.VERN_DECLARATION).declaration
    except DeclarationInvalid:
        return []  # the declaration check reports this
    # Printed in a terminal by ``vern check`` and at start-up: in English, as the other system checks.
    return [Error(str(message), id=code) for code, _path, message in cookie_problems(declaration)]
