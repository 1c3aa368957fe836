"""The retention sweep across every app's data: it removes what each rule says is due, keeps what a hold
keeps, and never removes early (P11)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

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
    assert [e.action for e in Entry.objects.filter(action__startswith="retention.hold")] == [
        "retention.hold_placed",
        "retention.hold_placed",
        "retention.hold_released",
    ]
    assert Entry.objects.filter(action="retention.hold_placed").first().subject_key == email_index("claim@example.no")


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
            audit_record(action="test.old", actor=Actor.system(), data={"n": n})
    with time_machine.travel(three_years_ago + dt.timedelta(days=2), tick=False):
        audit_record(action="test.held", actor=Actor.system(), subject_key=email_index("held@example.no"))
        audit_record(action="test.old", actor=Actor.system(), data={"n": 6})
    declaration_publish(source=default_source, actor=Actor.cli())  # an audit row of today
    Hold.objects.create(
        subject_key=email_index("held@example.no"), reason="claim", ends_at=timezone.now() + dt.timedelta(days=9)
    )
    plan = {row.compiled.label: row for row in engine.plan(engine_declaration(), timezone.now())}
    # The row about the held person stays, and the old row after it waits behind it.
    assert (plan["audit.Entry"].due, plan["audit.Entry"].held, plan["audit.Entry"].waiting) == (5, 1, 1)
    assert plan["audit.Entry"].oldest is not None and plan["audit.Entry"].oldest < three_years_ago + DAY
    sweep()
    assert not Entry.objects.filter(action="test.old", data__n__lt=5).exists()
    assert Entry.objects.filter(action="test.held").exists() and Entry.objects.filter(data__n=6).exists()
    result = audit_verify()
    assert result.ok, result.problems


def test_a_sweep_killed_half_way_is_finished_by_the_next_and_two_at_once_do_no_harm(published, personas):
    old = TWO_YEARS.before(timezone.now()) - dt.timedelta(days=10)
    for n in range(30):
        enquiry_last_contacted(personas.sales, old, email=f"p{n}@example.no")
    declaration = engine_declaration()
    compiled = next(c for c in engine.compile_rules(declaration) if c.label == "enquiries.Enquiry")
    # A sweep that stopped after one batch of ten …
    assert engine.sweep_one(compiled, declaration, timezone.now(), batch_size=10) == 30  # runs to the end
    Enquiry.objects.all().delete()
    for n in range(30):
        enquiry_last_contacted(personas.sales, old, email=f"q{n}@example.no")
    # … and the same work done twice: the second finds nothing left, and no error.
    first = engine.sweep_one(compiled, declaration, timezone.now(), batch_size=7)
    second = engine.sweep_one(compiled, declaration, timezone.now(), batch_size=7)
    assert (first, second) == (30, 0)


def test_a_clock_that_disagrees_with_the_databases_removes_nothing(published, personas):
    enquiry_last_contacted(personas.sales, TWO_YEARS.before(timezone.now()) - DAY, email="early@example.no")
    for jump in (dt.timedelta(days=-10), dt.timedelta(days=400)):
        with time_machine.travel(timezone.now() + jump, tick=True):
            with pytest.raises(engine.ClockDisagreement):
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
    call_command("retention", "run", "--batch-size", "10")
    out = capsys.readouterr().out
    assert "retention run #" in out and "1 rows removed" in out
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
