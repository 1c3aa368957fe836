"""The cookies vern sets itself are declared, with the lifetime they really have (P13)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from vern.consent.choice import COOKIE_NAME
from vern.declaration.durations import Duration
from vern.declaration.loading import DeclarationInvalid, load

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


@register("vern")
def check_cookies_declared(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        declaration = load(settings.VERN_DECLARATION).declaration
    except DeclarationInvalid:
        return []  # the declaration check reports this
    declared = {c.name: c for c in declaration.cookies.cookies}
    errors = []
    for name, max_age in actual_lifetimes().items():
        cookie = declared.get(name)
        if cookie is None:
            errors.append(
                Error(
                    f"vern sets the cookie {name!r}, but the declaration does not list it (P8).", id="vern.consent.E001"
                )
            )
            continue
        if cookie.set_by != "vern":
            errors.append(
                Error(f"the declaration says {name!r} is set by another system; vern sets it.", id="vern.consent.E002")
            )
        if max_age == -1:
            continue
        duration = Duration.parse(cookie.duration, allow_session=True)
        if (max_age is None) != duration.is_session or (max_age is not None and duration.exact_seconds() != max_age):
            errors.append(
                Error(
                    f"{name!r} lives {'until the browser closes' if max_age is None else f'{max_age} seconds'}, "
                    f"but the declaration says {cookie.duration} (P13).",
                    id="vern.consent.E003",
                )
            )
    return errors
