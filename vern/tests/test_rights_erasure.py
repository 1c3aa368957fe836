"""Erasure across every app's data (R15, R16, P23): after it, the person's email and phone are in no table,
outbox or log; what the law lets us keep stays, without them; and a restored backup is cleaned again.

A person (Kari) sent an enquiry (acknowledged by mail, sales told), was called back (a contact log row),
chose cookies twice under one consent id, visited pages with it, and asks for erasure. Another person
(Ola) did the same, and keeps everything.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import pytest
from django.core import serializers
from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vern.analytics.models import Hit
from vern.audit.models import Entry
from vern.audit.services import Actor
from vern.consent.models import ConsentEvent
from vern.enquiries.models import ContactLog, Enquiry, SearchTerm
from vern.enquiries.services import Intake, enquiry_log_contact, enquiry_register, enquiry_submit
from vern.lib import partitions
from vern.lib.keys import email_index, phone_index
from vern.lib.normalise import normalise_email, normalise_phone
from vern.mail.jobs import deliver
from vern.mail.models import OutboxMessage
from vern.rights.journal import journal_read
from vern.rights.models import Event, Request, Tombstone
from vern.rights.services import intake, steps, workflow
from vern.rights.services.erasure import Action, erasure_carry_out, erasure_preview
from vern.rights.services.replay import replay_tombstones
from vern.rights.tests.traces import spellings, traces
from vern.tests.consenting import cookie_choice

pytestmark = pytest.mark.django_db


@dataclass
class Someone:
    name: str
    email: str  # as typed
    phone: str  # as typed
    enquiry: Enquiry | None = None
    consent_id: str = ""
    request: Request | None = None

    @property
    def needles(self) -> list[str]:
        return spellings(email=self.email, phone=self.phone)

    @property
    def keys(self) -> list[str]:
        return [email_index(self.email), phone_index(self.phone)]


@pytest.fixture(autouse=True)
def _journal_in_its_own_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def hit(consent_id: str, path: str) -> Hit:
    at = timezone.now() - dt.timedelta(minutes=3)
    partitions.ensure_partitions(Hit, [at.astimezone(dt.UTC).date()])
    return Hit.objects.create(
        at=at, kind=Hit.Kind.PAGEVIEW, visitor=consent_id[:32], consent_id=consent_id, path=path, ip="203.0.113.0"
    )


def build(someone: Someone, personas, key: str) -> Someone:
    """Everything the story above says, through the apps' own services where there is one."""
    received = enquiry_submit(
        kind="contact",
        channel="form",
        intake=Intake(
            name=someone.name,
            email=normalise_email(someone.email),
            phone=normalise_phone(someone.phone),
            organisation="Bergen kommune",
            message=f"Ring meg gjerne på {someone.phone}.",
        ),
        language="nb",
        submission_key=key,
        network="203.0.113.0",
    )
    someone.enquiry = received.enquiry
    enquiry_log_contact(
        staff=personas.sales,
        enquiry=someone.enquiry,
        kind="phone",
        happened_at=timezone.now() - dt.timedelta(minutes=2),
        note=f"Ringte tilbake på {someone.phone}",
    )
    first = cookie_choice("accept_all")
    cookie_choice("reject_all", previous=first.choice)
    someone.consent_id = first.event.consent_id
    hit(someone.consent_id, "/")
    hit(someone.consent_id, "/kontakt/")
    someone.request = intake.request_register(
        staff=personas.privacy_officer,
        rights=["erasure"],
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=1),
        email=someone.email,
        phone=someone.phone,
        identity_checked=True,
    )
    Request.objects.filter(pk=someone.request.pk).update(consent_id=someone.consent_id)
    someone.request.refresh_from_db()
    return someone


@pytest.fixture
def kari(published, personas) -> Someone:
    return build(Someone("Kari Nordmann", "Kari.Nordmann@Example.no", "415 26 374"), personas, "k" * 20)


@pytest.fixture
def ola(published, personas) -> Someone:
    return build(Someone("Ola Hansen", "ola.hansen@example.no", "934 56 781"), personas, "o" * 20)


def erase(someone: Someone, personas):
    pia = personas.privacy_officer
    assert someone.request is not None
    return erasure_carry_out(request=someone.request, staff=pia, actor=Actor.staff(pia))


def answer(someone: Someone, personas) -> Request:
    assert someone.request is not None
    return workflow.request_answer(request=someone.request, staff=personas.privacy_officer, message="Vi har slettet.")


def mail_of(someone: Someone) -> QuerySet[OutboxMessage]:
    key = email_index(someone.email)
    return OutboxMessage.objects.filter(to_index=key) | OutboxMessage.objects.filter(about_index=key)


