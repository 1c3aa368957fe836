"""A rate limit holds for its whole window on the database cache, not only for five quiet minutes (P24)."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import timezone

from vern.lib.ratelimit import Limit, hit

pytestmark = pytest.mark.django_db


def test_p24_a_daily_limit_still_holds_after_five_quiet_minutes():
    daily = Limit("test-daily", limit=2, window_seconds=24 * 60 * 60)
    start = timezone.now().replace(hour=1, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        assert hit(daily, "someone") and hit(daily, "someone")
        clock.shift(10 * 60)  # longer than the cache's default timeout of five minutes
        assert not hit(daily, "someone")  # the third in the same day is still refused
