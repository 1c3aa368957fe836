"""Roles and what each may do: the one place that decides who sees what.

Least privilege (P18): an administrator runs the system and manages staff
accounts, but does not read enquiries or rights requests by virtue of the role;
a privacy officer handles the privacy work; sales works the enquiry inbox.
Apps add capabilities here as they add staff pages, and the permission matrix
test walks every staff URL with every role.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")


class Capability(StrEnum):
    CONSOLE = "console"  # the staff home page and one's own password
    MANAGE_STAFF = "manage_staff"  # add staff, change roles, deactivate
    OPERATE = "operate"  # background jobs and the mail outbox (metadata only)
    READ_AUDIT = "read_audit"  # the audit log and its verification
    MANAGE_DECLARATION = "manage_declaration"  # the privacy declaration: check, publish, record of processing
    READ_CONSENT = "read_consent"  # proof of cookie consent, by consent id
    WORK_ENQUIRIES = "work_enquiries"  # the enquiry inbox: read, register, log contact, mark customer
    MANAGE_RETENTION = "manage_retention"  # the retention plan and runs, legal holds
    READ_ANALYTICS = "read_analytics"  # the visitor statistics: anonymous daily and hourly totals, what was not counted
    HANDLE_REQUESTS = "handle_requests"  # rights requests: the queue, discovery, access packages, erasure
    SEND_NEWSLETTER = "send_newsletter"  # newsletter mailings: write, preview, test, send; counts (no addresses)
    READ_SECURITY_REGISTERS = "read_security_registers"  # breaches, risks, reviews and DPIA screenings: read, export
    KEEP_SECURITY_REGISTERS = "keep_security_registers"  # the same: open, edit, decide, report, notify, review
    READ_PROCESSORS = "read_processors"  # the processor register and its exports
    MANAGE_PROCESSORS = "manage_processors"  # add and change processors, reviews, sub-processor changes


GRANTS: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(
        {
            Capability.CONSOLE,
            Capability.MANAGE_STAFF,
            Capability.OPERATE,
            Capability.READ_AUDIT,
            Capability.SEND_NEWSLETTER,
            Capability.READ_SECURITY_REGISTERS,
            Capability.READ_PROCESSORS,
        }
    ),
    Role.PRIVACY_OFFICER: frozenset(
        {
            Capability.CONSOLE,
            Capability.READ_AUDIT,
            Capability.MANAGE_DECLARATION,
            Capability.READ_CONSENT,
            Capability.WORK_ENQUIRIES,
            Capability.MANAGE_RETENTION,
            Capability.READ_ANALYTICS,
            Capability.HANDLE_REQUESTS,
            Capability.READ_SECURITY_REGISTERS,
            Capability.KEEP_SECURITY_REGISTERS,
            Capability.READ_PROCESSORS,
            Capability.MANAGE_PROCESSORS,
        }
    ),
    Role.SALES: frozenset({Capability.CONSOLE, Capability.WORK_ENQUIRIES, Capability.READ_ANALYTICS}),
    # Marketing writes and sends the newsletter; it never sees a subscriber's address, only counts.
    Role.MARKETING: frozenset({Capability.CONSOLE, Capability.SEND_NEWSLETTER}),
}


# Roles that open every enquiry and request, or the staff accounts themselves: an administrator
# asks for them in the console and a second administrator approves (the operator's ``vern staff``
# on the server grants them at once).
NEEDS_SECOND_ADMIN: frozenset[Role] = frozenset({Role.ADMIN, Role.PRIVACY_OFFICER})


def capabilities_of(roles: Iterable[str]) -> frozenset[Capability]:
    granted: set[Capability] = set()
    for role in roles:
        granted |= GRANTS.get(Role(role), frozenset())
    return frozenset(granted)


def roles_granting(capability: Capability) -> list[Role]:
    """The roles that give ``capability``, in the order of ``Role``."""
    return [role for role in Role if capability in GRANTS.get(role, frozenset())]
