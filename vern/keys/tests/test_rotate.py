"""``vern keys rotate`` and ``vern keys status``: every value under the new keys, nothing lost (P24, P19)."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from vern.audit.models import Entry
from vern.audit.services import audit_verify
from vern.enquiries.models import Enquiry, SearchTerm
from vern.enquiries.selectors import search
from vern.keys.checks import check_key_use
from vern.keys.models import KeyUse, RotationCursor
from vern.keys.services import keys_rotate
from vern.keys.tests.helpers import (
    person,
    retire_settings,
    rotate_settings,
    stored_indexes,
    stored_key_ids,
)
from vern.lib.keys import email_index, email_indexes
from vern.mail.emails import rights_confirm
from vern.mail.models import OutboxMessage
from vern.registry.selectors import records_of
from vern.rights.models import Request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policy(published: Any) -> None:
    """Enquiries name the policy in force: the default declaration, published."""


def _found(email: str) -> set[str]:
    """The models in which the registry finds rows of this person."""
    return {found.entry.label for found in records_of(email=email) if found.records.exists()}


def test_p24_rotation_puts_every_encrypted_value_under_the_new_key_and_the_old_one_can_go(
    personas: Any, settings: Any
) -> None:
    for number in range(7):
        person(personas.privacy_officer, number)
    mail = rights_confirm(to="person1@example.no", language="nb", link="https://kaukus.no/x/", expires_hours=72)
    before = {e.pk: (e.name, e.email, e.phone, e.message) for e in Enquiry.objects.all()}
    assert stored_key_ids()["enquiries.Enquiry.name"] == {"test"}

    rotate_settings(settings)
    progress = keys_rotate(batch_size=3)

    assert progress.complete and progress.values_reencrypted > 7 * 4
    ids = stored_key_ids()
    assert ids and all(found == {"k2"} for found in ids.values()), ids
    # The old encryption key goes; everything still reads, and the registry finds each person.
    settings.VERN_ENCRYPTION_KEYS = settings.VERN_ENCRYPTION_KEYS.split(",")[0]
    assert {e.pk: (e.name, e.email, e.phone, e.message) for e in Enquiry.objects.all()} == before
    assert OutboxMessage.objects.get(kind="rights_confirm", pk=mail.pk).to_address == "person1@example.no"
    assert _found("person3@example.no") >= {"enquiries.Enquiry", "rights.Request"}
    assert check_key_use(None) == []


def test_p24_rotation_recomputes_every_blind_index_so_lookups_need_only_the_new_key(
    personas: Any, settings: Any
) -> None:
    for number in range(5):
        person(personas.privacy_officer, number)
    old = email_index("person2@example.no")
    assert Enquiry.objects.filter(email_index=old).count() == 1

    rotate_settings(settings)
    new = email_index("person2@example.no")
    assert new != old and email_indexes("person2@example.no") == [new, old]
    # Before the rotation, lookups find the rows under the old index, and new rows go in under the new one.
    assert Enquiry.objects.filter(search("PERSON2@example.no")).count() == 1
    assert Enquiry.objects.filter(search("Kari Nordmann2")).count() == 1
    progress = keys_rotate(batch_size=2)
    assert progress.complete and progress.indexes_recomputed >= 10 and progress.search_digests_rebuilt == 5

    assert Enquiry.objects.get(email_index=new).email == "person2@example.no"
    assert Request.objects.get(email_index=new).email == "person2@example.no"
    indexes = stored_indexes()
    assert old not in indexes["enquiries.Enquiry.email_index"] | indexes["rights.Request.email_index"]
    # With only the new index key (the old one would stay for the audit rows; see the next test),
    # every lookup still finds its row: by email, by phone and by a word of the name.
    settings.VERN_INDEX_KEYS = settings.VERN_INDEX_KEYS.split(",")[0]
    assert Enquiry.objects.filter(search("person2@example.no")).count() == 1
    assert Enquiry.objects.filter(search("+47 90000002")).count() == 1
    assert Enquiry.objects.filter(search("nordmann2 bergen")).count() == 1
    assert SearchTerm.objects.count() > 0
    assert _found("person4@example.no") >= {"enquiries.Enquiry", "rights.Request"}


def test_p19_the_audit_chain_still_verifies_after_the_index_key_rotated(personas: Any, settings: Any) -> None:
    for number in range(3):
        person(personas.privacy_officer, number)
    written_before = Entry.objects.count()
    assert written_before > 3 and audit_verify().ok

    rotate_settings(settings)
    keys_rotate()
    person(personas.privacy_officer, 9)  # new rows, chained under the new key

    result = audit_verify()
    assert result.ok, result.problems
    # The rows keep the mac of the key they were written under: the old index key must stay
    # (for them) and `status` says so, while the deploy check does not call it unfinished rotation.
    out = StringIO()
    call_command("keys", "status", stdout=out)
    assert f"index key 'index': {written_before} values (keep: hash chain rows" in out.getvalue()
    assert check_key_use(None) == []


def test_rotation_and_status_are_audited_with_counts_only(personas: Any, settings: Any) -> None:
    person(personas.privacy_officer, 1)
    rotate_settings(settings)
    keys_rotate(max_batches=1, batch_size=1)
    keys_rotate()
    actions = list(Entry.objects.filter(object_type="keys").order_by("seq").values_list("action", "data"))
    assert [action for action, _ in actions] == [
        "keys.rotation_started",
        "keys.rotation_stopped",
        "keys.rotation_started",
        "keys.rotation_finished",
    ]
    finished = actions[-1][1]
    assert finished["encryption_key"] == "k2" and finished["index_key"] == "i2" and finished["complete"] is True
    assert "example" not in str(actions)


def test_a_stopped_rotation_continues_where_it_stopped(personas: Any, settings: Any) -> None:
    for number in range(6):
        person(personas.privacy_officer, number)
    rotate_settings(settings)

    first = keys_rotate(batch_size=2, max_batches=2)

    assert not first.complete and first.batches == 2
    done = [e for e in Enquiry.objects.order_by("pk")[:4]]
    raw = {e.pk: _raw_name(e.pk) for e in done}
    assert all(value.startswith("v1.k2.") for value in raw.values())
    assert _raw_name(Enquiry.objects.order_by("pk")[5].pk).startswith("v1.test.")
    assert RotationCursor.objects.get(step="encrypt:enquiries.Enquiry").last_pk == done[-1].pk

    second = keys_rotate(batch_size=2)

    assert second.complete
    # What the first run wrote was not written again.
    assert {pk: _raw_name(pk) for pk in raw} == raw
    assert all(found == {"k2"} for found in stored_key_ids().values())
    assert not RotationCursor.objects.exists()


def _raw_name(pk: int) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM enquiries_enquiry WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_retiring_a_key_before_the_rotation_is_refused_clearly(personas: Any, settings: Any) -> None:
    person(personas.privacy_officer, 1)
    rotate_settings(settings)
    call_command("keys", "status", stdout=StringIO())
    assert KeyUse.objects.filter(kind="encryption", key_id="test", values__gt=0).exists()
    unfinished = check_key_use(None)
    assert {warning.id for warning in unfinished} == {"vern.keys.W001"}
    # Every encrypted value the person left (enquiry, request, its events and mails) is counted, and named.
    old_values = sum(KeyUse.objects.filter(kind="encryption", key_id="test").values_list("values", flat=True))
    assert old_values >= 8
    assert (
        f"Key rotation is not finished: {old_values} stored values still use the old encryption key 'test'"
        in unfinished[0].msg
    )
    assert "old index key 'index'" in unfinished[1].msg

    retire_settings(settings)

    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--deploy", "--tag", "security")
    assert "use the encryption key 'test', which VERN_ENCRYPTION_KEYS no longer lists" in str(refused.value)
    assert "vern.keys.E001" in str(refused.value) and "vern.keys.E002" in str(refused.value)
    with pytest.raises(CommandError, match="not configured"):
        call_command("keys", "status", stdout=StringIO())
    # Put back and rotated, the old key can go.
    rotate_settings(settings)
    call_command("keys", "rotate", stdout=StringIO())
    settings.VERN_ENCRYPTION_KEYS = settings.VERN_ENCRYPTION_KEYS.split(",")[0]
    out = StringIO()
    call_command("keys", "status", stdout=out)
    assert "encryption key 'k2':" in out.getvalue() and "'test'" not in out.getvalue()
    assert Enquiry.objects.get().email == "person1@example.no"


def test_status_tells_when_an_old_key_can_be_retired(personas: Any, settings: Any) -> None:
    person(personas.privacy_officer, 1)
    rotate_settings(settings)
    out = StringIO()
    call_command("keys", "status", stdout=out)
    assert "encryption key 'test':" in out.getvalue() and "(in use: run `vern keys rotate`)" in out.getvalue()
    assert "    enquiries.Enquiry.name: 1" in out.getvalue()

    out = StringIO()
    call_command("keys", "rotate", "--batch-size", "5", stdout=out)

    assert "rotation finished" in out.getvalue()
    assert "encryption key 'test': 0 values (can be retired once no backup written under it is kept)" in out.getvalue()
    assert "example" not in out.getvalue()


def test_a_link_mailed_before_the_index_key_rotated_still_opens(settings: Any) -> None:
    from vern.rights.services.intake import request_confirm, request_submit

    request_submit(rights=["access"], email="kari@example.no", language="nb")
    body = OutboxMessage.objects.get(kind="rights_confirm").body_text
    token = re.search(r"/confirm/([A-Za-z0-9_-]+)/", body)
    assert token
    rotate_settings(settings)
    keys_rotate()

    confirmed = request_confirm(token=token.group(1))

    assert confirmed.email == "kari@example.no" and confirmed.email_index == email_index("kari@example.no")


def test_p24_a_value_written_after_the_rotation_read_the_row_is_never_overwritten(personas: Any, settings: Any) -> None:
    """The compare-and-swap itself: the rotation read a row, then a page saved it, then the rotation writes."""
    from vern.keys.columns import encrypted_tables
    from vern.keys.services import Progress, _reencrypt_row, _select

    enquiry, _ = person(personas.privacy_officer, 1)
    rotate_settings(settings)
    [table] = [t for t in encrypted_tables() if t.model is Enquiry]
    [stale] = _select(Enquiry, [f.column for f in table.fields], pk=enquiry.pk)
    Enquiry.objects.filter(pk=enquiry.pk).update(message="Skrevet mens rotasjonen leste", name="Kari Ny")
    progress = Progress()

    _reencrypt_row(table, keyring_now(), stale, progress)

    enquiry.refresh_from_db()
    assert (enquiry.message, enquiry.name) == ("Skrevet mens rotasjonen leste", "Kari Ny")
    assert progress.rows_changed_meanwhile == 1
    assert all(found == {"k2"} for column, found in stored_key_ids().items() if column.startswith("enquiries.Enquiry."))


def keyring_now() -> Any:
    from vern.lib.keys import keyring

    return keyring()


def test_p24_keyed_references_follow_the_person_and_an_erased_persons_restriction_still_holds_mail(
    personas: Any, settings: Any
) -> None:
    """A restriction (no address of its own) is translated through the person's stored address; one of
    someone whose address is stored nowhere cannot be, and keeps working while the old key is listed."""
    from vern.mail.services import mail_queue
    from vern.rights.models import Restriction, Suppression

    person(personas.privacy_officer, 1)
    Restriction.objects.create(subject_key=email_index("person1@example.no"))
    Restriction.objects.create(subject_key=email_index("gone@example.no"))
    Suppression.objects.create(subject_key=email_index("gone@example.no"))
    rotate_settings(settings)

    keys_rotate()

    kept = set(Restriction.objects.values_list("subject_key", flat=True))
    assert kept == {email_index("person1@example.no"), email_indexes("gone@example.no")[1]}
    assert Suppression.objects.get().subject_key == email_indexes("gone@example.no")[1]  # still the old key's
    out = StringIO()
    call_command("keys", "status", stdout=out)
    assert "keyed references have no stored email or phone" in out.getvalue()
    assert "    rights.Restriction.subject_key: 1" in out.getvalue()
    assert "    rights.Suppression.subject_key: 1" in out.getvalue()
    # The restriction still holds back mail to the person, found under the old key.
    mail = mail_queue(kind="enquiry_received", to="gone@example.no", language="nb", context={})
    assert mail.status == OutboxMessage.Status.WITHHELD
    assert mail.to_index == email_index("gone@example.no")  # written under the new key


def test_p24_an_email_corrected_after_the_rotation_read_the_row_keeps_its_own_index(
    personas: Any, settings: Any
) -> None:
    """The compare-and-swap of an index: a correction between the read and the write wins."""
    from vern.keys.columns import index_columns
    from vern.keys.selectors import columns_of, index_map
    from vern.keys.services import Progress, _reindex_row, _select
    from vern.lib.keys import index_keys, keyring

    enquiry, _ = person(personas.privacy_officer, 1)
    rotate_settings(settings)
    [column] = [c for c in index_columns() if c.label == "enquiries.Enquiry.email_index"]
    [stale] = _select(Enquiry, columns_of(column), pk=enquiry.pk)
    enquiry.email, enquiry.email_index = "ny@example.no", email_index("ny@example.no")
    enquiry.save(update_fields=["email", "email_index"])
    progress = Progress()

    _reindex_row(column, index_keys(), keyring(), index_map(index_keys(), keyring()), stale, progress)

    enquiry.refresh_from_db()
    assert (enquiry.email, enquiry.email_index) == ("ny@example.no", email_index("ny@example.no"))
    assert progress.rows_changed_meanwhile == 1 and progress.indexes_recomputed == 0
