from __future__ import annotations

from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "vern.rights"
    label = "rights"
    verbose_name = "Rights requests"

    def ready(self) -> None:
        from vern.accounts.selectors import TILE_SOURCES
        from vern.mail.services import WITHHOLD_CHECKS
        from vern.registry import hooks
        from vern.rights import selectors

        if selectors.console_tiles not in TILE_SOURCES:
            TILE_SOURCES.append(selectors.console_tiles)
        # While a request is open, or the person's processing is restricted, retention keeps their data.
        hooks.add_holder(selectors.held_subject_keys)
        hooks.add_restriction_check(selectors.restricted)
        if selectors.mail_withheld not in WITHHOLD_CHECKS:
            WITHHOLD_CHECKS.append(selectors.mail_withheld)
