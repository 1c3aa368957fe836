"""The audit log is append-only and tamper-evident (P19, R22)."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.db import DatabaseError, connection, transaction

from vern.audit.events import AuditEvent
from vern.audit.models import Entry, Head
from vern.audit.services import Actor, audit_anchor, audit_record, audit_verify
from vern.lib.keys import email_index
from vern.testing import run_vern, vern_env

# Any event will do: these tests are about the chain, not what a row records.
EVENT = AuditEvent.ENQUIRY_VIEWED


def write_rows(count: int) -> list[Entry]:
    return [
        audit_record(
            action=EVENT,
            actor=Actor.system(),
            object_type="tests.thing",
            object_id=n,
            subject_key=email_index(f"person{n}@example.no"),
            data={"n": n},
        )
        for n in range(1, count + 1)
    ]


_guard = importlib.import_module("vern.audit.migrations.0002_append_only")


def drop_guard() -> None:
    """What someone with full database access could do first: remove the trigger."""
    with connection.cursor() as cursor:
        for statement in _guard.STATEMENTS[connection.vendor][1]:
            cursor.execute(statement)


def restore_guard() -> None:
    with connection.cursor() as cursor:
        for statement in _guard.STATEMENTS[connection.vendor][0]:
            cursor.execute(statement)


@pytest.mark.django_db
def test_p19_rows_are_chained_and_an_untouched_log_verifies():
    rows = write_rows(5)
    assert [row.seq for row in rows] == [1, 2, 3, 4, 5]
    assert all(later.prev_mac == earlier.mac for earlier, later in zip(rows, rows[1:], strict=False))
    result = audit_verify()
    assert result.ok and result.rows == 5
    assert Head.objects.get(pk=1).seq == 5


@pytest.mark.django_db
def test_p19_the_database_refuses_to_change_an_audit_row():
    write_rows(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(seq=1).update(action="test.innocent")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_entry SET data = '{}' WHERE seq = 1")


@pytest.mark.django_db
def test_p19_an_edited_row_is_named_by_verify():
    write_rows(4)
    drop_guard()
    Entry.objects.filter(seq=3).update(data={"n": 300})
    result = audit_verify()
    assert not result.ok
    assert result.problems == ["row #3 (enquiry.viewed) was changed after it was written"]


@pytest.mark.django_db
def test_p19_a_row_rebuilt_without_the_key_does_not_pass():
    """Recomputing the chain with a plain hash, as someone without VERN_INDEX_KEY would, fails."""
    import hashlib
    import json

    write_rows(3)
    drop_guard()
    row = Entry.objects.get(seq=2)
    payload = json.dumps({"n": 200, "prev": row.prev_mac}, sort_keys=True).encode()
    forged = hashlib.sha256(payload).hexdigest()
    Entry.objects.filter(seq=2).update(data={"n": 200}, mac=forged)
    Entry.objects.filter(seq=3).update(prev_mac=forged)
    problems = audit_verify().problems
    assert "row #2 (enquiry.viewed) was changed after it was written" in problems
    assert "row #3 (enquiry.viewed) was changed after it was written" in problems  # its prev_mac was rewritten


@pytest.mark.django_db
def test_p19_a_deleted_row_in_the_middle_is_detected():
    write_rows(5)
    Entry.objects.filter(seq=2).delete()
    problems = audit_verify().problems
    assert "rows #2-#2 are missing (deleted)" in problems


@pytest.mark.django_db
def test_p19_deleted_rows_at_the_end_are_detected_through_the_head():
    write_rows(5)
    Entry.objects.filter(seq__gte=4).delete()
    problems = audit_verify().problems
    assert any("the head says the last row is #5, but the table ends at #3" in p for p in problems)


@pytest.mark.django_db
def test_p19_deleting_the_newest_rows_and_rewriting_the_head_is_caught_by_an_anchor_kept_elsewhere():
    write_rows(5)
    anchor = audit_anchor()
    assert anchor.startswith("5:")
    Entry.objects.filter(seq__gte=4).delete()
    survivor = Entry.objects.get(seq=3)
    Head.objects.filter(pk=1).update(seq=3, mac=survivor.mac)
    assert audit_verify().ok  # the database alone cannot tell
    problems = audit_verify(anchors=[anchor]).problems
    assert problems == ["row #5, recorded in an anchor outside the database, is gone"]


@pytest.mark.django_db
def test_audit_data_may_not_hold_an_email_address_or_a_full_ip():
    with pytest.raises(ValueError, match="email"):
        audit_record(action=EVENT, actor=Actor.system(), data={"old": "ola@example.no"})
    with pytest.raises(ValueError, match="IP"):
        audit_record(action=EVENT, actor=Actor.system(), data={"from": "203.0.113.77"})
    with pytest.raises(ValueError, match="IP"):
        audit_record(action=EVENT, actor=Actor.system(), data={"from": "2001:db8::1"})
    with pytest.raises(ValueError, match="email"):
        audit_record(action=EVENT, actor=Actor.system(), data={"to": "åse@blåbær.no"})
    with pytest.raises(ValueError, match="phone"):
        audit_record(action=EVENT, actor=Actor.system(), data={"tlf": "+47 912 34 567"})
    with pytest.raises(ValueError, match="area.verb"):
        audit_record(action="Bad Action", actor=Actor.system())  # type: ignore[arg-type]
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_an_audit_row_is_only_kept_when_its_change_commits():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action=EVENT, actor=Actor.system())
        raise RuntimeError
    assert not Entry.objects.exists()
    audit_record(action=EVENT, actor=Actor.system())
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_p19_concurrent_writers_keep_one_unbroken_chain():
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                audit_record(action=EVENT, actor=Actor.system(), object_id=f"{n}-{i}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = audit_verify()
    assert result.ok, result.problems
    assert result.rows == 60


@pytest.mark.django_db(transaction=True)
def test_p19_vern_audit_verify_fails_on_a_tampered_row():
    write_rows(3)
    ok = run_vern("audit", "verify", env=vern_env())
    assert ok.returncode == 0, ok.stderr
    assert "audit log verified: 3 rows, chain intact" in ok.stdout
    drop_guard()
    try:
        Entry.objects.filter(seq=2).update(action="test.harmless")
    finally:
        restore_guard()
    tampered = run_vern("audit", "verify", env=vern_env())
    assert tampered.returncode != 0
    assert "row #2 (test.harmless) was changed after it was written" in tampered.stderr
    assert "verification FAILED" in tampered.stderr


def prune(through_seq: int) -> int:
    from vern.audit.services import AUDIT_CHAIN, chain_prune

    return chain_prune(AUDIT_CHAIN, through_seq=through_seq, actor=Actor.system())


@pytest.mark.django_db
def test_retention_removes_the_oldest_rows_and_the_rest_still_verifies():
    write_rows(10)
    anchor = audit_anchor()
    early = f"4:{Entry.objects.get(seq=4).mac}"
    assert prune(4) == 4
    assert prune(3) == 0  # already gone: nothing happens twice
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(5, 12))
    assert Entry.objects.get(seq=11).action == "retention.chain_pruned"  # the record verify requires
    result = audit_verify(anchors=[anchor, early])
    assert result.ok, result.problems
    assert "differs from the anchor" in " ".join(audit_verify(anchors=["4:" + "f" * 64]).problems)
    audit_record(action=EVENT, actor=Actor.system())
    assert audit_verify().ok
    # Someone who removes more than retention did is still caught.
    Entry.objects.filter(seq=5).delete()
    assert "rows #5-#5 are missing (deleted)" in audit_verify().problems


@pytest.mark.django_db
def test_retention_may_remove_every_row_and_the_chain_goes_on():
    write_rows(3)
    assert prune(99) == 3
    assert audit_verify().ok
    audit_record(action=EVENT, actor=Actor.system())
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_start_of_the_chain_moved_without_retentions_record_is_caught():
    """Deleting the oldest rows and setting the floor by hand looks like retention, but has no keyed record."""
    write_rows(5)
    anchor = audit_anchor()
    head = Head.objects.get(pk=1)
    Entry.objects.all().delete()
    Head.objects.filter(pk=1).update(floor_seq=head.seq, floor_mac=head.mac)
    problems = " ".join(audit_verify(anchors=[anchor]).problems)
    assert "no intact record says that retention removed the rows before it" in problems


@pytest.mark.django_db
def test_pruning_refuses_to_remove_rows_that_were_tampered_with():
    from vern.audit.chain import ChainBroken

    write_rows(6)
    drop_guard()
    try:
        Entry.objects.filter(seq=3).update(action="test.forged")
    finally:
        restore_guard()
    with pytest.raises(ChainBroken):
        prune(5)
    assert Entry.objects.count() == 6  # nothing removed, so the change is still there to find


@pytest.mark.django_db
def test_pruning_a_chain_without_its_head_stops_with_an_error_not_a_loop():
    from vern.audit.chain import ChainBroken

    write_rows(3)
    Head.objects.filter(pk=1).delete()
    with pytest.raises(ChainBroken):
        prune(2)