def test_P23_the_preview_counts_every_record_and_names_the_ground_of_what_stays(kari, ola, personas):
    preview = erasure_preview(kari.request)

    lines = {line.label: line for line in preview.lines}
    assert (lines["enquiries.Enquiry"].count, lines["enquiries.Enquiry"].action) == (1, Action.DELETE)
    assert (lines["enquiries.ContactLog"].count, lines["enquiries.ContactLog"].action) == (1, Action.CASCADE)
    terms = SearchTerm.objects.filter(enquiry=kari.enquiry).count()
    assert terms and lines["enquiries.SearchTerm"].count == terms
    assert lines["enquiries.SearchTerm"].part_of == "enquiries.Enquiry"
    assert (lines["analytics.Hit"].count, lines["analytics.Hit"].action) == (2, Action.DELETE)
    assert lines["mail.OutboxMessage"].count == 2  # the acknowledgement to her, the notice to sales about her
    assert (lines["consent.ConsentEvent"].count, lines["consent.ConsentEvent"].action) == (2, Action.RETAIN)
    assert lines["consent.ConsentEvent"].ground.startswith("Art. 7 nr. 1")  # in the reader's language (nb)
    audit_rows = Entry.objects.filter(subject_key__in=kari.keys).count()
    assert audit_rows >= 3 and lines["audit.Entry"].count == audit_rows and lines["audit.Entry"].ground
    assert lines["rights.Request"].action == Action.RETAIN and lines["rights.Request"].count == 1
    assert lines["rights.Event"].action == Action.KEPT_WITH
    assert preview.erased_count == 1 + 1 + terms + 2 + 2
    assert preview.keys == ("email", "phone", "consent_id")


def test_P23_after_erasure_the_email_and_phone_are_in_no_table_outbox_or_log(kari, ola, personas, smtp_server):
    deliver()  # the worker sends the acknowledgements and the notices to sales
    assert traces(kari.needles)  # before: in the enquiry, its log, the outbox, the request

    receipt = erase(kari, personas)
    answer(kari, personas)
    deliver()

    # The answer reached her through a real SMTP server, after the erasure.
    [answered] = [m for m in smtp_server.messages if m["To"] == normalise_email(kari.email)][-1:]
    assert "Vi har slettet." in answered.get_body(("plain",)).get_content()
    # Now nothing holds her address or number: no table (decrypted or raw), no outbox row.
    assert traces(kari.needles) == []
    assert not Enquiry.objects.filter(pk=kari.enquiry.pk).exists()
    assert not Hit.objects.filter(consent_id=kari.consent_id).exists()
    [sent] = OutboxMessage.objects.filter(to_index=email_index(kari.email))
    assert sent.kind == "rights_answered" and sent.status == OutboxMessage.Status.SENT and sent.to_address == ""
    assert receipt.deleted["enquiries.Enquiry"] == 1 and receipt.deleted["analytics.Hit"] == 2
    assert receipt.deleted["enquiries.ContactLog"] == 1 and receipt.deleted["mail.OutboxMessage"] == 2
    # Ola's are all still there.
    assert Enquiry.objects.filter(pk=ola.enquiry.pk).exists() and traces(ola.needles)
    assert Hit.objects.filter(consent_id=ola.consent_id).count() == 2 and mail_of(ola).count() == 2


def test_P23_what_the_law_keeps_stays_without_contact_data_and_the_other_person_is_untouched(kari, ola, personas):
    ola_rows = {
        "enquiry": Enquiry.objects.filter(pk=ola.enquiry.pk).count(),
        "log": ContactLog.objects.filter(enquiry=ola.enquiry).count(),
        "terms": SearchTerm.objects.filter(enquiry=ola.enquiry).count(),
        "consent": ConsentEvent.objects.filter(consent_id=ola.consent_id).count(),
        "hits": Hit.objects.filter(consent_id=ola.consent_id).count(),
        "mail": mail_of(ola).count(),
        "audit": Entry.objects.filter(subject_key__in=ola.keys).count(),
    }
    kari_audit = Entry.objects.filter(subject_key__in=kari.keys).count()

    receipt = erase(kari, personas)

    assert ola_rows == {
        "enquiry": 1,
        "log": 1,
        "terms": ola_rows["terms"],
        "consent": 2,
        "hits": 2,
        "mail": 2,
        "audit": Entry.objects.filter(subject_key__in=ola.keys).count(),
    }
    assert Request.objects.get(pk=ola.request.pk).email == normalise_email(ola.email)
    # Retained: the consent proof (Art. 7(1)), the audit trail (with rows about the erasure added), the request.
    assert ConsentEvent.objects.filter(consent_id=kari.consent_id).count() == 2
    assert Entry.objects.filter(subject_key__in=kari.keys).count() > kari_audit
    assert {"consent.ConsentEvent", "audit.Entry", "rights.Request"} <= set(receipt.kept)
    assert "Art. 7 nr. 1" in receipt.kept["consent.ConsentEvent"]
    # The journal: keys only, in the table and in the journal's own database.
    keys = {("email", kari.keys[0]), ("phone", kari.keys[1]), ("consent_id", kari.consent_id)}
    assert set(Tombstone.objects.values_list("kind", "key")) == keys
    kept_apart = journal_read()
    assert set(kept_apart) == keys
    assert not any(needle in str(kept_apart).lower() for needle in kari.needles)


