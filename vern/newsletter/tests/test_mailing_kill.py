"""A mailing whose worker is killed with SIGKILL half-way resumes in the next worker, and every
subscriber receives it exactly once at the SMTP server (issue 16, item 3)."""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections import Counter

import pytest
from django.utils import timezone

from vern.accounts.models import RoleGrant, User
from vern.jobs.models import Job
from vern.mail.models import OutboxMessage
from vern.newsletter import services
from vern.newsletter.models import Delivery, Mailing
from vern.newsletter.tests.helpers import confirmed, mailing
from vern.testing import run_vern, start_vern, vern_env

pytestmark = pytest.mark.django_db(transaction=True)
PEOPLE = 120


def test_a_worker_killed_in_the_middle_of_a_mailing_leaves_no_one_mailed_twice(published, smtp_server, settings):
    settings.VERN_NEWSLETTER_RATE = PEOPLE  # all from one test network
    marketer = User.objects.create_user(email="mia@example.com", password=None, name="Mia Marked")
    RoleGrant.objects.create(user=marketer, role="marketing")
    for n in range(PEOPLE):
        confirmed(f"person{n}@example.no")
    # The confirmation mails are not what this test counts: they count as sent already.
    OutboxMessage.objects.update(status=OutboxMessage.Status.SENT, sent_at=timezone.now())
    started = services.mailing_start(mailing(marketer), staff=marketer)
    env = vern_env(
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}",
        VERN_NEWSLETTER_BATCH_SIZE="1000",  # one batch: the kill lands inside it
        VERN_NEWSLETTER_BATCH_SECONDS="0",
    )

    worker = start_vern("worker", "--burst", env=env)
    try:
        deadline = time.monotonic() + 60
        while not Delivery.objects.exists():
            assert worker.poll() is None, "the worker stopped before it began the mailing"
            assert time.monotonic() < deadline, "the worker did not begin the mailing"
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)  # no cleanup, no rollback handler
    finally:
        worker.wait(timeout=30)
    queued_before = Delivery.objects.count()
    assert 0 < queued_before < PEOPLE, "the kill was meant to land half-way through the batch"
    job = Job.objects.get(name="newsletter.send")
    assert job.status == Job.Status.RUNNING  # the dead worker still holds it

    # Its lease runs out (the clock moves on), and a new worker takes the job where it stopped.
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    result = run_vern("worker", "--burst", env=env, timeout=240)
    assert result.returncode == 0, result.stderr

    assert Mailing.objects.get(pk=started.pk).status == Mailing.Status.SENT
    assert Delivery.objects.count() == PEOPLE
    received = Counter(m["To"] for m in smtp_server.messages if m["List-Unsubscribe"])
    assert len(received) == PEOPLE, f"{PEOPLE - len(received)} subscribers got nothing"
    assert set(received.values()) == {1}, [to for to, n in received.items() if n > 1][:5]
