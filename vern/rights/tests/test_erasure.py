"""Erasure within the privacy center: the preview, the journal, the person's requests and mail (R15, R16, P23).

The whole walk across enquiries, consent and analytics is in ``vern/tests/test_rights_erasure.py``:
this app may not import those (the import floors), its tests neither.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db.models.query import QuerySet
from django.utils import timezone

from vern.accounts.testing import staff_login
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.jobs.models import Job
from vern.jobs.worker import Worker
from vern.lib.keys import email_index, phone_index
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.mail.services import outbox_deliver_due
from vern.rights import journal
from vern.rights.models import Event, Request, Tombstone
from vern.rights.services import intake, workflow
from vern.rights.services.erasure import (
    Action,
    erasure_carry_out,
    erasure_failed,
    erasure_preview,
    erasure_queue,
    erasure_queued,
    forget_contact,
)
from vern.rights.services.replay import replay_tombstones
from vern.rights.services.steps import RequestRefused
from vern.rights.tests.traces import spellings, traces

pytestmark = pytest.mark.django_db
EMAIL = "Kari.Nordmann@Example.no"
PHONE = "415 26 374"
OTHER = "ola.hansen@example.no"
OTHER_PHONE = "934 56 781"


@pytest.fixture(autouse=True)
def _journal_in_its_own_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def registered(staff, rights: list[str], *, email: str = EMAIL, phone: str = PHONE, details: str = "") -> Request:
    return intake.request_register(
        staff=staff,
        rights=rights,
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email=email,
        phone=phone,
        details=details,
        identity_checked=True,
    )


def person(staff, *, email: str = EMAIL, phone: str = PHONE) -> Request:
    """Someone who asked for a copy earlier (answered; a download link mailed to them), who is the subject of
    a mail to staff, and who now asks for erasure."""
    earlier = registered(staff, ["access"], email=email, phone=phone, details=f"Ring meg på {phone}")
    assert earlier.status == Request.Status.ANSWERED  # the copy went out by itself, and that answered it
    emails.enquiry_notification(
        to="sam@example.com", language="nb", kind="contact", link="https://example.com/x/", reason="new", about=email
    )
    return registered(staff, ["erasure"], email=email, phone=phone)


def before_erasure(request: Request) -> time_machine.travel:
    """Rows written inside are dated a minute before the request's erasure, as a restored backup's are."""
    erased_at = Event.objects.get(request=request, kind="erased").at
    return time_machine.travel(erased_at - dt.timedelta(minutes=1), tick=False)


def mail_of(email: str) -> QuerySet[OutboxMessage]:
    key = email_index(email)
    return OutboxMessage.objects.filter(to_index=key) | OutboxMessage.objects.filter(about_index=key)


def test_the_preview_counts_what_goes_and_names_the_ground_of_what_stays(published, personas):
    request = person(personas.privacy_officer)
    person(personas.privacy_officer, email=OTHER, phone=OTHER_PHONE)

    preview = erasure_preview(request)

    lines = {line.label: line for line in preview.lines}
    assert lines["mail.OutboxMessage"].action == Action.DELETE
    assert lines["mail.OutboxMessage"].count == mail_of(EMAIL).count() == 3  # download link, answer, to staff
    assert lines["rights.Request"].action == Action.RETAIN and lines["rights.Request"].count == 2
    assert "17 nr. 3" in lines["rights.Request"].ground and lines["rights.Request"].note
    assert lines["rights.Event"].action == Action.KEPT_WITH and lines["rights.Event"].part_of == "rights.Request"
    assert lines["rights.Download"].count == 1
    keys = [email_index(EMAIL), phone_index(PHONE)]
    assert lines["audit.Entry"].count == Entry.objects.filter(subject_key__in=keys).count()
    assert lines["audit.Entry"].ground.startswith("Art. 17 nr. 3 bokstav b")  # in the reader's language (nb)
    assert preview.erased_count == 3
    assert {line.label for line in preview.kept} >= {"rights.Request", "rights.Event", "audit.Entry"}
    assert preview.keys == ("email", "phone") and preview.contact_cleared == 2
    assert lines["mail.OutboxMessage"].name == "utgående e-post" and lines["mail.OutboxMessage"].action_text


def test_erasure_deletes_the_persons_mail_clears_their_other_requests_and_writes_a_receipt(published, personas):
    pia = personas.privacy_officer
    request = person(pia)
    other = person(pia, email=OTHER, phone=OTHER_PHONE)
    others_mail = mail_of(OTHER).count()

    receipt = erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))

    assert not mail_of(EMAIL).exists() and mail_of(OTHER).count() == others_mail
    assert receipt.deleted == {"mail.OutboxMessage": 3} and receipt.anonymised == {}
    assert "Art. 5 nr. 2" in receipt.kept["rights.Request"] and "audit.Entry" in receipt.kept
    assert receipt.contact_cleared == 1 and receipt.keys == ("email", "phone")
    # The earlier request keeps its keys and loses the address, phone and text; this one keeps its
    # address until the answer is written.
    earlier = Request.objects.exclude(pk=request.pk).get(email_index=email_index(EMAIL))
    assert (earlier.email, earlier.phone, earlier.details) == ("", "", "") and earlier.contact_erased_at
    assert earlier.phone_index == phone_index(PHONE)
    request.refresh_from_db()
    assert request.email == "kari.nordmann@example.no" and "erasure" in request.done
    assert Request.objects.get(pk=other.pk).email == OTHER
    # The receipt is on the timeline; the audit log has counts and the keyed subject, never the address.
    event = Event.objects.get(request=request, kind="erased")
    assert event.data["deleted"] == {"mail.OutboxMessage": 3} and event.data["kept"]["audit.Entry"]
    rows = Entry.objects.filter(action__in=["rights.erased", "rights.fulfilled"], subject_key=email_index(EMAIL))
    assert {row.action for row in rows} == {"rights.erased", "rights.fulfilled"}
    assert all("example.no" not in str(row.data) and "415" not in str(row.data) for row in rows)


def test_the_journal_is_written_before_any_data_is_touched(published, personas, erasure_journal, monkeypatch):
    pia = personas.privacy_officer
    request = person(pia)
    Request.objects.filter(pk=request.pk).update(consent_id="c" * 32)

    def fail(self, *args, **kwargs):
        raise RuntimeError("the process dies")

    monkeypatch.setattr(QuerySet, "delete", fail)
    with pytest.raises(RuntimeError):
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))

    expected = {("email", email_index(EMAIL)), ("phone", phone_index(PHONE)), ("consent_id", "c" * 32)}
    assert set(Tombstone.objects.values_list("kind", "key")) == expected
    assert set(journal.journal_read(erasure_journal)) == expected
    rows = journal_rows(erasure_journal)
    assert "example.no" not in str(rows) and "41526374" not in str(rows)
    assert mail_of(EMAIL).count() == 3  # nothing was erased
    if erasure_journal.startswith("sqlite:"):  # a file: readable by vern's user only
        assert Path(journal.describe(erasure_journal)).stat().st_mode & 0o077 == 0


def test_an_erasure_carried_out_is_not_carried_out_twice_and_the_journal_is_written_once(
    published, personas, erasure_journal
):
    pia = personas.privacy_officer
    request = person(pia)
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    with pytest.raises(RequestRefused) as again:
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert again.value.code == "done"
    assert Tombstone.objects.count() == 2
    assert len(journal_rows(erasure_journal)) == 2


def test_only_an_open_request_that_asks_for_erasure_is_carried_out(published, personas):
    pia = personas.privacy_officer
    access = registered(pia, ["rectification"])
    with pytest.raises(RequestRefused) as not_asked:
        erasure_carry_out(request=access, staff=pia, actor=Actor.staff(pia))
    assert not_asked.value.code == "right"
    request = registered(pia, ["erasure"])
    workflow.request_refuse(request=request, staff=pia, ground="unfounded", justification="Ingen grunn oppgitt her.")
    with pytest.raises(RequestRefused) as closed:
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert closed.value.code == "closed"
    assert not Tombstone.objects.exists()


def test_the_answer_to_an_erasure_is_delivered_and_then_forgotten(published, personas, smtp_server):
    pia = personas.privacy_officer
    request = person(pia)
    outbox_deliver_due()
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))

    workflow.request_answer(request=request, staff=pia, message="Vi har slettet opplysningene om deg.")

    request.refresh_from_db()
    assert (request.email, request.phone) == ("", "") and request.contact_erased_at is not None
    [answer] = OutboxMessage.objects.filter(kind="rights_answered", to_index=email_index(EMAIL))
    assert answer.ephemeral and answer.to_address == "kari.nordmann@example.no"  # until it is sent
    outbox_deliver_due()
    assert smtp_server.messages[-1]["To"] == "kari.nordmann@example.no"
    assert "slettet opplysningene" in smtp_server.messages[-1].get_body(("plain",)).get_content()
    answer.refresh_from_db()
    assert answer.status == OutboxMessage.Status.SENT and answer.sent_at is not None
    assert (answer.to_address, answer.subject, answer.body_text, answer.body_html) == ("", "", "", "")
    assert answer.kind == "rights_answered" and answer.to_index == email_index(EMAIL)
    assert traces(spellings(email=EMAIL, phone=PHONE)) == []


def test_forget_contact_clears_every_request_of_the_person_and_no_one_elses(published, personas):
    pia = personas.privacy_officer
    request = person(pia)
    other = registered(pia, ["access"], email=OTHER, phone=OTHER_PHONE)
    assert forget_contact(request) == 2
    assert request.email == "" and request.contact_erased_at is not None
    assert set(Request.objects.filter(email_index=email_index(EMAIL)).values_list("email", flat=True)) == {""}
    other.refresh_from_db()
    assert other.email == OTHER and other.contact_erased_at is None


def test_p23_another_open_request_keeps_its_address_until_it_is_answered_then_forgets_it(published, personas):
    """Access asked in one request and erasure in another: the erasure is carried out and answered
    first; the access request can still be answered by mail, and then it forgets the address too."""
    pia = personas.privacy_officer
    access = registered(pia, ["access", "rectification"])
    request = registered(pia, ["erasure"])
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    workflow.request_answer(request=request, staff=pia, message="Slettet.")
    access.refresh_from_db()
    assert (access.email, access.contact_erased_at) == ("kari.nordmann@example.no", None)  # it can still be answered

    workflow.request_answer(request=access, staff=pia, message="Etter slettingen har vi ingenting igjen.")

    access.refresh_from_db()
    assert (access.email, access.phone) == ("", "") and access.contact_erased_at is not None
    answer = OutboxMessage.objects.filter(kind="rights_answered", to_index=email_index(EMAIL)).latest("pk")
    assert "ingenting igjen" in answer.body_text
    assert answer.ephemeral  # the outbox forgets the address once this answer is sent
    # A request that comes after the erasure is a new one: it keeps its address when closed.
    later = intake.request_register(
        staff=pia,
        rights=["access"],
        channel="email",
        received_at=timezone.now(),
        email=EMAIL,
        phone="",
        details="",
        identity_checked=True,
    )
    later.refresh_from_db()
    assert later.status == Request.Status.ANSWERED  # answered by itself: its copy went out
    assert later.email != "" and later.contact_erased_at is None


def test_replaying_the_journal_erases_restored_mail_again_and_prints_counts_only(
    published, personas, settings, tmp_path
):
    pia = personas.privacy_officer
    request = person(pia)
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    workflow.request_answer(request=request, staff=pia, message="Slettet.")
    # A copy of the journal kept elsewhere; the configured journal is then lost with the machine.
    kept = tmp_path / "kept-elsewhere.sqlite3"
    for pair, erased_at in journal.journal_read().items():
        assert erased_at is not None
        journal.journal_append([pair], erased_at, url=f"sqlite:///{kept}")
    settings.ERASURE_JOURNAL_URL = f"sqlite:///{tmp_path / 'a-new-machine' / 'erasure-journal.sqlite3'}"
    # A backup from before the erasure is restored: the mail is back, the tombstones are not.
    Tombstone.objects.all().delete()
    with before_erasure(request):
        emails.enquiry_notification(
            to="sam@example.com", language="nb", kind="contact", link="https://example.com/", reason="new", about=EMAIL
        )

    out = StringIO()
    call_command("rights", "replay-erasures", "--journal", str(kept), stdout=out)

    assert not OutboxMessage.objects.filter(about_index=email_index(EMAIL)).exists()
    assert "mail.OutboxMessage" in out.getvalue() and "erased 1" in out.getvalue()
    assert "example" not in out.getvalue() and email_index(EMAIL) not in out.getvalue()
    assert Tombstone.objects.count() == 2  # written back from the file
    replayed = Entry.objects.filter(action="rights.erasures_replayed").latest("seq")
    assert replayed.data["erased"] == {"mail.OutboxMessage": 1} and replayed.data["from_file_only"] == 2
    # Run again: nothing more to do.
    assert replay_tombstones(actor=Actor.cli(), journal=f"sqlite:///{kept}") == {}


def test_what_the_person_gave_after_the_erasure_survives_a_replay(published, personas):
    pia = personas.privacy_officer
    request = person(pia)
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    workflow.request_answer(request=request, staff=pia, message="Slettet.")
    later = emails.enquiry_notification(
        to="sam@example.com", language="nb", kind="contact", link="https://example.com/", reason="new", about=EMAIL
    )
    assert replay_tombstones(actor=Actor.cli()) == {}
    assert OutboxMessage.objects.filter(pk=later.pk).exists()


def test_a_journal_row_that_is_not_understood_is_skipped(erasure_journal, caplog):
    journal.journal_append([("email", "a" * 64)], dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with journal_connection(erasure_journal) as connection:  # written by hand, not by vern
        insert = f"INSERT INTO {journal.TABLE} (kind, key, erased_at) VALUES "  # noqa: S608 (a constant)
        connection.execute(insert + "('name', 'Kari Nordmann', '')")
        connection.execute(insert + f"('phone', '{'b' * 64}', '')")
    read = journal.journal_read()
    assert set(read) == {("email", "a" * 64), ("phone", "b" * 64)}
    assert read[("phone", "b" * 64)] is None
    assert "1 row(s) not understood" in caplog.text


def test_no_erasure_goes_ahead_when_the_journal_cannot_be_written(published, personas, settings, tmp_path):
    pia = personas.privacy_officer
    request = person(pia)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the journal's folder should be")
    settings.ERASURE_JOURNAL_URL = f"sqlite:///{blocked / 'erasure-journal.sqlite3'}"
    with pytest.raises(journal.JournalUnavailable):
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert mail_of(EMAIL).count() == 3 and not Tombstone.objects.exists()  # nothing was touched


def journal_connection(url: str) -> Any:
    """A plain connection to the journal, as an operator's own tool would open it."""
    if url.startswith("sqlite:"):
        return closing_sqlite(journal.describe(url))
    return psycopg.connect(url, autocommit=True)


