from __future__ import annotations

from django.apps import AppConfig

from vern.registry.surface import Surface


class EnquiriesConfig(AppConfig):
    name = "vern.enquiries"
    label = "enquiries"
    verbose_name = "Enquiries"

    def surface(self) -> Surface:
        from vern.enquiries import selectors, services  # an app's modules load once the models have
        from vern.enquiries.intake import GOAL_LABELS
        from vern.enquiries.models import Enquiry

        return Surface(
            console_tiles=(selectors.console_tiles,),
            # Goals reached, counted by the analytics app without either importing the other (ADR 0020).
            goal_events=GOAL_LABELS,
            change_recipients=(selectors.change_recipients,),
            # The clock and the exception (an enquiry that became a customer), together.
            due={Enquiry: selectors.due_for_deletion},
            # The blind indexes and search digests follow a corrected email, phone or name.
            rectify={Enquiry: services.enquiry_rectify},
            # Their mails in the support mailbox go with them (a durable job deletes them there).
            on_removal={Enquiry: services.mailbox_forget},
        )
