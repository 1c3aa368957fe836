"""Erasures on the workers, into one journal: with two machines, a restore brings back nobody (P23, R16).

``docs/deploy.md`` runs app servers and workers on several machines against one database. A
confirmed erasure is a job, so a worker carries it out, and the journal is a database of its
own (``ERASURE_JOURNAL_URL``) that every worker writes and no restore of vern's database
overwrites. Here two workers with data directories of their own (two machines) each carry out
one person's erasure; a backup from before both is restored; replaying the journal on the first
machine erases both people again. Runs on SQLite and on PostgreSQL, with real worker processes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import serializers
from django.utils import timezone

from vern.enquiries.models import ContactLog, Enquiry, SearchTerm
from vern.enquiries.services import Intake, enquiry_register
from vern.jobs.models import Job
from vern.lib.keys import email_index
from vern.retention.services import hold_place
from vern.rights.journal import journal_read
from vern.rights.models import Event, Request, Right, Tombstone
from vern.rights.services.erasure import erasure_queue, erasure_run_queued
from vern.rights.services.intake import request_register
from vern.testing import run_vern, vern_env

pytestmark = pytest.mark.django_db(transaction=True)


def person(staff: Any, name: str, email: str) -> tuple[Enquiry, Request]:
    enquiry = enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now() - dt.timedelta(days=3),
        intake=Intake(name=name, email=email, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=False,
    )
    request = request_register(
        staff=staff,
        rights=["erasure"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(hours=1),
        email=email,
        identity_checked=True,
    )
    return enquiry, request


def machine(tmp_path: Any, name: str, journal: str) -> dict[str, str]:
    """The environment of one machine: its own data directory, the shared database and journal."""
    folder = tmp_path / name
    folder.mkdir()
    return vern_env(VERN_DATA_DIR=str(folder), ERASURE_JOURNAL_URL=journal)


def test_P23_erasures_carried_out_on_two_machines_are_both_replayed_after_a_restore(
    published, personas, erasure_journal, tmp_path
):
    pia = personas.privacy_officer
    kari_enquiry, kari = person(pia, "Kari Nordmann", "kari@example.no")
    ola_enquiry, ola = person(pia, "Ola Hansen", "ola@example.no")
    per_enquiry, _ = person(pia, "Per Olsen", "per@example.no")  # asks nothing, keeps everything
    backup = serializers.serialize(
        "json",
        [*Enquiry.objects.order_by("pk"), *ContactLog.objects.order_by("pk"), *SearchTerm.objects.order_by("pk")],
    )
    first, second = machine(tmp_path, "first", erasure_journal), machine(tmp_path, "second", erasure_journal)

    # Each erasure is queued from the console and carried out by a worker, one on each machine.
    erasure_queue(request=kari, staff=pia)
    assert Enquiry.objects.filter(pk=kari_enquiry.pk).exists()  # the web request erased nothing itself
    done = run_vern("worker", "--burst", env=first)
    assert done.returncode == 0, done.stdout + done.stderr
    erasure_queue(request=ola, staff=pia)
    done = run_vern("worker", "--burst", env=second)
    assert done.returncode == 0, done.stdout + done.stderr
    for request in (kari, ola):
        request.refresh_from_db()
        assert Right.ERASURE in request.done
    assert not Enquiry.objects.filter(pk__in=[kari_enquiry.pk, ola_enquiry.pk]).exists()
    # Both erasures are in the one journal; neither machine's data directory holds one of its own.
    assert {("email", email_index("kari@example.no")), ("email", email_index("ola@example.no"))} <= set(journal_read())
    assert not list((tmp_path / "first").glob("erasure-journal*")) and not list((tmp_path / "second").glob("erasure-*"))

    # The database is restored from the backup taken before both: the people are back, the tombstones gone.
    Tombstone.objects.all().delete()
    for restored in serializers.deserialize("json", backup):
        restored.save()
    assert Enquiry.objects.filter(pk__in=[kari_enquiry.pk, ola_enquiry.pk]).count() == 2

    replayed = run_vern("rights", "replay-erasures", env=first)
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "enquiries.Enquiry" in replayed.stdout and "erased 2" in replayed.stdout
    assert not Enquiry.objects.filter(pk__in=[kari_enquiry.pk, ola_enquiry.pk]).exists()
    assert Enquiry.objects.filter(pk=per_enquiry.pk).exists()


def test_a_queued_erasure_is_carried_out_once_and_one_a_hold_now_forbids_is_left_with_its_reason(published, personas):
    pia = personas.privacy_officer
    kari_enquiry, kari = person(pia, "Kari Nordmann", "kari@example.no")
    ola_enquiry, ola = person(pia, "Ola Hansen", "ola@example.no")

    erasure_queue(request=kari, staff=pia)
    erasure_queue(request=ola, staff=pia)
    assert Job.objects.filter(name="rights.erase").count() == 2
    # Before the worker runs, a legal hold is placed on Ola.
    hold_place(
        staff=pia,
        reason="Tvist om faktura, sak 2026-17",
        ends_at=timezone.now() + dt.timedelta(days=90),
        email="ola@example.no",
    )

    assert erasure_run_queued(request_id=kari.pk, staff_id=pia.pk) is not None
    assert erasure_run_queued(request_id=kari.pk, staff_id=pia.pk) is None  # a job run twice erases once
    assert Event.objects.filter(request=kari, kind="erased").count() == 1
    assert not Enquiry.objects.filter(pk=kari_enquiry.pk).exists()

    assert erasure_run_queued(request_id=ola.pk, staff_id=pia.pk) is None
    assert Enquiry.objects.filter(pk=ola_enquiry.pk).exists()
    [refused] = Event.objects.filter(request=ola, kind="erasure_refused")
    assert refused.data == {"code": "legal_hold"} and refused.actor == pia
    ola.refresh_from_db()
    assert Right.ERASURE not in ola.done
