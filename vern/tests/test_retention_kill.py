"""A sweep killed with SIGKILL at random points always converges on the next run (no early removal)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import time

import pytest
from django.utils import timezone

from vern.audit.services import Actor
from vern.declaration.durations import Duration
from vern.declaration.services import declaration_publish
from vern.enquiries.models import Enquiry, SearchTerm
from vern.retention.models import Run
from vern.testing import run_vern, start_vern, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
DUE, KEPT = 3000, 300


def make_enquiries(count: int, last_contact: dt.datetime, prefix: str) -> None:
    rows = Enquiry.objects.bulk_create(
        Enquiry(
            kind="contact",
            channel="form",
            name=f"{prefix} {n}",
            email=f"{prefix}{n}@example.no",
            email_index=f"{prefix}-{n:060d}"[:64],
            organisation="Bergen kommune",
            legal_basis="f",
            policy_version=1,
            received_at=last_contact,
            last_contact_at=last_contact,
        )
        for n in range(count)
    )
    SearchTerm.objects.bulk_create(
        SearchTerm(enquiry=row, digest=f"{row.pk:08d}{term:056d}") for row in rows for term in range(4)
    )


def test_a_sweep_killed_at_random_points_always_finishes_on_the_next_run(default_source):
    declaration_publish(source=default_source, actor=Actor.cli())
    boundary = Duration.parse("24 months").before(timezone.now())
    make_enquiries(DUE, boundary - dt.timedelta(days=3), "due")
    make_enquiries(KEPT, boundary + dt.timedelta(days=3), "kept")
    seed = int(os.environ.get("VERN_KILL_SEED", random.SystemRandom().randrange(1_000_000)))
    rng = random.Random(seed)
    kills = 0
    for _ in range(3):
        before, runs = Enquiry.objects.count(), Run.objects.count()
        if before == KEPT:
            break
        sweep = start_vern("retention", "run", "--batch-size", "10")
        try:
            # This sweep's own run and removals: a batch the previous, killed sweep had sent its
            # COMMIT for may still land after ``before`` was counted (PostgreSQL finishes it).
            wait_for(
                lambda n=before, r=runs: Run.objects.count() > r and Enquiry.objects.count() < n,
                timeout=60,
                what=f"the sweep to start (seed {seed})",
            )
            # SIGKILL: no cleanup, no rollback handler; wherever it lands.
            time.sleep(rng.uniform(0, 0.05))
            sweep.send_signal(signal.SIGKILL)
            kills += 1
        finally:
            sweep.wait(timeout=30)
    # Nothing was removed early, whatever the kills interrupted.
    assert Enquiry.objects.filter(name__isnull=False, last_contact_at__gt=boundary).count() == KEPT, seed
    result = run_vern("retention", "run", "--batch-size", "15", timeout=120)
    assert result.returncode == 0, (seed, result.stdout + result.stderr)
    assert Enquiry.objects.count() == KEPT, seed
    assert not Enquiry.objects.filter(last_contact_at__lte=boundary).exists()
    assert SearchTerm.objects.count() == KEPT * 4, seed  # no orphaned parts, none of the kept ones lost
    # Each killed sweep is left saying "running"; the test killed at least one mid-way.
    assert Run.objects.filter(status="running").count() >= 1, seed
    assert Run.objects.filter(status="running").count() + Run.objects.filter(status="done").count() == kills + 1


def test_two_sweeps_at_once_share_the_work_and_do_no_harm(default_source):
    declaration_publish(source=default_source, actor=Actor.cli())
    boundary = Duration.parse("24 months").before(timezone.now())
    make_enquiries(1500, boundary - dt.timedelta(days=3), "due")
    make_enquiries(KEPT, boundary + dt.timedelta(days=3), "kept")
    sweeps = [start_vern("retention", "run", "--batch-size", "10") for _ in range(2)]
    outputs = [sweep.communicate(timeout=120)[0] for sweep in sweeps]
    assert [sweep.returncode for sweep in sweeps] == [0, 0], outputs
    assert Enquiry.objects.count() == KEPT and SearchTerm.objects.count() == KEPT * 4
    removed = [
        int(line.split()[-1])
        for output in outputs
        for line in output.splitlines()
        if line.startswith("enquiries.Enquiry ")
    ]
    assert sum(removed) == 1500, outputs  # each row removed once, by one of them
