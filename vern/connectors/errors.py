"""What went wrong with another system, in the staff member's language.

The drivers and the webhook client report in English, and what they say is technical (a driver's
first line, redacted of addresses, numbers and IP addresses). Staff first read the kind of problem
in their own language (``describe``); the technical detail stays beside it, on a second line, for
whoever fixes the other system. The kind is read from the message itself, so the messages already
stored (a connector's health, a request's erasures and corrections) are described the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Described:
    kind: str
    title: str  # in the staff member's language
    detail: str  # the redacted technical message, as the connector reported it

    def lines(self) -> str:
        """The title, then the detail on a line of its own (templates show it as secondary)."""
        return f"{self.title}\n{self.detail}" if self.detail else self.title


# In order: the first that matches names the kind.
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in (
        ("insecure_url", r"must start with https://"),
        ("configuration", r"_FILE|is not set|both set|scheme .* is not|not a URL|no address to mail"),
        ("signature", r"bad or old signature|answered 401"),
        (
            "authentication",
            r"password authentication failed|Access denied for user|authentication|role .* does not exist",
        ),
        ("no_database", r"database .* does not exist|Unknown database"),
        ("timeout", r"did not answer within|timed? ?out|statement timeout|Lost connection"),
        ("connection", r"cannot connect|cannot be reached|Connection refused|Can't connect|could not connect"),
        ("permission", r"permission denied|command denied|read-only transaction|READ ONLY"),
        ("missing", r"does not exist|doesn't exist|Unknown column|Undefined"),
        ("not_declared", r"may not be corrected|is read-only|no table .* is declared|only the declared columns"),
        ("count_changed", r"rows of the person are there now|dry run counted"),
        ("not_blankable", r"cannot be blanked|is not text"),
        ("bad_answer", r"answer|answered|has no count|no known action|not a list|corrected \d+ rows|larger than"),
    )
)

TITLES: dict[str, Callable[[], str]] = {
    "insecure_url": lambda: _("The webhook's address is not https://."),
    "configuration": lambda: _("The connector is not set up correctly on this server."),
    "signature": lambda: _("The signature did not match: the shared secret differs, or a clock is wrong."),
    "authentication": lambda: _("The other system refused vern's user name or password."),
    "timeout": lambda: _("The other system did not answer in time."),
    "no_database": lambda: _("The database named in the connector's URL does not exist."),
    "connection": lambda: _("vern cannot connect to the other system."),
    "permission": lambda: _("vern's user may not do this in the other system."),
    "missing": lambda: _("A table or column named in the declaration is missing in the other system."),
    "not_declared": lambda: _("The declaration does not allow this change."),
    "count_changed": lambda: _("The number of rows changed since they were counted; nothing was changed."),
    "not_blankable": lambda: _("A declared column does not fit what the declaration asks of it."),
    "bad_answer": lambda: _("The other system gave an answer vern cannot use."),
    "other": lambda: _("The other system reported an error."),
}


def kind_of(message: str) -> str:
    return next((kind for kind, pattern in KINDS if pattern.search(message)), "other")


def describe(message: str) -> Described:
    """The kind of problem ``message`` reports, titled in the active language, with the message as detail."""
    kind = kind_of(message)
    return Described(kind=kind, title=TITLES[kind](), detail=message.strip())