@contextmanager
def closing_sqlite(path: str) -> Iterator[Any]:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def journal_rows(url: str) -> list[tuple[str, str, str]]:
    with journal_connection(url) as connection:
        return [tuple(row) for row in connection.execute(f"SELECT kind, key, erased_at FROM {journal.TABLE}")]  # noqa: S608


# ------------------------------------------------------------------ the erasure on the worker


def test_a_request_whose_erasure_waits_for_the_worker_cannot_be_closed_until_it_is_done(published, personas):
    pia = personas.privacy_officer
    request = person(pia)
    erasure_queue(request=request, staff=pia)
    with pytest.raises(RequestRefused) as answered:
        workflow.request_answer(request=request, staff=pia, message="Slettet.")
    assert answered.value.code == "erasure_pending"
    with pytest.raises(RequestRefused) as refused:
        workflow.request_refuse(request=request, staff=pia, ground="unfounded", justification="x" * 30)
    assert refused.value.code == "erasure_pending"
    with pytest.raises(RequestRefused) as again:  # nor queued twice
        erasure_queue(request=request, staff=pia)
    assert again.value.code == "busy"

    Worker(burst=True, manage_connections=False).run()
    closed = workflow.request_answer(request=request, staff=pia, message="Slettet.")
    assert closed.status == Request.Status.ANSWERED and "erasure" in closed.done


