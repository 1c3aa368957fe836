from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from vern.registry.surface import Surface


class RightsConfig(AppConfig):
    name = "vern.rights"
    label = "rights"
    verbose_name = "Rights requests"

    def surface(self) -> Surface:
        from vern.rights import selectors, views  # an app's modules load once the models have
        from vern.rights.models import Request, Restriction
        from vern.rights.services.intake import request_register_from

        return Surface(
            console_tiles=(selectors.console_tiles,),
            goal_events={views.GOAL_REQUESTED: _("Privacy rights request made")},
            # While a request is open, or the person's processing is restricted, retention keeps their data.
            holders=(selectors.held_subject_keys,),
            restriction_checks=(selectors.restricted,),
            # Mail about a person whose processing is restricted is held back.
            mail_withhold=(selectors.mail_withheld,),
            # A request that came to another app (a mail in the support mailbox), registered in one click.
            rights_registrar=request_register_from,
            # A request is kept three years after it closed or lapsed; a restriction until it is lifted.
            due={Request: selectors.due_for_deletion, Restriction: selectors.due_restrictions},
        )