def test_P23_no_log_record_of_the_erasure_names_the_person(kari, ola, personas, caplog):
    with caplog.at_level(logging.DEBUG), CaptureQueriesContext(connection) as queries:
        erase(kari, personas)
        answer(kari, personas)
    logged = "\n".join(record.getMessage() for record in caplog.records).lower()
    assert "erasure of request" in logged  # the erasure is logged, by request number
    assert queries.captured_queries  # every query went through the debug log too
    sql = "\n".join(query["sql"] for query in queries.captured_queries).lower()
    for needle in kari.needles:
        assert needle not in logged and needle not in sql
    # And the tables: the answer is still waiting in the outbox, encrypted; it goes, then nothing is left.
    deliver()
    assert traces(kari.needles) == []


def test_P23_an_erasure_killed_half_way_finishes_when_run_again(kari, ola, personas, monkeypatch):
    real_delete = QuerySet.delete
    killed: list[str] = []

    def dies_once_on_enquiries(self, *args, **kwargs):
        if self.model is Enquiry and not killed:
            killed.append(self.model._meta.label)
            raise RuntimeError("the process is killed")
        return real_delete(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "delete", dies_once_on_enquiries)
    with pytest.raises(RuntimeError):
        erase(kari, personas)

    # Before the kill: the journal and the models before enquiries (analytics) are done; nothing is half-done.
    assert Tombstone.objects.count() == 3
    assert not Hit.objects.filter(consent_id=kari.consent_id).exists()
    assert Enquiry.objects.filter(pk=kari.enquiry.pk).exists()
    assert ContactLog.objects.filter(enquiry=kari.enquiry).count() == 1
    assert mail_of(kari).count() == 2
    assert "erasure" not in Request.objects.get(pk=kari.request.pk).done

    receipt = erase(kari, personas)

    assert killed == ["enquiries.Enquiry"]
    assert not Enquiry.objects.filter(pk=kari.enquiry.pk).exists() and not mail_of(kari).exists()
    assert receipt.deleted["analytics.Hit"] == 2  # counted from the first run's step
    assert receipt.deleted["enquiries.Enquiry"] == 1 and receipt.deleted["mail.OutboxMessage"] == 2
    assert Tombstone.objects.count() == 3
    assert "erasure" in Request.objects.get(pk=kari.request.pk).done
    answer(kari, personas)
    assert Enquiry.objects.filter(pk=ola.enquiry.pk).exists()


def test_P23_a_restored_backup_is_cleaned_by_replaying_the_journal(kari, ola, personas, smtp_server, settings):
    deliver()
    backup = serializers.serialize(
        "json",
        [
            *Request.objects.order_by("pk"),
            *Enquiry.objects.order_by("pk"),
            *ContactLog.objects.order_by("pk"),
            *SearchTerm.objects.order_by("pk"),
            *OutboxMessage.objects.order_by("pk"),
            *Hit.objects.order_by("pk"),
        ],
    )
    erase(kari, personas)
    answer(kari, personas)
    deliver()
    assert traces(kari.needles) == []

    # The database is restored from the backup: her rows are back, and the tombstone table is the old one.
    Tombstone.objects.all().delete()
    for restored in serializers.deserialize("json", backup):
        restored.save()
    assert Enquiry.objects.filter(pk=kari.enquiry.pk).exists() and traces(kari.needles)

    counts = replay_tombstones(actor=Actor.cli())

    assert counts["enquiries.Enquiry"] == 1 and counts["enquiries.ContactLog"] == 1
    assert counts["analytics.Hit"] == 2 and counts["mail.OutboxMessage"] == 2
    assert counts["rights.Request"] == 1  # her restored request forgets her address again
    assert traces(kari.needles) == []
    assert Tombstone.objects.count() == 3  # back from the journal kept apart
    assert Enquiry.objects.filter(pk=ola.enquiry.pk).exists() and traces(ola.needles)
    assert Request.objects.get(pk=ola.request.pk).email == normalise_email(ola.email)
    assert Event.objects.filter(request=kari.request, kind="erased").exists()


def test_a_legal_hold_on_the_person_forbids_the_erasure_until_it_is_released(published, personas):
    """Art. 17(3)(e): data kept for legal claims is not erased on request; the preview says why."""
    from vern.retention.services import hold_place, hold_release

    pia = personas.privacy_officer
    email = "held.person@example.no"
    enquiry = enquiry_register(
        staff=pia,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Held Person", email=email, phone="", organisation="X"),
        language="nb",
        acknowledge=False,
    )
    hold = hold_place(
        staff=pia,
        email=email,
        reason="Tvist om faktura, mulig søksmål.",
        ends_at=timezone.now() + dt.timedelta(days=90),
    )
    request = intake.request_register(
        staff=pia, rights=["erasure"], channel="email", received_at=timezone.now(), email=email, identity_checked=True
    )
    assert erasure_preview(request).on_hold
    with pytest.raises(steps.RequestRefused) as refused:
        erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert refused.value.code == "legal_hold"
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()
    hold_release(staff=pia, hold=hold)
    erasure_carry_out(request=request, staff=pia, actor=Actor.staff(pia))
    assert not Enquiry.objects.filter(pk=enquiry.pk).exists()
