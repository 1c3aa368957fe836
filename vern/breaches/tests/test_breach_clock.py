"""The 72-hour clock of a breach (Art. 33(1)) and the mails that keep it in sight: at once, then at
48 and 68 hours while no one has decided, each once (frozen and explicit time)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from vern.breaches import jobs, services
from vern.breaches.models import Breach
from vern.breaches.selectors import clock_of
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _open(personas, aware_at=T0, now=T0 + dt.timedelta(hours=1)) -> Breach:
    return services.breach_open(
        staff=personas.privacy_officer,
        data={"title": "Lost laptop", "aware_at": aware_at, "nature": ["confidentiality"]},
        now=now,
    )


def _alerts() -> list[tuple[str, str]]:
    return sorted(
        (m.to_address, m.subject) for m in OutboxMessage.objects.filter(kind="staff_breach_alert").order_by("pk")
    )


@pytest.mark.django_db
def test_opening_a_breach_alerts_every_privacy_officer_and_administrator_at_once(personas, published, smtp_server):
    breach = _open(personas)
    recipients = [to for to, _subject in _alerts()]
    assert recipients == ["alice@example.com", "pia@example.com"]  # not sales, not the deactivated admin
    outbox_deliver_due()
    delivered = sorted(m["To"] for m in smtp_server.messages)
    assert delivered == ["alice@example.com", "pia@example.com"]
    body = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert breach.reference in body and "72" in body


@pytest.mark.django_db
def test_the_reminders_go_at_48_and_68_hours_each_once_while_undecided(personas, published):
    breach = _open(personas)
    OutboxMessage.objects.all().delete()
    hours = dt.timedelta(hours=1)

    assert services.breach_alerts_send(now=T0 + 47 * hours + dt.timedelta(minutes=59)) == 0
    assert services.breach_alerts_send(now=T0 + 48 * hours) == 1
    assert services.breach_alerts_send(now=T0 + 48 * hours) == 0  # the job ran again: nothing new
    assert services.breach_alerts_send(now=T0 + 60 * hours) == 0
    first = _alerts()
    assert len(first) == 2 and all("24" in subject for _to, subject in first)  # 24 hours left

    assert services.breach_alerts_send(now=T0 + 68 * hours) == 1
    assert services.breach_alerts_send(now=T0 + 100 * hours) == 0
    assert len(_alerts()) == 4
    assert clock_of(breach, now=T0 + 71 * hours).state == "running"
    assert clock_of(breach, now=T0 + 73 * hours).state == "late"


@pytest.mark.django_db
def test_a_decided_breach_gets_no_reminder_and_a_missed_one_is_replaced_by_the_next(personas, published):
    decided = services.breach_decide(
        staff=personas.privacy_officer,
        breach=_open(personas),
        authority="not_notify",
        people="not_notify",
        reasons="The laptop was encrypted; the key was not lost.",
        now=T0 + dt.timedelta(hours=2),
    )
    late = _open(personas, aware_at=T0 - dt.timedelta(hours=10))
    OutboxMessage.objects.all().delete()
    # The worker was down from 40 to 70 hours after the second breach: only the 68-hour reminder goes.
    assert services.breach_alerts_send(now=T0 + dt.timedelta(hours=60)) == 1
    assert all("hours left" in s or "timer" in s for _to, s in _alerts())
    assert services.breach_alerts_send(now=T0 + dt.timedelta(hours=61)) == 0
    assert clock_of(decided, now=T0 + dt.timedelta(hours=80)).state == "decided"
    assert late.reference in _alerts()[0][1]


@pytest.mark.django_db
def test_the_worker_job_sends_the_48_hour_reminder_at_frozen_time(personas, published):
    breach = _open(personas)
    OutboxMessage.objects.all().delete()
    with time_machine.travel(breach.aware_at + dt.timedelta(hours=47), tick=False):
        jobs.reminders()
    assert _alerts() == []
    with time_machine.travel(breach.aware_at + dt.timedelta(hours=48, minutes=5), tick=False):
        jobs.reminders()
        jobs.reminders()
    assert len(_alerts()) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_the_same_moment_send_each_reminder_once(personas, default_source):
    from vern.audit.services import Actor
    from vern.declaration.services import declaration_publish

    declaration_publish(source=default_source, actor=Actor.cli())
    _open(personas)
    OutboxMessage.objects.all().delete()
    start = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        try:
            start.wait()
            results.append(services.breach_alerts_send(now=T0 + dt.timedelta(hours=49)))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [0, 1], results
    assert len(_alerts()) == 2
