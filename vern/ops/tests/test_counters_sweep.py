"""The worker deletes expired rate-limit counters; a count still in its window stays (P24)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from vern.jobs import services
from vern.jobs.models import Job
from vern.jobs.worker import Worker
from vern.lib import counters
from vern.ops.models import Counter

pytestmark = pytest.mark.django_db


def test_the_worker_sweeps_expired_counters_every_quarter_hour_and_keeps_live_ones():
    now = int(timezone.now().timestamp())
    counters.add("test", "gone", window=0, expires_at=now - 1)
    counters.add("test", "live", window=0, expires_at=now + 3600)
    assert "ops.counters_sweep" in services.schedules_enqueue_due(now=timezone.now())
    Worker(burst=True, worker_id="test-worker", manage_connections=False).run()
    assert Job.objects.get(name="ops.counters_sweep").status == Job.Status.DONE
    assert list(Counter.objects.values_list("bucket", "count")) == [("live", 1)]
