"""Every kind of event the audit log records: one value each, with the label staff read.

The value (``"rights.received"``) is what the log stores and hashes; it never changes once
rows carry it. The label is what a timeline shows, in the reader's language. ``audit_record``
refuses any action that is not a member here, so a new kind of event starts with a line below.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.TextChoices):
    # accounts: staff and their sign-ins
    STAFF_CREATED = "staff.create", _("Staff account created")
    STAFF_ROLES_CHANGED = "staff.roles_change", _("Staff roles changed")
    STAFF_ROLES_SELF_CHANGE_REFUSED = "staff.roles_self_change_refused", _("Change of one's own roles refused")
    STAFF_ROLE_GRANT_REQUESTED = "staff.role_grant_request", _("Role asked for, awaiting a second administrator")
    STAFF_ROLE_GRANT_APPROVED = "staff.role_grant_approve", _("Role approved by a second administrator")
    STAFF_ROLE_GRANT_DECLINED = "staff.role_grant_decline", _("Role declined by a second administrator")
    STAFF_DEACTIVATED = "staff.deactivate", _("Staff account deactivated")
    STAFF_REACTIVATED = "staff.reactivate", _("Staff account reactivated")
    STAFF_PASSWORD_SET = "staff.password_set", _("Password set")
    STAFF_PASSWORD_LINK_SENT = "staff.password_link_send", _("Link to set a password sent")
    STAFF_PASSWORD_RESET_REQUESTED = "staff.password_reset_request", _("New password asked for")
    STAFF_LOGGED_IN = "staff.login", _("Logged in")
    STAFF_LOGIN_FAILED = "staff.login_failed", _("Failed login")
    STAFF_LOGGED_OUT = "staff.logout", _("Logged out")
    STAFF_PASSWORD_ACCEPTED = "staff.password_accept", _("Password accepted; second factor next")
    STAFF_SECOND_FACTOR_ENROLLED = "staff.second_factor_enrol", _("Authenticator app set up")
    STAFF_SECOND_FACTOR_FAILED = "staff.second_factor_fail", _("Wrong second-factor code")
    STAFF_RECOVERY_CODE_USED = "staff.recovery_code_use", _("Recovery code used")
    STAFF_RECOVERY_CODES_REGENERATED = "staff.recovery_codes_regenerate", _("New recovery codes made")
    STAFF_SECOND_FACTOR_RESET = "staff.second_factor_reset", _("Second factor reset")
    STAFF_SESSION_ENDED = "staff.session_end", _("Another session ended")
    STAFF_REAUTHENTICATED = "staff.reauth", _("Password confirmed again")
    STAFF_REAUTH_FAILED = "staff.reauth_fail", _("Wrong password when confirming again")
    STAFF_PASSKEY_ADDED = "staff.passkey_add", _("Passkey added")
    STAFF_PASSKEY_USED = "staff.passkey_use", _("Passkey used")
    STAFF_PASSKEY_REMOVED = "staff.passkey_remove", _("Passkey removed")

    # ops: the console
    JOB_RETRIED = "job.retry", _("Failed job retried")
    MAIL_REQUEUED = "mail.requeue", _("Undelivered email sent again")
    MAIL_SHOWN = "mail.show", _("Email in the outbox read on the command line")

    # backups
    BACKUP_CREATED = "backup.create", _("Encrypted backup made")
    BACKUP_FAILED = "backup.fail", _("Backup failed")
    BACKUPS_PRUNED = "backup.prune", _("Backups past the declared period deleted")
    BACKUP_RESTORED = "backup.restore", _("Backup restored")

    # declaration
    POLICY_PUBLISHED = "policy.publish", _("Privacy policy published")
    POLICY_DRAFT_STARTED = "policy.draft_start", _("Draft of the privacy policy started")
    POLICY_DRAFT_SAVED = "policy.draft_save", _("Draft of the privacy policy saved")
    POLICY_DRAFT_DISCARDED = "policy.draft_discard", _("Draft of the privacy policy thrown away")

    # the security registers: breaches, risks, reviews, DPIA screenings
    BREACH_OPENED = "breach.open", _("Personal-data breach recorded")
    BREACH_CHANGED = "breach.change", _("Personal-data breach changed")
    BREACH_DECIDED = "breach.decide", _("Decision on notifying a breach recorded")
    BREACH_REPORTED = "breach.report", _("Report on a breach to the authority recorded")
    BREACH_NOTICE_SENT = "breach.notice", _("Notice of a breach mailed to the people affected")
    BREACH_CLOSED = "breach.close", _("Personal-data breach closed")
    BREACH_REMINDED = "breach.remind", _("Reminder of an undecided breach mailed")
    RISK_ADDED = "risk.add", _("Risk added to the register")
    RISK_CHANGED = "risk.change", _("Risk changed")
    RISK_REMINDED = "risk.remind", _("Reminder of a risk review mailed")
    RISK_REGISTER_REVIEWED = "risk.register_review", _("Risk register reviewed")
    DPIA_SCREENED = "risk.dpia_screen", _("Purpose screened for an impact assessment")
    REGISTER_EXPORTED = "register.export", _("Security register exported")

    # the scanner
    SCAN_RECORDED = "scan.record", _("Site scanned for cookies and consent")

    # connectors: the company's other systems
    CONNECTOR_ERASED = "connector.erased", _("Data erased in another system")
    CONNECTOR_SWEPT = "connector.swept", _("Rows removed in another system after their retention period")
    CONNECTOR_RECTIFIED = "connector.rectified", _("Data corrected in another system")
    CONNECTOR_TASK_SENT = "connector.task_sent", _("Task mailed to a processor")
    CONNECTOR_TASK_CONFIRMED = "connector.task_confirmed", _("Processor answered a task")
    # the processor register
    PROCESSOR_CREATED = "processor.create", _("Processor added to the register")
    PROCESSOR_CHANGED = "processor.change", _("Processor changed in the register")
    PROCESSOR_REVIEWED = "processor.review", _("Processor reviewed")
    PROCESSOR_SUBPROCESSOR_CHANGE = "processor.subprocessor_change", _("Change of sub-processors recorded")
    PROCESSOR_REGISTER_SEEDED = "processor.seed", _("Processor register started from the policy")
    PROCESSOR_REGISTER_EXPORTED = "processor.export", _("Processor register exported")
    PROCESSOR_REVIEW_REMINDED = "processor.review_remind", _("Privacy officers reminded of overdue reviews")
    PROCESSOR_CHANGES_SUBSCRIBED = "processor.changes_subscribe", _("Subscribed to changes of sub-processors")
    PROCESSOR_CHANGES_UNSUBSCRIBED = "processor.changes_unsubscribe", _("Unsubscribed from changes of sub-processors")

    # consent
    CONSENT_VIEWED = "consent.view", _("Consent records looked up")

    # enquiries
    ENQUIRY_RECEIVED = "enquiry.received", _("Enquiry received")
    ENQUIRY_REGISTERED = "enquiry.registered", _("Enquiry registered by staff")
    ENQUIRY_VIEWED = "enquiry.viewed", _("Enquiry opened")
    ENQUIRY_LIST_VIEWED = "enquiry.list_viewed", _("Enquiry inbox opened")
    ENQUIRY_CONTACT_LOGGED = "enquiry.contact_logged", _("Contact logged")
    ENQUIRY_REPLIED = "enquiry.replied", _("Enquiry answered from the console")
    ENQUIRY_STATE_CHANGED = "enquiry.state_changed", _("Enquiry marked open, answered or closed")
    ENQUIRY_ASSIGNED = "enquiry.assigned", _("Enquiry given to a staff member")
    ENQUIRY_BECAME_CUSTOMER = "enquiry.became_customer", _("Marked as a customer")
    ENQUIRY_RELATIONSHIP_ENDED = "enquiry.relationship_ended", _("Customer relationship ended")
    ENQUIRY_DELETED = "enquiry.deleted", _("Enquiry deleted")
    ENQUIRY_TO_RIGHTS = "enquiry.to_rights_request", _("Enquiry registered as a rights request")
    ENQUIRY_ATTACHMENT_DOWNLOADED = "enquiry.attachment_downloaded", _("Attachment of an email downloaded")

    # retention
    RETENTION_VIEWED = "retention.viewed", _("Retention page opened")
    RETENTION_SWEEP_REQUESTED = "retention.sweep_requested", _("Retention sweep asked for")
    RETENTION_SWEPT = "retention.swept", _("Retention sweep finished")
    RETENTION_REMOVED = "retention.removed", _("Rows removed after their retention period")
    RETENTION_HOLD_PLACED = "retention.hold_placed", _("Legal hold placed")
    RETENTION_HOLD_RELEASED = "retention.hold_released", _("Legal hold released")
    CHAIN_PRUNED = "retention.chain_pruned", _("Oldest rows of a log removed")

    # rights: a privacy request and its steps
    RIGHTS_RECEIVED = "rights.received", _("Request received")
    RIGHTS_REGISTERED = "rights.registered", _("Request registered by staff")
    RIGHTS_CONFIRMED = "rights.confirmed", _("Request confirmed")
    RIGHTS_LAPSED = "rights.lapsed", _("Request not confirmed in time")
    RIGHTS_VIEWED = "rights.viewed", _("Request opened")
    RIGHTS_ASSIGNED = "rights.assigned", _("Request assigned")
    RIGHTS_STARTED = "rights.started", _("Work on a request started")
    RIGHTS_NOTED = "rights.noted", _("Note added to a request")
    RIGHTS_MESSAGED = "rights.messaged", _("Message sent to the person about a request")
    RIGHTS_PHONE_VERIFIED = "rights.phone_verified", _("Phone number verified")
    RIGHTS_EXTENDED = "rights.extended", _("Deadline extended")
    RIGHTS_FULFILLED = "rights.fulfilled", _("Right carried out")
    RIGHTS_ANSWERED = "rights.answered", _("Request answered")
    RIGHTS_REFUSED = "rights.refused", _("Request refused")
    RIGHTS_RECTIFIED = "rights.rectified", _("Record corrected")
    RIGHTS_MARKETING_SUPPRESSED = "rights.marketing_suppressed", _("Address blocked from marketing")
    RIGHTS_RESTRICTION_LIFT_ANNOUNCED = "rights.restriction_lift_announced", _("End of restriction announced")
    RIGHTS_RESTRICTION_LIFTED = "rights.restriction_lifted", _("Restriction lifted")
    RIGHTS_DOWNLOADED = "rights.downloaded", _("Package downloaded")
    RIGHTS_ERASED = "rights.erased", _("Data erased")
    RIGHTS_ERASURE_REPLAYED = "rights.erasure_replayed", _("Erasure carried out again after a restore")
    RIGHTS_ERASURES_REPLAYED = "rights.erasures_replayed", _("Erasure journal replayed")

    # newsletter: mailings written and sent by staff (counts only, never an address)
    NEWSLETTER_MAILING_CREATED = "newsletter.mailing_created", _("Newsletter mailing written")
    NEWSLETTER_MAILING_TESTED = "newsletter.mailing_tested", _("Newsletter mailing sent as a test")
    NEWSLETTER_MAILING_STARTED = "newsletter.mailing_started", _("Newsletter mailing sent to subscribers")

    # keys: rotation of the encryption and index keys (counts and key ids only)
    KEYS_ROTATION_STARTED = "keys.rotation_started", _("Key rotation started")
    KEYS_ROTATION_FINISHED = "keys.rotation_finished", _("Key rotation finished")
    KEYS_ROTATION_STOPPED = "keys.rotation_stopped", _("Key rotation stopped before the end")

    # analytics: goals, statistics API tokens and the weekly report (names and ids only)
    ANALYTICS_GOAL_CREATED = "analytics.goal_create", _("Statistics goal added")
    ANALYTICS_GOAL_DELETED = "analytics.goal_delete", _("Statistics goal removed")
    ANALYTICS_TOKEN_CREATED = "analytics.token_create", _("Statistics API token made")
    ANALYTICS_TOKEN_REVOKED = "analytics.token_revoke", _("Statistics API token revoked")
    ANALYTICS_REPORT_SUBSCRIBED = "analytics.report_on", _("Weekly statistics report asked for")
    ANALYTICS_REPORT_UNSUBSCRIBED = "analytics.report_off", _("Weekly statistics report stopped")


def event_label(action: str) -> str:
    """The label of a stored action in the active language; the stored text itself when it names
    no member (a row written before the event was renamed, or one edited by hand)."""
    try:
        return str(AuditEvent(action).label)
    except ValueError:
        return action
