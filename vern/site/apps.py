from __future__ import annotations

from collections.abc import Mapping

from django.apps import AppConfig


def consent_id_of(cookies: Mapping[str, str]) -> str | None:
    """The consent id of the visitor's cookie choice, when the cookie's signature holds.

    A stale choice (an older revision, or expired) still names the records made under it.
    """
    from vern.consent.choice import COOKIE_NAME, Choice

    choice = Choice.decode(cookies.get(COOKIE_NAME, ""))
    return choice.consent_id if choice is not None else None


class SiteConfig(AppConfig):
    name = "vern.site"
    label = "site"
    verbose_name = "Public site"

    def ready(self) -> None:
        # The site is the floor where two domain apps meet: the analytics beacon learns
        # from consent whether the visitor allowed statistics, without importing it.
        from vern.analytics import capture
        from vern.consent.choice import consent_id_allowing
        from vern.registry import hooks

        capture.statistics_consent = consent_id_allowing
        # The privacy center sends the visitor's consent id with a request, so that their
        # cookie-consent records are found too; it reads the cookie through this hook.
        hooks.add_consent_id_reader(consent_id_of)
