"""What each refusal of ``vern.breaches.services`` says, in the staff member's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from vern.breaches.services import Refused


def explain(refused: Refused) -> str:
    texts = {
        "future": lambda: _("The time we became aware of a breach cannot lie in the future."),
        "future_occurred": lambda: _("The time a breach happened cannot lie in the future."),
        "closed": lambda: _("This breach is closed and can no longer be changed."),
        "undecided": lambda: _("Choose whether to notify."),
        "no_reasons": lambda: _("Give the reasons."),
        "no_delay_reason": lambda: _(
            "More than 72 hours have passed since we became aware: give the reason for the delay."
        ),
        "not_notifying": lambda: _("Record the decision to notify Datatilsynet before its reports."),
        "initial_twice": lambda: _("The initial report is already recorded: add a follow-up or the final report."),
        "initial_first": lambda: _("Record the initial report first."),
        "after_final": lambda: _("The final report is recorded; no report follows it."),
        "undecided_close": lambda: _("Decide whether to notify Datatilsynet and the people affected before closing."),
        "people_not_notified": lambda: _("Record the decision to notify the people affected first."),
        "notice_sent": lambda: _("The notice has already been sent for this breach."),
        "nobody_found": lambda: _("None of these addresses is in vern's data: no notice was sent."),
        "review_past": lambda: _("A new risk's first review cannot lie in the past."),
        "review_not_ahead": lambda: _("After a review, the next review must lie ahead."),
        "no_asset": lambda: _("Name the asset, or choose the processing."),
        "owner_inactive": lambda: _("The owner must be an active staff member."),
        "no_note": lambda: _("Say what the review found."),
        "unknown_purpose": lambda: _("This purpose is not in the published policy."),
        "unknown_item": lambda: _("Choose only from the lists shown."),
    }
    return texts.get(refused.code, lambda: _("The change could not be made."))()
