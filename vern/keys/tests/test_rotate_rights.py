"""Rights requests while the blind-index key rotates: no row missed, none left behind (P24, with P15 and P23).

A rights request finds the person by the index stored on it. Half-way through ``vern keys
rotate`` that index may be under one index key and some of the person's rows under the other,
in either direction: a request made before the rotation reached the requests, about rows it
already recomputed; or a request made under the new key, about rows it has not reached yet.
Discovery, the access package, the legal-hold check, the erasure and its replay after a
restore must find every row in both cases, with the workers running as usual.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db.models.query import QuerySet
from django.utils import timezone

from vern.audit.services import Actor
from vern.enquiries.models import Enquiry
from vern.enquiries.services import Intake, enquiry_register
from vern.keys.services import keys_rotate
from vern.keys.tests.helpers import old_encryption, old_index, rotate_settings
from vern.lib.keys import email_index, email_indexes, phone_index, phone_indexes
from vern.mail import emails
from vern.mail.models import OutboxMessage
from vern.registry import selectors as registry_selectors
from vern.registry import surface
from vern.registry.selectors import records_of
from vern.retention.services import hold_place, hold_release
from vern.rights import journal, selectors
from vern.rights.models import Download, Event, Request, Restriction, Tombstone
from vern.rights.packages.contents import access_data
from vern.rights.services import intake, workflow
from vern.rights.services.erasure import CLAIM_FOR, erasure_carry_out, erasure_preview
from vern.rights.services.replay import replay_tombstones
from vern.rights.services.restriction import restriction_start
from vern.rights.services.steps import RequestRefused

pytestmark = pytest.mark.django_db

ANNE = ("anne.berg@example.no", "415 26 374")  # asked before the rotation reached the requests
BRAGE = ("brage.lie@example.no", "934 56 781")  # asks under the new key, about rows not yet recomputed


@pytest.fixture(autouse=True)
def _policy(published: Any) -> None:
    """Enquiries name the policy in force: the default declaration, published."""


def old_settings(settings: Any) -> None:
    """Only the keys of before the rotation, as a backup made then was written."""
    settings.VERN_ENCRYPTION_KEYS = old_encryption()
    settings.VERN_INDEX_KEYS = f"index:{old_index()}"


def enquiry_of(staff: Any, who: tuple[str, str], message: str = "Ring meg") -> Enquiry:
    email, phone = who
    enquiry = enquiry_register(
        staff=staff,
        kind="contact",
        channel="email",
        received_at=timezone.now(),
        intake=Intake(name="Kari Nordmann", email=email, phone=phone, organisation="", message=message),
        language="nb",
        acknowledge=False,
    )
    emails.enquiry_notification(
        to="salg@example.com", language="nb", kind="contact", link="https://example.com/e/", reason="new", about=email
    )
    return enquiry


def request_of(staff: Any, who: tuple[str, str], rights: list[str]) -> Request:
    # A request whose rights automation fulfils at once is answered at once; these tests need it
    # open while its phone is verified, so each asks for a right that waits for staff too.
    email, phone = who
    request = intake.request_register(
        staff=staff,
        rights=rights,
        channel="email",
        received_at=timezone.now() - dt.timedelta(minutes=5),
        email=email,
        phone=phone,
        details="",
        identity_checked=True,
    )
    return workflow.phone_verify(request=request, staff=staff)


def rows_of(who: tuple[str, str]) -> dict[str, set[Any]]:
    """The person's rows per model, looked up by what they typed under every configured index key."""
    email, phone = who
    found = {f.entry.label: set(f.records.values_list("pk", flat=True)) for f in records_of(email=email, phone=phone)}
    return {label: pks for label, pks in found.items() if pks}


def by_stored_index_only(request: Request) -> dict[str, set[Any]]:
    """What the request's own stored indexes alone find: how rights requests looked people up before."""
    keys = {"email": request.email_index, "phone": request.phone_index}
    found = {
        f.entry.label: set(f.records.values_list("pk", flat=True)) for f in registry_selectors.records_by_keys(keys)
    }
    return {label: pks for label, pks in found.items() if pks}


def discovered(request: Request) -> dict[str, set[Any]]:
    return {f.entry.label: set(f.records.values_list("pk", flat=True)) for f in selectors.discover(request) if f.count}


def packaged(request: Request) -> dict[str, set[Any]]:
    data, _blocks = access_data(request)
    return {block["model"]: {row["id"] for row in block["rows"]} for block in data["records"] if block["rows"]}


def erasable(who: tuple[str, str]) -> dict[str, set[Any]]:
    """The person's rows in models an erasure deletes or anonymises."""
    email, phone = who
    found = records_of(email=email, phone=phone)
    return {
        f.entry.label: set(f.records.values_list("pk", flat=True))
        for f in found
        if f.entry.erasure != "retain" and f.records.exists()
    }


