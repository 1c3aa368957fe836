"""The restore drill (P18, P19, P23, R16): back up, erase a person through the real erasure path, restore the
backup, and the person is still erased everywhere while everyone else's data is back.

Runs on SQLite (the online backup API) and, with DATABASE_URL at PostgreSQL, on pg_dump and pg_restore.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from vern.analytics.models import Hit
from vern.audit.models import Entry
from vern.audit.services import audit_verify
from vern.backups import services
from vern.consent.models import ConsentEvent
from vern.enquiries.models import ContactLog, Enquiry
from vern.lib.keys import email_index, phone_index
from vern.mail.jobs import deliver
from vern.registry.entries import entries
from vern.rights.models import Request
from vern.rights.tests.traces import traces
from vern.tests.test_rights_erasure import Someone, answer, build, erase

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _in_english():
    """Commands speak the operator's language (nb by default in tests); these tests read the English."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _private_dirs(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.VERN_BACKUP_DIR = tmp_path / "backups"


def rows_of(someone: Someone) -> dict[str, int]:
    """Every registered model's rows found by the person's keys (blind indexes and consent id), by label."""
    keys = {"email": email_index(someone.email), "phone": phone_index(someone.phone), "consent_id": someone.consent_id}
    found: dict[str, int] = {}
    for entry in entries():
        if entry.erasure == "retain" or entry.label == "rights.Request":
            continue
        for kind, fields in entry.identifiers.items():
            if kind not in keys:  # a shortened IP is no key of a person's own
                continue
            for name in fields:
                n = entry.model._default_manager.filter(**{name: keys[kind]}).count()
                if n:
                    found[entry.label] = found.get(entry.label, 0) + n
    return found


def test_p18_p23_restore_drill_an_erased_person_stays_erased_and_everyone_else_comes_back(published, personas):
    kari = build(Someone("Kari Nordmann", "Kari.Nordmann@Example.no", "415 26 374"), personas, "k" * 20)
    ola = build(Someone("Ola Hansen", "ola.hansen@example.no", "934 56 781"), personas, "o" * 20)
    assert rows_of(kari) and rows_of(ola)  # both are in the registry's models before the backup
    ola_before = rows_of(ola)

    out = StringIO()
    call_command("backup", stdout=out)
    [backup] = list(Path(services.backup_directory()).glob("vern-backup-*.vbak"))

    # Kari is erased through the real path, and told; then Ola's enquiry is deleted by mistake.
    receipt = erase(kari, personas)
    answer(kari, personas)
    deliver()  # the answer is sent, and the outbox forgets its address (ephemeral after an erasure)
    # What an erasure leaves: at most the sent answer's row, its address forgotten (kept by its keyed index).
    erased_state = rows_of(kari)
    assert receipt.removed > 0 and set(erased_state) <= {"mail.OutboxMessage"} and traces(kari.needles) == []
    assert ola.enquiry is not None
    Enquiry.objects.filter(pk=ola.enquiry.pk).delete()

    restored = StringIO()
    call_command("restore", str(backup), "--yes", stdout=restored)

    assert "Erasure journal replayed" in restored.getvalue()
    # Kari: no registered model holds more of her than the erasure left, and her address and number are in
    # no table at all.
    assert all(n <= erased_state.get(label, 0) for label, n in rows_of(kari).items()), rows_of(kari)
    assert traces(kari.needles) == []
    kari_request = Request.objects.get(pk=kari.request.pk)
    assert (kari_request.email, kari_request.phone, kari_request.details) == ("", "", "")
    # Ola: everything back, readable (decrypted with the same keys).
    assert rows_of(ola) == ola_before
    enquiry = Enquiry.objects.get(pk=ola.enquiry.pk)
    assert enquiry.email == "ola.hansen@example.no" and enquiry.name == "Ola Hansen"
    assert ContactLog.objects.filter(enquiry=enquiry).exists()
    assert ConsentEvent.objects.filter(consent_id=ola.consent_id).count() == 2
    assert Hit.objects.filter(consent_id=ola.consent_id).count() == 2
    # The restore and the replay are in the audit log.
    assert Entry.objects.filter(action="backup.restore").exists()
    assert Entry.objects.filter(action="rights.erasures_replayed").exists()


def test_p19_the_audit_chain_still_verifies_after_a_restore_and_the_replay(published, personas):
    kari = build(Someone("Kari Nordmann", "Kari.Nordmann@Example.no", "415 26 374"), personas, "k" * 20)
    call_command("backup", stdout=StringIO())
    [backup] = list(Path(services.backup_directory()).glob("vern-backup-*.vbak"))
    erase(kari, personas)
    answer(kari, personas)

    call_command("restore", str(backup), "--yes", stdout=StringIO())

    verification = audit_verify()
    assert verification.ok, verification
    assert Entry.objects.filter(action="backup.restore").exists()


def test_r16_a_person_erased_after_the_index_key_rotated_stays_erased_when_an_older_backup_comes_back(
    published, personas, settings
):
    """The journal keeps only keyed digests: Kari's is under the new index key, the backup's rows under the old."""
    from vern.keys.services import keys_rotate
    from vern.keys.tests.helpers import rotate_settings

    kari = build(Someone("Kari Nordmann", "Kari.Nordmann@Example.no", "415 26 374"), personas, "k" * 20)
    old_index = email_index(kari.email)
    call_command("backup", stdout=StringIO())
    [backup] = list(Path(services.backup_directory()).glob("vern-backup-*.vbak"))

    rotate_settings(settings)
    assert keys_rotate().complete
    assert email_index(kari.email) != old_index
    erase(kari, personas)
    answer(kari, personas)
    erased_state = rows_of(kari)

    call_command("restore", str(backup), "--yes", stdout=StringIO())

    assert all(n <= erased_state.get(label, 0) for label, n in rows_of(kari).items()), rows_of(kari)
    assert traces(kari.needles) == []
    assert not Enquiry.objects.filter(email_index=old_index).exists()
