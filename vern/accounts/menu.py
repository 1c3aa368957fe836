"""The console menu: daily work first, then policy and statistics, then operations.

Eleven pages in one row wrapped to three rows on a desktop and six on a phone
(issue 21). The top row now holds six groups; a group of several pages shows
them as a second row of tabs while one of them is open. Each page appears only
to those whose roles give its capability, and a group whose pages are all
hidden is left out. Pages are named by URL name, so the menu imports no app.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import ResolverMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vern.accounts.roles import Capability


@dataclass(frozen=True)
class Page:
    url_name: str  # "namespace:name"
    capability: Capability
    label: Promise
    # Other URL names of the same namespace that belong to this page (its detail and form pages);
    # None: every URL of the namespace.
    also: frozenset[str] | None = None

    def is_current(self, match: ResolverMatch | None) -> bool:
        if match is None:
            return False
        namespace, name = self.url_name.split(":")
        if match.namespace != namespace:
            return False
        return self.also is None or match.url_name == name or match.url_name in self.also


@dataclass(frozen=True)
class Group:
    key: str
    label: Promise
    pages: tuple[Page, ...]


MENU: tuple[Group, ...] = (
    Group("overview", _("Overview"), (Page("accounts:home", Capability.CONSOLE, _("Overview"), frozenset()),)),
    Group("enquiries", _("Enquiries"), (Page("enquiries_staff:inbox", Capability.WORK_ENQUIRIES, _("Enquiries")),)),
    Group(
        "requests",
        pgettext_lazy("console menu", "Rights requests"),
        (Page("rights_staff:queue", Capability.HANDLE_REQUESTS, _("Rights requests")),),
    ),
    Group(
        "policy",
        _("Policy"),
        (
            Page("declaration_staff:overview", Capability.MANAGE_DECLARATION, _("Declaration")),
            Page("retention_staff:overview", Capability.MANAGE_RETENTION, _("Retention")),
            Page("consent_staff:search", Capability.READ_CONSENT, _("Consent")),
            Page("scanner_staff:overview", Capability.READ_CONSENT, _("Cookie scans"), frozenset({"run", "shot"})),
            Page("processors_staff:register", Capability.READ_PROCESSORS, _("Processors")),
        ),
    ),
    Group(
        "registers",
        _("Registers"),
        (
            Page("breaches_staff:list", Capability.READ_SECURITY_REGISTERS, _("Breaches")),
            Page("risks_staff:list", Capability.READ_SECURITY_REGISTERS, _("Risks")),
        ),
    ),
    Group(
        "newsletter",
        _("Newsletter"),
        (Page("newsletter_staff:mailings", Capability.SEND_NEWSLETTER, _("Newsletter")),),
    ),
    Group(
        "statistics", _("Statistics"), (Page("analytics_staff:dashboard", Capability.READ_ANALYTICS, _("Statistics")),)
    ),
    Group(
        "operations",
        _("Operations"),
        (
            Page(
                "accounts:people",
                Capability.MANAGE_STAFF,
                _("Staff accounts"),
                frozenset(
                    {"person", "person_new", "person_roles", "grant_decide", "person_active", "person_send_link"}
                ),
            ),
            Page("ops:jobs", Capability.OPERATE, _("Jobs"), frozenset({"job_retry"})),
            Page("ops:outbox", Capability.OPERATE, _("Outbox"), frozenset({"outbox_requeue"})),
            Page("ops:audit", Capability.READ_AUDIT, _("Audit log"), frozenset({"audit_verify"})),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class MenuGroup:
    link: Link  # the group's entry in the top row: its first page this person may open
    pages: tuple[
        Link, ...
    ]  # the group's pages this person may open, shown as tabs when the group is current and has several


def menu_for(capabilities: frozenset[Capability], match: ResolverMatch | None) -> list[MenuGroup]:
    shown = []
    for group in MENU:
        pages = [page for page in group.pages if page.capability in capabilities]
        if not pages:
            continue
        links = tuple(Link(str(page.label), reverse(page.url_name), page.is_current(match)) for page in pages)
        current = any(link.current for link in links)
        shown.append(MenuGroup(Link(str(group.label), links[0].href, current), links))
    return shown


def current_group(groups: list[MenuGroup]) -> MenuGroup | None:
    return next((group for group in groups if group.link.current and len(group.pages) > 1), None)
