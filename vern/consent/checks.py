"""The cookies vern sets itself are declared, with the lifetime they really have (P13)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from vern.consent.choice import COOKIE_NAME
from vern.declaration.durations import Duration
from vern.declaration.loading import DeclarationInvalid, load
from vern.declaration.schema import Declaration

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


def cookie_problems(declaration: Declaration) -> list[tuple[str, tuple[int | str, ...], str]]:
    """(check id, path in the declaration, message) for each cookie vern sets that the declaration
    leaves out, says another system sets, or gives another lifetime than the settings do."""
    index = {c.name: i for i, c in enumerate(declaration.cookies.cookies)}
    problems: list[tuple[str, tuple[int | str, ...], str]] = []
    for name, max_age in actual_lifetimes().items():
        if name not in index:
            problems.append(
                (
                    "vern.consent.E001",
                    ("cookies", "cookies"),
                    f"vern sets the cookie {name!r}, but the declaration does not list it (P8).",
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
                    f"the declaration says {name!r} is set by another system; vern sets it.",
                )
            )
        if max_age == -1:
            continue
        duration = Duration.parse(cookie.duration, allow_session=True)
        if (max_age is None) != duration.is_session or (max_age is not None and duration.exact_seconds() != max_age):
            problems.append(
                (
                    "vern.consent.E003",
                    (*at, "duration"),
                    f"{name!r} lives {'until the browser closes' if max_age is None else f'{max_age} seconds'}, "
                    f"but the declaration says {cookie.duration} (P13).",
                )
            )
    return problems


def declared_cookie_problems(declaration: Declaration) -> list[tuple[tuple[int | str, ...], str]]:
    """The consent app's ``declaration_checks``: a declaration published from the console is held to P8 and P13 too."""
    return [(path, message) for _code, path, message in cookie_problems(declaration)]


@register("vern")
def check_cookies_declared(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        declaration = load(settings.VERN_DECLARATION).declaration
    except DeclarationInvalid:
        return []  # the declaration check reports this
    return [Error(message, id=code) for code, _path, message in cookie_problems(declaration)]
