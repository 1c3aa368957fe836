"""A killed worker or a full disk loses no queued job and no mail."""

from __future__ import annotations

import signal

import pytest
from django.db import DatabaseError, connection, transaction

from vern.accounts.models import User
from vern.accounts.services import staff_create
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.jobs import services
from vern.jobs.models import Job
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.testing import start_vern, wait_for


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_mid_run_is_finished_by_another_worker(tmp_path):
    trace = tmp_path / "trace"
    job = services.job_enqueue("tests.slow", payload={"path": str(trace), "token": "survivor", "sleep": 3.0})
    first = start_vern("worker", "--poll", "0.2")
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING, what="the first worker to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert not trace.exists()  # it died before finishing
    second = start_vern("worker", "--poll", "0.2")
    try:
        wait_for(
            lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE,
            timeout=30,
            what="the second worker to reclaim and finish the job",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    job.refresh_from_db()
    assert job.attempts == 2  # the killed attempt, then the one that finished
    assert trace.read_text().count("survivor") == 1


class _FullDisk:
    """Make the database refuse to grow, the way it does when the disk is full.

    SQLite: ``max_page_count`` pinned to the current size gives SQLITE_FULL
    ("database or disk is full"). PostgreSQL: a trigger raises SQLSTATE 53100
    (disk_full), the error the server gives when it cannot extend a file.
    """

    def __enter__(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA page_count")
                cursor.execute(f"PRAGMA max_page_count = {cursor.fetchone()[0]}")
            else:
                cursor.execute(
                    "CREATE FUNCTION vern_test_disk_full() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; "
                    "END; $$ LANGUAGE plpgsql"
                )
                for table in ("accounts_user", "mail_outboxmessage", "jobs_job", "audit_entry"):
                    cursor.execute(
                        f"CREATE TRIGGER vern_test_disk_full BEFORE INSERT ON {table} "
                        "FOR EACH ROW EXECUTE FUNCTION vern_test_disk_full()"
                    )

    def __exit__(self, *exc: object) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA max_page_count = 1073741823")
            else:
                for table in ("accounts_user", "mail_outboxmessage", "jobs_job", "audit_entry"):
                    cursor.execute(f"DROP TRIGGER vern_test_disk_full ON {table}")
                cursor.execute("DROP FUNCTION vern_test_disk_full()")


@pytest.mark.django_db
def test_a_full_disk_fails_the_new_change_whole_and_keeps_what_was_queued(smtp_server, tmp_path):
    earlier = staff_create(email="ola@example.com", name="Ola", roles=["sales"], actor=Actor.cli())
    queued_mail = OutboxMessage.objects.get()
    # Fill the database's free pages so the next insert must grow the file.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE vern_test_ballast (x TEXT)")
        cursor.execute("INSERT INTO vern_test_ballast VALUES (%s)", ["x" * 20000])
    with _FullDisk():
        with pytest.raises(DatabaseError, match="full|space"), transaction.atomic():
            for n in range(200):  # enough to need new pages on any page size
                staff_create(email=f"kari{n}@example.com", name="Kari", roles=["sales"], actor=Actor.cli())
    assert list(User.objects.values_list("email", flat=True)) == [earlier.email]
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [queued_mail.pk]
    assert Entry.objects.count() == 1
    assert Job.objects.filter(name="mail.deliver", status=Job.Status.QUEUED).count() == 1
    assert outbox_deliver_due().sent == 1  # space is back: the earlier mail goes out
    assert [m["To"] for m in smtp_server.messages] == ["ola@example.com"]
