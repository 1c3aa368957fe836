"""What every page's template knows about consent: whether to ask, what to show, what is allowed."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language

from vern.consent.choice import Choice, ConsentState
from vern.consent.content import banner_content
from vern.consent.views import form_token
from vern.declaration.schema import Tag
from vern.declaration.selectors import declaration_of, latest_version_for


class ConsentContext:
    """Computed on first use, so pages that never show the banner never pay for it."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def _version(self) -> Any:
        return latest_version_for(self.request)

    @cached_property
    def enabled(self) -> bool:
        """On the public pages, once a policy is published; the staff console sets no optional cookie."""
        match = getattr(self.request, "resolver_match", None)
        on_staff_page = match is not None and "staff/" in (match.route or "")
        return self._version is not None and hasattr(self.request, "consent") and not on_staff_page

    @cached_property
    def state(self) -> ConsentState:
        return self.request.consent  # type: ignore[attr-defined, no-any-return]

    @cached_property
    def due(self) -> bool:
        return self.enabled and self.state.due

    @cached_property
    def _shown(self) -> tuple[str, dict[str, Any]]:
        language = "en" if (get_language() or "nb").startswith("en") else "nb"
        return banner_content(self._version, language)

    @property
    def content(self) -> dict[str, Any]:
        return self._shown[1]

    @property
    def hash(self) -> str:
        return self._shown[0]

    @cached_property
    def token(self) -> str:
        return form_token()

    @property
    def choice(self) -> Choice | None:
        return self.state.choice

    @property
    def decided(self) -> dt.datetime | None:
        return self.state.choice.decided() if self.state.choice else None

    @property
    def allowed(self) -> list[str]:
        return self.state.granted

    @property
    def gpc(self) -> bool:
        return self.state.gpc

    @property
    def gpc_refuses(self) -> list[str]:
        return sorted(self.state.gpc_refuses)

    @cached_property
    def google_consent_mode(self) -> bool:
        cookies = declaration_of(self._version).cookies if self.enabled else None
        return cookies is not None and (cookies.google_consent_mode or any(t.kind == "google" for t in cookies.tags))

    @cached_property
    def tags(self) -> list[Tag]:
        """The declared third-party tags: the page holds each inert until its category is allowed."""
        return list(declaration_of(self._version).cookies.tags) if self.enabled else []

    @cached_property
    def optional_cookies(self) -> str:
        """``category:name,prefix*,name@.domain;…`` for consent.js, to expire a withdrawn category's cookies."""
        declaration = declaration_of(self._version)
        optional = [c.id for c in declaration.cookies.categories if c.consent_required]
        groups = []
        for category in optional:
            names = [
                c.name + (f"@{c.domain}" if c.domain else "")
                for c in declaration.cookies.cookies
                if c.category == category and c.party == "first"
            ]
            if names:
                groups.append(f"{category}:{','.join(names)}")
        return ";".join(groups)


def consent(request: HttpRequest) -> dict[str, object]:
    return {"consent": ConsentContext(request)}
