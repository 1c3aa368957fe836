"""Key rotation while the site serves: no row lost, no concurrent write undone, no lookup missed (P24).

Real threads, each with its own database connection, read and write the same database
(SQLite or PostgreSQL, as CI runs the suite) while ``keys_rotate`` works through it; and
a real ``vern keys rotate`` process is killed half-way and started again.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection

from vern.audit.services import audit_verify
from vern.enquiries.models import Enquiry
from vern.enquiries.selectors import search
from vern.keys.models import RotationCursor
from vern.keys.services import keys_rotate
from vern.keys.tests.helpers import (
    NEW_ENCRYPTION,
    NEW_INDEX,
    old_encryption,
    old_index,
    person,
    retire_settings,
    rotate_settings,
    stored_key_ids,
)
from vern.lib.keys import email_index, phone_index
from vern.registry.selectors import records_of
from vern.rights.models import Request
from vern.testing import run_vern, start_vern, vern_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 30


class Worker(threading.Thread):
    """Runs ``step`` until told to stop, on its own connection; keeps the first error."""

    def __init__(self, step: Callable[[int], None], *, pause: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.step, self.stop, self.rounds, self.pause = step, threading.Event(), 0, pause
        self.error: BaseException | None = None
        self.during_rotation = 0

    def run(self) -> None:
        try:
            while not self.stop.wait(self.pause):  # one request after another, as visitors and staff send them
                self.step(self.rounds)
                self.rounds += 1
                if ROTATING.is_set():
                    self.during_rotation += 1
        except BaseException as exc:  # handed to the test, which fails with it
            self.error = exc
        finally:
            connection.close()


ROTATING = threading.Event()


def test_p24_rotation_under_concurrent_reads_and_writes_loses_no_row_and_misses_no_lookup(
    personas: Any, published: Any, settings: Any
) -> None:
    staff = personas.privacy_officer
    for number in range(PEOPLE):
        person(staff, number)
    old_rows = list(Enquiry.objects.order_by("pk").values_list("pk", flat=True))
    rotate_settings(settings)  # every server now has the new keys in front; then the rotation runs

    committed: list[int] = list(range(PEOPLE))  # the people whose rows are committed, for the readers
    lookups: list[tuple[int, bool, bool]] = []
    written: dict[int, str] = {}  # enquiry pk → the last message written to it
    details: dict[int, str] = {}  # request pk → the last details written
    chooser = random.Random(24)

    def read(_: int) -> None:
        number = chooser.choice(committed)
        email = f"person{number}@example.no"
        in_inbox = Enquiry.objects.filter(search(email)).count() == 1
        found = {f.entry.label for f in records_of(email=email) if f.records.exists()}
        lookups.append((number, in_inbox, {"enquiries.Enquiry", "rights.Request"} <= found))

    def add(round_: int) -> None:
        number = 1000 + round_
        person(staff, number)
        committed.append(number)

    def update(round_: int) -> None:
        pk = old_rows[round_ % len(old_rows)]
        enquiry = Enquiry.objects.get(pk=pk)
        enquiry.message = f"Ny melding {round_}"
        enquiry.save(update_fields=["message"])
        written[pk] = enquiry.message
        request = Request.objects.order_by("pk")[round_ % PEOPLE]
        Request.objects.filter(pk=request.pk).update(details=f"Oppdatert {round_}")
        details[request.pk] = f"Oppdatert {round_}"

    # New people arrive more slowly than reads and updates: each brings rows to a dozen tables, and a
    # writer that adds them as fast as the rotation re-keys them keeps SQLite's single writer busy
    # for many minutes (the rotation still ends: each step stops at the newest row it began with).
    workers = [Worker(read), Worker(read), Worker(add, pause=0.1), Worker(update)]
    for worker in workers:
        worker.start()

    try:
        wait_for(lambda: all(w.rounds > 2 for w in workers), what="the readers and writers to run")
        ROTATING.set()
        progress = keys_rotate(batch_size=4, pause=0.01)
        ROTATING.clear()
        wait_for(lambda: all(w.rounds > w.during_rotation + 2 for w in workers), what="reads and writes after it")
    finally:
        ROTATING.clear()
        for worker in workers:
            worker.stop.set()
        for worker in workers:
            worker.join(timeout=30)
    close_old_connections()
    for worker in workers:
        assert worker.error is None, repr(worker.error)
    assert progress.complete and progress.batches > 10
    assert all(worker.during_rotation > 0 for worker in workers), "the rotation ran alone"

    # A rotation that found rows changed under it reads them again; a second run finds nothing left.
    again = keys_rotate(batch_size=50)
    assert again.values_reencrypted == 0 and again.indexes_recomputed == 0

    # Every lookup during the run found its row, in the inbox and through the registry.
    assert len(lookups) > 20
    assert [entry for entry in lookups if not (entry[1] and entry[2])] == []

    # Only the new keys now: every row reads, and every index is the new key's.
    retire_settings(settings)
    ids = stored_key_ids()
    assert all(found == {"k2"} for found in ids.values()), ids
    people = list(Enquiry.objects.order_by("pk"))
    assert len(people) == PEOPLE + workers[2].rounds
    for enquiry in people:
        assert enquiry.email_index == email_index(enquiry.email)
        assert enquiry.phone_index == phone_index(enquiry.phone)
        assert Enquiry.objects.filter(search(enquiry.email)).get() == enquiry
    for request in Request.objects.all():
        assert request.email_index == email_index(request.email)
    # Every concurrent update survived.
    assert written and {pk: Enquiry.objects.get(pk=pk).message for pk in written} == written
    assert details and {pk: Request.objects.get(pk=pk).details for pk in details} == details
    # The audit chain (old rows under the old index key) verifies while that key is configured.
    rotate_settings(settings)
    result = audit_verify()
    assert result.ok, result.problems


def test_p24_a_killed_rotation_continues_where_it_stopped(personas: Any, published: Any, settings: Any) -> None:
    for number in range(12):
        person(personas.privacy_officer, number)
    rotate_settings(settings)
    env = vern_env(VERN_ENCRYPTION_KEYS=settings.VERN_ENCRYPTION_KEYS, VERN_INDEX_KEYS=settings.VERN_INDEX_KEYS)
    assert env["VERN_ENCRYPTION_KEYS"].startswith(NEW_ENCRYPTION) and old_encryption() in env["VERN_ENCRYPTION_KEYS"]
    assert env["VERN_INDEX_KEYS"].startswith(NEW_INDEX) and old_index() in env["VERN_INDEX_KEYS"]

    first = Enquiry.objects.order_by("pk").values_list("pk", flat=True)[0]
    rotation = start_vern("keys", "rotate", "--batch-size", "1", "--pause", "0.2", env=env)
    try:
        wait_for(
            lambda: RotationCursor.objects.filter(step="encrypt:enquiries.Enquiry", last_pk__gte=first + 2).exists(),
            what="the rotation to get through some enquiries",
        )
        os.kill(rotation.pid, signal.SIGKILL)
    finally:
        rotation.wait(timeout=30)
    assert rotation.returncode == -signal.SIGKILL
    left = {column: found for column, found in stored_key_ids().items() if "test" in found}
    assert left, "the rotation finished before it was killed"
    cursor = RotationCursor.objects.get(step="encrypt:enquiries.Enquiry").last_pk
    assert all(value.startswith("v1.k2.") for value in _raw_names(up_to=cursor)), (
        "a batch before the cursor was not committed"
    )

    finished = run_vern("keys", "rotate", env=env)

    assert finished.returncode == 0, finished.stderr
    assert "rotation finished" in finished.stdout
    assert all(found == {"k2"} for found in stored_key_ids().values())
    retire_settings(settings)
    assert sorted(e.email for e in Enquiry.objects.all()) == sorted(f"person{n}@example.no" for n in range(12))


def _raw_names(*, up_to: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM enquiries_enquiry WHERE id <= %s", [up_to])
        return [row[0] for row in cursor.fetchall()]
