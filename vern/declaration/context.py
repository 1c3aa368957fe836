"""A notice on every public page for a month after a significant change to the policy (P20)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from vern.declaration.models import PolicyVersion

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

    # Lazy: staff pages and error pages that do not show the notice never query for it.
    return {"policy_notice": latest_significant}
