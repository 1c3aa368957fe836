"""What every public page shows from the declaration: who the controller is, and for the
declared number of days after a significant change to the policy, a notice of it (P20)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone

from vern.declaration.models import PolicyVersion
from vern.declaration.schema import Declaration
from vern.declaration.selectors import declaration_of, latest_version_for

# The cookie that remembers a closed notice: the number of the version it was about.
NOTICE_COOKIE = "vern_notice"


@dataclass(frozen=True)
class Notice:
    number: int
    published_at: dt.datetime
    dismissible: bool  # only when the declaration lists the cookie that remembers it


def notice_cookie_declared(declaration: Declaration) -> bool:
    return any(cookie.name == NOTICE_COOKIE for cookie in declaration.cookies.cookies)


def closed_notice(request: HttpRequest) -> int:
    """The number of the version whose notice this visitor closed (0: none)."""
    value = request.COOKIES.get(NOTICE_COOKIE, "")
    return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else 0  # isdigit() would take "²"


def current_notice(request: HttpRequest) -> Notice | None:
    """The notice to show on this page: the latest significant change, while the policy in force
    says to show it, unless this visitor closed it."""
    current = latest_version_for(request)
    if current is None:
        return None
    declaration = declaration_of(current)
    since = timezone.now() - dt.timedelta(days=declaration.policy.notice_days)
    latest = (
        PolicyVersion.objects.filter(significant=True, published_at__gte=since)
        .order_by("-number")
        .only("number", "published_at")
        .first()
    )
    if latest is None or closed_notice(request) >= latest.number:
        return None
    return Notice(latest.number, latest.published_at, notice_cookie_declared(declaration))


def policy_notice(request: HttpRequest) -> dict[str, object]:
    def notice() -> Notice | None:
        return current_notice(request)

    def controller() -> object | None:
        version = latest_version_for(request)
        return declaration_of(version).controller if version is not None else None

    # Lazy: pages that do not show these (the staff console) never query for them.
    return {"policy_notice": notice, "site_controller": controller}
