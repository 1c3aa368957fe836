# ruff: noqa: F811 (the fixtures imported from vern.connectors.tests.fixtures are arguments below)
"""Replaying erasures after a restore reaches the company's other systems (R16 with connectors).

Kari is erased, in vern and in møteadm's database (MariaDB, PostgreSQL). vern's database is then
restored from a backup taken before. When møteadm restored its own too, her rows are back there, and
`vern restore --other-systems` erases them again, says how many, and a second replay finds nothing
more. Without the flag (møteadm was not restored), the other system is not touched: a person who came
back to it after the erasure keeps what they gave since.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from vern.audit.services import Actor
from vern.backups import services as backups
from vern.connectors.tests import systems
from vern.connectors.tests.fixtures import _journal_in_its_own_dir, moeteadm_databases, publish  # noqa: F401 (fixtures)
from vern.rights.services.erasure import erasure_carry_out
from vern.rights.services.replay import replay_tombstones
from vern.tests.test_connectors_sql import KARI, OLA, RECENT, registered

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = [
    ("kari.nordmann@example.no", "Kari Nordmann", "+4741526374", "pro"),
    (OLA, "Ola Hansen", "+4793456781", "free"),
]
LOGINS = [
    ("kari.nordmann@example.no", RECENT, "203.0.113.7"),
    ("kari.nordmann@example.no", "2026-12-02 09:30:00", "203.0.113.8"),
    (OLA, RECENT, "198.51.100.4"),
]


@pytest.fixture(params=["mysql", "postgresql"])
def dialect(request, moeteadm_databases, monkeypatch, settings, tmp_path) -> str:
    settings.VERN_BACKUP_DIR = tmp_path / "backups"
    url = systems.mariadb_url() if request.param == "mysql" else systems.postgres_url()
    monkeypatch.setenv("VERN_TEST_MOETEADM_URL", url)
    systems.reset(request.param, people=PEOPLE, logins=LOGINS)
    return str(request.param)


def erased_kari_then_restored(
    dialect, publish, personas, *, other_system_restored: bool, came_back: bool = False, flag: bool = False
) -> str:
    publish(systems.CONNECTOR_YAML)
    pia = personas.privacy_officer
    asked = registered(pia, ["erasure"])
    call_command("backup", stdout=StringIO())
    [backup] = list(Path(backups.backup_directory()).glob("vern-backup-*.vbak"))
    erasure_carry_out(request=asked, staff=pia, actor=Actor.staff(pia))
    assert systems.rows(dialect, "SELECT COUNT(*) FROM logins")[0][0] == 1
    if other_system_restored:  # møteadm came back from its own backup, from before the erasure
        systems.reset(dialect, people=PEOPLE, logins=LOGINS)
    if came_back:  # Kari signs up to møteadm again after her erasure
        with systems.moeteadm(dialect) as connection:
            connection.cursor().execute(
                "INSERT INTO users (email, name, phone, plan, created_at) VALUES (%s, %s, %s, %s, %s)",
                (KARI, "Kari Nordmann", "+4741526374", "free", "2026-12-05 10:00:00"),
            )
    out = StringIO()
    with translation.override("en"):
        call_command("restore", str(backup), "--yes", *(["--other-systems"] if flag else []), stdout=out)
    return out.getvalue()


def test_the_replay_after_a_restore_erases_kari_again_in_moeteadm_and_says_so(dialect, publish, personas):
    output = erased_kari_then_restored(dialect, publish, personas, other_system_restored=True, flag=True)

    assert "Other systems: 3 rows of erased people erased again." in output
    assert "moeteadm.logins: 2" in output and "moeteadm.users: 1" in output
    assert systems.rows(dialect, "SELECT email, name, phone, plan FROM users ORDER BY id") == [
        (None, None, None, "pro"),
        (OLA, "Ola Hansen", "+4793456781", "free"),
    ]
    assert systems.rows(dialect, "SELECT email FROM logins") == [(OLA,)]

    again = replay_tombstones(actor=Actor.cli(), other_systems=True)  # idempotent: nothing more to erase
    assert again["moeteadm.users"] == 0 and again["moeteadm.logins"] == 0
    assert systems.rows(dialect, "SELECT COUNT(*) FROM users")[0][0] == 2


def test_without_the_flag_the_restore_leaves_moeteadm_alone_and_kari_who_came_back_keeps_her_account(
    dialect, publish, personas
):
    output = erased_kari_then_restored(dialect, publish, personas, other_system_restored=False, came_back=True)

    assert "Other systems:" not in output
    assert "vern rights replay-erasures --other-systems" in output
    assert systems.rows(dialect, "SELECT email, plan FROM users ORDER BY id") == [
        (None, "pro"),
        (OLA, "free"),
        (KARI, "free"),
    ]
    assert KARI.lower() not in str(systems.rows(dialect, "SELECT email FROM logins"))