def test_an_erasure_the_worker_gave_up_is_offered_again_and_said_so(published, personas, settings, tmp_path):
    pia = personas.privacy_officer
    request = person(pia)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the journal's folder should be")
    settings.ERASURE_JOURNAL_URL = f"sqlite:///{blocked / 'erasure-journal.sqlite3'}"
    erasure_queue(request=request, staff=pia)
    job = Job.objects.get(name="rights.erase")
    Job.objects.filter(pk=job.pk).update(max_attempts=1)  # its last attempt
    Worker(burst=True, manage_connections=False).run()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and mail_of(EMAIL).count() == 3  # nothing was erased
    assert erasure_queued(request) is None and erasure_failed(request)
    erasure_queue(request=request, staff=pia)  # staff may carry it out again
    assert not erasure_failed(request)


def test_a_replay_reads_the_journal_file_an_earlier_version_left_and_one_named_by_hand(
    published, personas, settings, tmp_path, erasure_journal
):
    pia = personas.privacy_officer
    request = person(pia)
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    workflow.request_answer(request=request, staff=pia, message="Slettet.")
    # The erasure was journaled by an earlier version: a text file in the data directory, no journal database.
    erased = {pair: when for pair, when in journal.journal_read().items()}
    lines = "".join(f"{kind}\t{key}\t{journal.utc_text(when)}\n" for (kind, key), when in erased.items() if when)
    settings.DATA_DIR = tmp_path
    (tmp_path / "erasure-journal.txt").write_text(lines)
    settings.ERASURE_JOURNAL_URL = f"sqlite:///{tmp_path / 'upgraded' / 'erasure-journal.sqlite3'}"  # none yet
    Tombstone.objects.all().delete()
    with before_erasure(request):
        restored = emails.enquiry_notification(
            to="sam@example.com", language="nb", kind="contact", link="https://example.com/", reason="new", about=EMAIL
        )

    assert replay_tombstones(actor=Actor.cli()) == {"mail.OutboxMessage": 1}
    assert not OutboxMessage.objects.filter(pk=restored.pk).exists()

    # The same file, named by hand (copied off the old machine), and a journal named by its URL.
    Tombstone.objects.all().delete()
    kept = tmp_path / "from-the-old-machine.txt"
    kept.write_text(lines)
    (tmp_path / "erasure-journal.txt").unlink()
    out = StringIO()
    call_command("rights", "replay-erasures", "--journal", str(kept), stdout=out)
    assert "0 rows erased again" in out.getvalue() and Tombstone.objects.count() == len(erased)
    out = StringIO()
    call_command("rights", "replay-erasures", "--journal", erasure_journal, stdout=out)  # by its URL
    assert "0 rows erased again" in out.getvalue()


def test_r16_the_erasure_receipt_and_the_answer_name_the_day_the_last_backup_holding_the_person_is_gone(
    published, personas, client
):
    """Kaukus keeps backups 30 days; an erasure on 10 March is out of every backup after the night of 9 April."""
    pia = personas.privacy_officer
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC), tick=False):
        request = person(pia)
        receipt = erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
        workflow.request_answer(request=request, staff=pia, message="Slettet.")
    assert receipt.backups_gone_by == dt.date(2026, 4, 10)
    assert Event.objects.get(request=request, kind="erased").data["backups_gone_by"] == "2026-04-10"
    answer = OutboxMessage.objects.filter(kind="rights_answered", to_index=email_index(EMAIL)).latest("pk")
    assert "slettet senest 10. april 2026" in answer.body_text  # the request's language is Bokmål
    staff_login(client, pia)
    page = client.get(f"/en/staff/requests/{request.pk}/erasure/")
    assert page.status_code == 200
    assert "are deleted by 10 April 2026 at the latest" in page.content.decode()
