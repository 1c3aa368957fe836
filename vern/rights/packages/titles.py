"""The readable names of fields and actors on the access package's page (``index.html``).

Only the page uses them; ``data.json`` and the CSV files keep the fields' own names. A
field that is not named here shows its own verbose name, so a field of a newly registered
model is never left out of the package, only shown by its technical name. Models are
titled by their own ``verbose_name_plural``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from vern.audit.models import Entry as AuditEntry

# Readable names of fields in the HTML page; a field not named here shows its own verbose name.
FIELD_TITLES = {
    "action": gettext_lazy("Action"),
    "actor_kind": gettext_lazy("Who"),
    "at": gettext_lazy("Time"),
    "became_customer_at": gettext_lazy("Became a customer"),
    "body_text": gettext_lazy("Text"),
    "browser": gettext_lazy("Browser"),
    "browser_version": gettext_lazy("Browser version"),
    "channel": gettext_lazy("Came by"),
    "closed_at": gettext_lazy("Closed"),
    "consent_id": gettext_lazy("Consent id"),
    "created_at": gettext_lazy("Created"),
    "data": gettext_lazy("Data"),
    "detail": gettext_lazy("Details"),
    "details": gettext_lazy("Details"),
    "device": gettext_lazy("Device"),
    "downloaded_at": gettext_lazy("Downloaded"),
    "due_on": gettext_lazy("Answer due"),
    "email": gettext_lazy("Email address"),
    "engaged_ms": gettext_lazy("Engaged time (ms)"),
    "ends_at": gettext_lazy("Until"),
    "erased_at": gettext_lazy("Erased"),
    "expires_at": gettext_lazy("Expires"),
    "extended_to": gettext_lazy("Extended to"),
    "extension_reason": gettext_lazy("Reason for the extension"),
    "gpc": gettext_lazy("Global Privacy Control"),
    "granted": gettext_lazy("Allowed"),
    "happened_at": gettext_lazy("When"),
    "ip": gettext_lazy("IP address (shortened)"),
    "ip_shortened": gettext_lazy("IP address (shortened)"),
    "kind": gettext_lazy("Kind"),
    "language": gettext_lazy("Language"),
    "last_contact_at": gettext_lazy("Last contact"),
    "layer": gettext_lazy("Shown in"),
    "legal_basis": gettext_lazy("Legal basis"),
    "lift_at": gettext_lazy("To be lifted"),
    "lifted_at": gettext_lazy("Lifted"),
    "message": gettext_lazy("Message"),
    "method": gettext_lazy("HTTP method"),
    "name": gettext_lazy("Name"),
    "note": gettext_lazy("Note"),
    "object_id": gettext_lazy("Object number"),
    "object_type": gettext_lazy("Object"),
    "organisation": gettext_lazy("Organisation"),
    "origin": gettext_lazy("Site"),
    "os": gettext_lazy("System"),
    "os_version": gettext_lazy("System version"),
    "outcome": gettext_lazy("Answer"),
    "page_path": gettext_lazy("Page"),
    "path": gettext_lazy("Page"),
    "phone": gettext_lazy("Phone number"),
    "policy_version": gettext_lazy("Policy version"),
    "preferred_date": gettext_lazy("Preferred day"),
    "preferred_time": gettext_lazy("Preferred time"),
    "purpose": gettext_lazy("Purpose"),
    "reason": gettext_lazy("Reason"),
    "received_at": gettext_lazy("Received"),
    "record_model": gettext_lazy("Record"),
    "referrer_host": gettext_lazy("Came from"),
    "referrer_path": gettext_lazy("Referring page"),
    "refusal_ground": gettext_lazy("Ground for refusal"),
    "refused": gettext_lazy("Refused"),
    "relationship_ended_at": gettext_lazy("Customer relationship ended"),
    "released_at": gettext_lazy("Released"),
    "rights": gettext_lazy("Rights"),
    "route": gettext_lazy("Address pattern"),
    "sent_at": gettext_lazy("Sent"),
    "started_at": gettext_lazy("Started"),
    "status": gettext_lazy("Status"),
    "subject": gettext_lazy("Subject"),
    "to_address": gettext_lazy("To"),
    "verified_at": gettext_lazy("Confirmed"),
}
ACTOR_TITLES: dict[str, Any] = {
    AuditEntry.ActorKind.STAFF.value: gettext_lazy("A member of our staff"),
    AuditEntry.ActorKind.SYSTEM.value: gettext_lazy("The system, automatically"),
    AuditEntry.ActorKind.VISITOR.value: gettext_lazy("A visitor to the website (normally you)"),
    AuditEntry.ActorKind.CLI.value: gettext_lazy("An operator, on the server"),
}
