"""Expiring the cookies of categories a visitor has not allowed, wherever they live (C9)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.http import HttpResponse

from vern.declaration.schema import Cookie, Declaration


def optional_cookies(declaration: Declaration) -> list[Cookie]:
    """First-party cookies of categories that need consent."""
    optional = {c.id for c in declaration.cookies.categories if c.consent_required}
    return [c for c in declaration.cookies.cookies if c.category in optional and c.party == "first"]


def names_of(cookie: Cookie, present: Iterable[str]) -> list[str]:
    """The cookies a declared entry stands for: itself, or every name with its prefix (``_ga_*``)."""
    if cookie.name.endswith("*"):
        prefix = cookie.name[:-1]
        return [name for name in present if name.startswith(prefix)]
    return [cookie.name] if cookie.name in present else []


def expire_refused(
    response: HttpResponse, present: Iterable[str], declaration: Declaration, allowed: Callable[[str], bool]
) -> list[str]:
    """Expire every cookie the browser sent whose category is not allowed; never let one be set."""
    present = list(present)
    expired = []
    for cookie in optional_cookies(declaration):
        if allowed(cookie.category):
            continue
        for name in names_of(cookie, list(response.cookies)):
            if response.cookies[name]["max-age"] != 0:
                del response.cookies[name]
        for name in names_of(cookie, present):
            # A cookie declared on a parent domain (".kaukus.no") is expired there.
            response.delete_cookie(name, path="/", domain=cookie.domain, samesite="Lax")
            expired.append(name)
    return expired
