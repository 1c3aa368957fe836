"""The retention sweep across every app's data: it removes what each rule says is due, keeps what a hold
keeps, and never removes early (P11)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from vern.audit.events import AuditEvent
from vern.audit.models import Entry
from vern.audit.services import Actor, audit_record, audit_verify
from vern.declaration.durations import Duration
from vern.enquiries.models import ContactLog, Enquiry, SearchTerm
from vern.enquiries.services import Intake, enquiry_register
from vern.lib.keys import email_index
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.retention import engine
from vern.retention.models import Hold, Run
from vern.retention.services import HoldRefused, hold_place, hold_release, retention_sweep

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
# Audit rows the tests write themselves; any events will do that nothing else writes here.
OLD = AuditEvent.JOB_RETRIED
HELD = AuditEvent.ENQUIRY_VIEWED
TWO_YEARS = Duration.parse("24 months")


def enquiry_last_contacted(staff, when: dt.datetime, *, email: str, customer: bool = False) -> Enquiry:
    enquiry = enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now() - dt.timedelta(days=1),
        intake=Intake(name="Kari Nordmann", email=email, phone="", organisation="Bergen kommune"),
        language="nb",
        acknowledge=False,
    )
    ContactLog.objects.create(enquiry=enquiry, kind="phone", happened_at=when, staff=staff)
    fields: dict[str, object] = {"received_at": when, "last_contact_at": when}
    if customer:
        fields.update(status="customer", became_customer_at=when)
    Enquiry.objects.filter(pk=enquiry.pk).update(**fields)
    return enquiry


def sweep() -> Run:
    return retention_sweep(trigger="cli", actor=Actor.cli())


def test_p11_an_enquiry_goes_a_day_after_24_months_from_the_last_contact_and_not_a_day_before(published, personas):
    now = timezone.now()
    gone = enquiry_last_contacted(personas.sales, TWO_YEARS.before(now) - DAY, email="gone@example.no")
    kept = enquiry_last_contacted(personas.sales, TWO_YEARS.before(now) + DAY, email="kept@example.no")
    customer = enquiry_last_contacted(
        personas.sales, TWO_YEARS.before(now) - dt.timedelta(days=400), email="customer@example.no", customer=True
    )
    run = sweep()
    assert set(Enquiry.objects.values_list("pk", flat=True)) == {kept.pk, customer.pk}
    # Its contact log and search terms went with it.
    assert not ContactLog.objects.filter(enquiry_id=gone.pk).exists()
    assert not SearchTerm.objects.filter(enquiry_id=gone.pk).exists()
    assert run.status == "done" and run.counts["enquiries.Enquiry"] == 1
    # The audit log keeps the counts, never who.
    entry = Entry.objects.get(action="retention.swept")
    assert entry.data["removed"]["enquiries.Enquiry"] == 1 and entry.subject_key == ""
    assert entry.data["removed"]["enquiries.ContactLog"] == 1
    assert "example.no" not in str(entry.data)


def test_p11_a_held_person_or_record_is_kept_until_the_hold_ends(published, personas):
    old = TWO_YEARS.before(timezone.now()) - dt.timedelta(days=30)
    by_person = enquiry_last_contacted(personas.sales, old, email="claim@example.no")
    by_record = enquiry_last_contacted(personas.sales, old, email="other@example.no")
    ends = timezone.now() + dt.timedelta(days=90)
    person_hold = hold_place(
        staff=personas.privacy_officer, reason="Tvist om faktura", ends_at=ends, email="CLAIM@example.no"
    )
    hold_place(
        staff=personas.privacy_officer,
        reason="Datatilsynet ba om dokumentasjon",
        ends_at=ends,
        record_model="enquiries.Enquiry",
        record_pk=str(by_record.pk),
    )
    plan = {row.compiled.label: row for row in engine.plan(engine_declaration(), timezone.now())}
    assert plan["enquiries.Enquiry"].due == 0 and plan["enquiries.Enquiry"].held == 2
    sweep()
    assert Enquiry.objects.filter(pk__in=[by_person.pk, by_record.pk]).count() == 2
    hold_release(staff=personas.privacy_officer, hold=person_hold)
    sweep()
    assert list(Enquiry.objects.values_list("pk", flat=True)) == [by_record.pk]
    assert [e.action for e in Entry.objects.filter(action__startswith="retention.hold").order_by("seq")] == [
        "retention.hold_placed",
        "retention.hold_placed",
        "retention.hold_released",
    ]
    assert Entry.objects.filter(action="retention.hold_placed").order_by("seq").first().subject_key == email_index(
        "claim@example.no"
    )


def engine_declaration():
    from vern.declaration.selectors import published_declaration

    declaration = published_declaration()
    assert declaration is not None
    return declaration


@pytest.mark.parametrize(
    "fields,code",
    [
        ({}, "no_target"),
        ({"email": "a@example.no", "record_model": "enquiries.Enquiry", "record_pk": "1"}, "two_targets"),
        ({"record_model": "enquiries.Enquiry", "record_pk": "999"}, "not_found"),
        ({"record_model": "enquiries.Enquiry", "record_pk": "not-a-number"}, "not_found"),
        ({"record_model": "auth.Group", "record_pk": "1"}, "not_found"),
    ],
)
def test_a_hold_must_name_one_thing_that_exists(published, personas, fields, code):
    with pytest.raises(HoldRefused) as refused:
        hold_place(staff=personas.privacy_officer, reason="x", ends_at=timezone.now() + DAY, **fields)
    assert refused.value.code == code
    assert not Hold.objects.exists()


def test_mail_copies_go_after_90_days(published):
    with time_machine.travel(timezone.now() - dt.timedelta(days=91), tick=False):
        old = emails.staff_invitation(to="old@example.no", language="nb", name="Old", link="https://x.test/")
    with time_machine.travel(timezone.now() - dt.timedelta(days=89), tick=False):
        recent = emails.staff_invitation(to="new@example.no", language="nb", name="New", link="https://x.test/")
    sweep()
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk


def test_the_audit_log_loses_its_oldest_rows_as_a_prefix_and_still_verifies(default_source):
    from vern.declaration.services import declaration_publish

    three_years_ago = timezone.now() - dt.timedelta(days=3 * 366 + 2)
    with time_machine.travel(three_years_ago, tick=False):
        for n in range(5):
            audit_record(action=OLD, actor=Actor.system(), data={"n": n})
    with time_machine.travel(three_years_ago + dt.timedelta(days=2), tick=False):
        audit_record(action=HELD, actor=Actor.system(), subject_key=email_index("held@example.no"))
        audit_record(action=OLD, actor=Actor.system(), data={"n": 6})
    declaration_publish(source=default_source, actor=Actor.cli())  # an audit row of today
    Hold.objects.create(
        subject_key=email_index("held@example.no"), reason="claim", ends_at=timezone.now() + dt.timedelta(days=9)
    )
    plan = {row.compiled.label: row for row in engine.plan(engine_declaration(), timezone.now())}
    # The row about the held person stays, and the old row after it waits behind it.
    assert (plan["audit.Entry"].due, plan["audit.Entry"].held, plan["audit.Entry"].waiting) == (5, 1, 1)
    assert plan["audit.Entry"].oldest is not None and plan["audit.Entry"].oldest < three_years_ago + DAY
    sweep()
    assert not Entry.objects.filter(action=OLD, data__n__lt=5).exists()
    assert Entry.objects.filter(action=HELD).exists() and Entry.objects.filter(data__n=6).exists()
    result = audit_verify()
    assert result.ok, result.problems


def test_each_batch_leaves_its_own_audit_row_and_a_second_sweep_finds_nothing_left(published, personas):
    old = TWO_YEARS.before(timezone.now()) - dt.timedelta(days=10)
    for n in range(30):
        enquiry_last_contacted(personas.sales, old, email=f"q{n}@example.no")
    declaration = engine_declaration()
    compiled = next(c for c in engine.compile_rules(declaration) if c.label == "enquiries.Enquiry")
    first = engine.sweep_one(compiled, declaration, timezone.now(), batch_size=7, actor=Actor.cli())
    second = engine.sweep_one(compiled, declaration, timezone.now(), batch_size=7, actor=Actor.cli())
    # The parts are counted too: one contact each, and the search terms of name, organisation and address.
    assert first["enquiries.Enquiry"] == 30 and first["enquiries.ContactLog"] == 30
    assert first["enquiries.SearchTerm"] == 30 * first_terms_per_enquiry()
    assert second == {}
    batches = Entry.objects.filter(action="retention.removed")
    assert batches.count() == 5  # 7 + 7 + 7 + 7 + 2: every removal is on the record, even if killed after it
    assert sum(row.data["removed"]["enquiries.Enquiry"] for row in batches) == 30


def first_terms_per_enquiry() -> int:
    from vern.enquiries.search import index_digests

    return len(index_digests("Kari Nordmann", "Bergen kommune", "q0@example.no"))


def test_an_unreadable_row_does_not_stop_the_sweep_nothing_is_decrypted_to_delete(published, personas):
    old = TWO_YEARS.before(timezone.now()) - dt.timedelta(days=10)
    broken = enquiry_last_contacted(personas.sales, old, email="broken@example.no")
    enquiry_last_contacted(personas.sales, old, email="fine@example.no")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE enquiries_enquiry SET name = 'v1.k1.not-a-ciphertext' WHERE id = %s", [broken.pk])
    sweep()
    assert not Enquiry.objects.exists()


def test_a_model_the_published_declaration_cannot_cover_is_reported_and_the_others_are_swept(default_source, personas):
    from vern.declaration.loading import parse
    from vern.declaration.models import PolicyVersion
    from vern.retention.services import SweepFailed

    # A published version without the mail rule (older code may have let it in).
    content = parse(default_source).declaration.model_dump(mode="json")
    content["retention"]["rules"] = [r for r in content["retention"]["rules"] if r["id"] != "mail_log"]
    PolicyVersion.objects.create(
        number=1,
        published_by="test",
        source="",
        content=content,
        content_hash="y" * 64,
        consent_fingerprint="z" * 64,
        consent_revision=1,
    )
    enquiry_last_contacted(personas.sales, TWO_YEARS.before(timezone.now()) - DAY, email="gone@example.no")
    with pytest.raises(SweepFailed) as failed:
        sweep()
    run = failed.value.run
    assert run.status == "failed" and "mail.OutboxMessage" in run.error and "mail_log" in run.error
    assert run.counts["enquiries.Enquiry"] == 1 and not Enquiry.objects.exists()


def test_a_clock_set_back_after_a_sweep_removes_nothing(published, personas):
    sweep()
    Run.objects.update(as_of=timezone.now() + dt.timedelta(days=2))  # as if the last sweep ran in two days
    enquiry_last_contacted(personas.sales, TWO_YEARS.before(timezone.now()) - DAY, email="early@example.no")
    from vern.retention.services import SweepFailed

    with pytest.raises(SweepFailed) as failed:
        sweep()
    assert "it was set back" in failed.value.run.error
    assert Enquiry.objects.count() == 1


def test_a_clock_that_disagrees_with_the_databases_removes_nothing(published, personas):
    from vern.retention.services import SweepFailed

    enquiry_last_contacted(personas.sales, TWO_YEARS.before(timezone.now()) - DAY, email="early@example.no")
    for jump in (dt.timedelta(days=-10), dt.timedelta(days=400)):
        with time_machine.travel(timezone.now() + jump, tick=True):
            with pytest.raises(SweepFailed):
                sweep()
        assert Enquiry.objects.count() == 1
    assert Run.objects.filter(status="failed").count() == 2
    assert "clock" in Run.objects.filter(status="failed").first().error


def test_database_now_is_the_database_servers_clock(db):
    assert abs(engine.database_now() - timezone.now()) < dt.timedelta(seconds=5)
    assert connection.vendor in ("sqlite", "postgresql")


def test_vern_retention_plan_and_run_say_what_they_do(published, personas, capsys):
    enquiry_last_contacted(personas.sales, TWO_YEARS.before(timezone.now()) - DAY, email="gone@example.no")
    call_command("retention", "plan")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("enquiries.Enquiry"))
    assert line.split()[1:5] == ["enquiries", "24", "months", "1"]
    assert "nothing is removed by `plan`" in out
    assert Enquiry.objects.count() == 1
    with pytest.raises(CommandError, match="between 1 and 50000"):
        call_command("retention", "run", "--batch-size", "60000")  # beyond PostgreSQL's parameter limit
    assert Enquiry.objects.count() == 1
    call_command("retention", "run", "--batch-size", "10")
    out = capsys.readouterr().out
    assert "retention run #" in out
    assert any(line.split() == ["enquiries.Enquiry", "removed", "1"] for line in out.splitlines())
    assert not Enquiry.objects.exists()


def test_consent_proof_goes_three_years_after_the_choice_ended_and_the_rest_still_verifies(published):
    from vern.consent.models import ConsentEvent
    from vern.consent.services import consent_decide, consent_verify

    def decide() -> None:
        consent_decide(
            choice="reject_all",
            categories=[],
            revision=published.consent_revision,
            language="nb",
            layer="banner",
            page_path="/",
            origin="",
            ip_shortened="203.0.113.0",
            gpc=False,
            previous=None,
        )

    # A choice lives six months; its proof is kept three years after that.
    with time_machine.travel(timezone.now() - dt.timedelta(days=6 * 31 + 3 * 366 + 5), tick=False):
        decide()
        decide()
    with time_machine.travel(timezone.now() - dt.timedelta(days=6 * 31 + 3 * 365 - 5), tick=False):
        decide()
    sweep()
    assert ConsentEvent.objects.count() == 1
    assert consent_verify().ok


def test_on_sqlite_the_batch_grows_while_it_is_quick_and_shrinks_when_it_holds_the_lock_too_long(monkeypatch):
    """On SQLite a batch holds the database's only write lock, so its size follows the time it takes;
    on PostgreSQL it locks only its rows and keeps its size. A size the caller names is kept."""
    monkeypatch.setattr(engine, "BATCH_PAUSE", 0)
    sqlite = connection.vendor == "sqlite"
    pace = engine.BatchPace(None)
    sizes = []
    for seconds in (0.001, 0.001, 0.001, 0.2, 0.2, 0.04):
        pace.took(seconds)
        sizes.append(pace.size)
    assert sizes == ([1000, 2000, 4000, 2000, 1000, 1000] if sqlite else [500] * 6)
    quick = engine.BatchPace(None)
    for _ in range(20):
        quick.took(0.0)
    assert quick.size == (engine.MAX_BATCH_SIZE if sqlite else engine.DEFAULT_BATCH_SIZE)
    slow = engine.BatchPace(None)
    for _ in range(20):
        slow.took(10.0)
    assert slow.size == (engine.MIN_BATCH_SIZE if sqlite else engine.DEFAULT_BATCH_SIZE)
    fixed = engine.BatchPace(7)
    fixed.took(0.0)
    fixed.took(10.0)
    assert fixed.size == 7


def test_rows_missing_from_a_due_chain_stop_the_prune_with_an_error_and_the_rows_after_them_stay(default_source):
    """Retention never hides tampering: a gap wider than a range is reported, not stepped over or ignored."""
    from vern.audit.chain import ChainBroken
    from vern.audit.tests.test_chain import drop_guard, restore_guard
    from vern.declaration.services import declaration_publish

    with time_machine.travel(timezone.now() - dt.timedelta(days=3 * 366 + 2), tick=False):
        for n in range(20):
            audit_record(action=OLD, actor=Actor.system(), data={"n": n})
    declaration_publish(source=default_source, actor=Actor.cli())
    drop_guard()
    try:
        Entry.objects.filter(action=OLD, data__n__gte=6, data__n__lt=14).delete()
    finally:
        restore_guard()
    declaration = engine_declaration()
    compiled = next(c for c in engine.compile_rules(declaration) if c.label == "audit.Entry")

    with pytest.raises(ChainBroken, match="missing"):
        engine.sweep_one(compiled, declaration, timezone.now(), batch_size=3, actor=Actor.cli())

    assert not Entry.objects.filter(action=OLD, data__n__lt=6).exists()
    assert Entry.objects.filter(action=OLD, data__n__gte=14).count() == 6