def rotate_until_the_enquiries_are_done(settings: Any, enquiry: Enquiry) -> int:
    """Run the rotation a batch at a time until ``enquiry``'s indexes are the new key's: half done."""
    batches = 0
    for _ in range(200):
        row = Enquiry.objects.get(pk=enquiry.pk)
        if row.email_index == email_index(row.email) and row.phone_index == phone_index(row.phone):
            return batches
        progress = keys_rotate(batch_size=500, max_batches=1)
        assert not progress.complete, "the rotation finished before it reached the state the test needs"
        batches += progress.batches
    raise AssertionError("the rotation never reached the enquiries")


def test_p24_rights_requests_find_erase_and_replay_every_row_while_the_index_key_rotation_is_half_done(
    personas: Any, settings: Any, erasure_journal: str, monkeypatch: Any
) -> None:
    pia = personas.privacy_officer
    # Before the rotation: both people's rows, Anne's request and a legal hold on Brage, all under the old key.
    anne_enquiry = enquiry_of(pia, ANNE)
    anne = request_of(pia, ANNE, ["access", "erasure"])
    enquiry_of(pia, BRAGE)
    brage_earlier = request_of(pia, BRAGE, ["access", "rectification"])
    workflow.request_answer(request=brage_earlier, staff=pia, message="Her er kopien.")
    hold = hold_place(
        staff=pia, reason="Tvist om faktura", ends_at=timezone.now() + dt.timedelta(days=30), email=BRAGE[0]
    )
    old = {who: (email_index(who[0]), phone_index(who[1])) for who in (ANNE, BRAGE)}

    # The new keys are configured; the rotation has recomputed the enquiries but not yet the
    # requests, the mail or the holds. Brage asks now: his request is under the new key.
    rotate_settings(settings)
    assert rotate_until_the_enquiries_are_done(settings, anne_enquiry) > 0
    brage = request_of(pia, BRAGE, ["access", "erasure"])
    new = {who: (email_indexes(who[0])[0], phone_indexes(who[1])[0]) for who in (ANNE, BRAGE)}
    anne.refresh_from_db()
    # Anne's request is under the old key and her enquiry under the new one; Brage's request is
    # under the new key, his earlier request, his mail and the hold on him under the old one.
    assert (anne.email_index, anne.phone_index) == old[ANNE] != new[ANNE]
    assert Enquiry.objects.get(pk=anne_enquiry.pk).email_index == new[ANNE][0]
    assert (brage.email_index, brage.phone_index) == new[BRAGE] != old[BRAGE]
    assert Request.objects.get(pk=brage_earlier.pk).email_index == old[BRAGE][0]
    assert OutboxMessage.objects.filter(about_index=old[BRAGE][0]).exists()
    hold.refresh_from_db()
    assert hold.subject_key == old[BRAGE][0]

    for request, who in ((anne, ANNE), (brage, BRAGE)):
        everything = rows_of(who)
        assert {"enquiries.Enquiry", "mail.OutboxMessage", "rights.Request"} <= set(everything)
        # The request's stored index alone misses some of the person's rows: the gap being closed.
        assert by_stored_index_only(request) != everything
        # Discovery, the staff page's count and the access package find every row, under either key.
        assert discovered(request) == everything
        package = packaged(request)
        assert {"enquiries.Enquiry", "mail.OutboxMessage", "rights.Request", "audit.Entry"} <= set(package)
        assert {label: pks for label, pks in everything.items() if label in package} == {
            label: package[label] for label in everything if label in package
        }

    # Each has downloaded their copy (an erasure waits until then).
    assert Download.objects.filter(request__in=[anne, brage]).update(downloaded_at=timezone.now()) >= 1

    # The legal hold on Brage, placed under the old key, forbids his erasure made under the new one.
    assert erasure_preview(brage).on_hold
    with pytest.raises(RequestRefused) as refused:
        erasure_carry_out(request=brage, staff=pia, actor=Actor.staff(pia))
    assert refused.value.code == "legal_hold"
    assert not Tombstone.objects.exists()
    hold_release(staff=pia, hold=hold)
    assert not erasure_preview(brage).on_hold

    # Anne's erasure dies after the journal was written; run again, it finishes and journals nothing twice.
    preview = erasure_preview(anne)
    assert preview.count("enquiries.Enquiry") == len(rows_of(ANNE)["enquiries.Enquiry"])
    with monkeypatch.context() as dying:

        def die(self: Any, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the process dies")

        dying.setattr(QuerySet, "delete", die)
        with pytest.raises(RuntimeError):
            erasure_carry_out(request=anne, staff=pia, actor=Actor.staff(pia))
    anne_pairs = {
        ("email", old[ANNE][0]),
        ("email", new[ANNE][0]),
        ("phone", old[ANNE][1]),
        ("phone", new[ANNE][1]),
    }
    assert set(journal.journal_read(erasure_journal)) == anne_pairs
    # The dead run's claim expires; the next run takes the erasure over.
    with time_machine.travel(timezone.now() + CLAIM_FOR + dt.timedelta(minutes=1)):
        receipt = erasure_carry_out(request=anne, staff=pia, actor=Actor.staff(pia))
    assert receipt.deleted["enquiries.Enquiry"] == 1 and receipt.keys == ("email", "phone")
    erasure_carry_out(request=brage, staff=pia, actor=Actor.staff(pia))

    # Every erasable row of both people is gone, whichever key it was stored under.
    assert erasable(ANNE) == {} and erasable(BRAGE) == {}
    brage_pairs = {
        ("email", old[BRAGE][0]),
        ("email", new[BRAGE][0]),
        ("phone", old[BRAGE][1]),
        ("phone", new[BRAGE][1]),
    }
    stored = set(Tombstone.objects.values_list("kind", "key"))
    assert stored == anne_pairs | brage_pairs and Tombstone.objects.count() == len(stored)
    assert set(journal.journal_read(erasure_journal)) == stored
    assert journal_rows(erasure_journal) == len(stored)  # the rerun added nothing

    # A backup is restored: the tombstones go, and each person's enquiries come back, one written
    # before the rotation (old key) and one after it began (new key).
    erased_at = min(Event.objects.filter(kind="erased").values_list("at", flat=True))
    Tombstone.objects.all().delete()
    restored = []
    with time_machine.travel(erased_at - dt.timedelta(minutes=1), tick=False):
        old_settings(settings)
        restored += [enquiry_of(pia, ANNE, "Fra før"), enquiry_of(pia, BRAGE, "Fra før")]
        rotate_settings(settings)
        restored += [enquiry_of(pia, ANNE, "Fra etter"), enquiry_of(pia, BRAGE, "Fra etter")]
    assert {e.email_index for e in restored} == {old[ANNE][0], old[BRAGE][0], new[ANNE][0], new[BRAGE][0]}

    counts = replay_tombstones(actor=Actor.cli())

    assert counts["enquiries.Enquiry"] == 4 and counts["mail.OutboxMessage"] == 4
    assert not Enquiry.objects.filter(pk__in=[e.pk for e in restored]).exists()
    assert erasable(ANNE) == {} and erasable(BRAGE) == {}
    assert set(Tombstone.objects.values_list("kind", "key")) == stored  # written back from the journal
    assert replay_tombstones(actor=Actor.cli()) == {}


def test_p24_a_request_whose_address_was_erased_keeps_only_its_stored_index(personas: Any, settings: Any) -> None:
    """After an erasure the request no longer holds the address: its stored index is all there is,
    and no key is made up for it."""
    pia = personas.privacy_officer
    request = request_of(pia, ANNE, ["access", "rectification"])
    rotate_settings(settings)
    assert selectors.person_keys(request) == {
        "email": (email_indexes(ANNE[0])[1], email_indexes(ANNE[0])[0]),
        "phone": (phone_indexes(ANNE[1])[1], phone_indexes(ANNE[1])[0]),
    }
    Request.objects.filter(pk=request.pk).update(email="", phone="", contact_erased_at=timezone.now())
    request.refresh_from_db()
    assert selectors.person_keys(request) == {
        "email": (email_indexes(ANNE[0])[1],),
        "phone": (phone_indexes(ANNE[1])[1],),
    }


def test_p24_a_restriction_made_under_the_old_key_holds_for_a_request_made_under_the_new_one(
    personas: Any, settings: Any
) -> None:
    pia = personas.privacy_officer
    earlier = request_of(pia, BRAGE, ["restriction", "rectification"])
    restriction = restriction_start(earlier, actor=Actor.staff(pia), staff=pia)
    assert restriction is not None and restriction.subject_key == email_index(BRAGE[0])
    rotate_settings(settings)  # the rotation has not reached the restrictions yet
    later = request_of(pia, BRAGE, ["access", "rectification"])
    assert later.email_index != restriction.subject_key
    assert not Restriction.objects.filter(subject_key__in=[later.email_index, later.phone_index]).exists()

    assert selectors.active_restriction(later) == restriction
    assert surface.is_restricted(selectors.person_keys(later))


def journal_rows(url: str) -> int:
    """How many rows the journal holds, duplicates included (``journal_read`` folds them)."""
    with journal._connect(url, create=False) as (connection, _dialect):
        return int(connection.execute(f"SELECT COUNT(*) FROM {journal.TABLE}").fetchone()[0])  # noqa: S608
