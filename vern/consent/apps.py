from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class ConsentConfig(AppConfig):
    name = "vern.consent"
    label = "consent"
    verbose_name = "Cookie consent"

    def ready(self) -> None:
        # The checks register themselves, and the services the consent spool (for every process that drains).
        from vern.consent import checks, services  # noqa: F401

    def surface(self) -> Surface:
        from vern.consent import checks, choice, services, statistics  # an app's modules load once the models have

        return Surface(
            # A rights request that withdraws consent reaches cookie consent through the registry.
            withdrawers=(services.withdraw_for_rights_request,),
            # The privacy center sends the visitor's consent id with a request, so that their
            # cookie-consent records are found too.
            consent_id_readers=(choice.consent_id_of,),
            # The analytics beacon learns whether the visitor allowed statistics.
            cookie_consent=choice.consent_id_allowing,
            chains=(services.CONSENT_CHAIN,),
            # The cookies vern sets stay in the cookie table, with their real lifetimes (P8, P13),
            # whichever way the declaration is published.
            declaration_checks=(checks.declared_cookie_problems,),
            # Counts of the decisions for the statistics dashboard and weekly report (ADR 0020).
            consent_statistics=statistics.statistics,
        )
