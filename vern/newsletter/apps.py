from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from vern.registry.surface import Surface


class NewsletterConfig(AppConfig):
    name = "vern.newsletter"
    label = "newsletter"
    verbose_name = "Newsletter"

    def surface(self) -> Surface:
        from vern.newsletter import selectors, services, views  # an app's modules load once the models have
        from vern.newsletter.models import Subscription

        return Surface(
            # A rights request that withdraws consent unsubscribes, and suppresses the address.
            withdrawers=(services.withdraw_for_rights_request,),
            # No mailing to a suppressed address, whatever sends it.
            mail_withhold=(selectors.mail_withheld,),
            # The optional box on the contact and demo forms.
            subscription_offers=(services.subscription_offer,),
            subscription_prompts=(selectors.form_prompt,),
            chains=(services.PROOF_CHAIN,),
            # Kept the declared margin after it ended; an unconfirmed one lapses after the declared time.
            due={Subscription: selectors.due_subscriptions},
            console_tiles=(selectors.console_tiles,),
            goal_events={views.GOAL_CONFIRMED: _("Newsletter subscription confirmed")},
            # Confirmed subscribers are told of a significant change to the policy (P20).
            change_recipients=(selectors.change_recipients,),
        )
