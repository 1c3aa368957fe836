"""What every public page shows from the declaration: who the controller is, and for a month
after a significant change to the policy, a notice of it (P20)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from vern.declaration.models import PolicyVersion
from vern.declaration.selectors import declaration_of, latest_version_for

NOTICE_DAYS = 30


def policy_notice(request: HttpRequest) -> dict[str, object]:
    def latest_significant() -> PolicyVersion | None:
        return (
            PolicyVersion.objects.filter(
                significant=True, published_at__gte=timezone.now() - dt.timedelta(days=NOTICE_DAYS)
            )
            .order_by("-number")
            .only("number", "published_at")
            .first()
        )

    def controller() -> object | None:
        version = latest_version_for(request)
        return declaration_of(version).controller if version is not None else None

    # Lazy: pages that do not show these (the staff console) never query for them.
    return {"policy_notice": latest_significant, "site_controller": controller}
