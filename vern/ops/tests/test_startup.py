"""Bad configuration stops start-up with one clear line; production settings pass `check --deploy`."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from vern.testing import free_port, run_vern, vern_env


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "variable,value,explanation",
    [
        ("PORT", "abc", "PORT='abc' is not a whole number; e.g. PORT=8000"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a yes/no value"),
        (
            "DATABASE_URL",
            "mysql://root@localhost/vern",
            "vern runs on sqlite:///path or postgres://user@host/db",
        ),
        (
            "EMAIL_URL",
            "http://mail.example.com",
            "EMAIL_URL='http://mail.example.com' must start with one of smtp://",
        ),
        ("VERN_ENCRYPTION_KEYS", "k1:tooshort", "VERN_ENCRYPTION_KEYS is not valid"),
        ("VERN_INDEX_KEYS", "i2:tooshort,i1:" + "B" * 43, "VERN_INDEX_KEYS is not valid"),
        ("SECRET_KEY", "short", "SECRET_KEY is not valid: it must be at least 50 characters"),
        (
            "VERN_PUBLIC_URL",
            "ftp://kaukus.no",
            "VERN_PUBLIC_URL='ftp://kaukus.no' must start with one of https://",
        ),
        ("VERN_PUBLIC_URL", "https://kaukus.no/site", "must be only scheme and host"),
        ("VERN_LOG_LEVEL", "LOUD", "VERN_LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR"),
        (
            "ALLOWED_HOSTS",
            "kaukus.no,,www.kaukus.no",
            "ALLOWED_HOSTS='kaukus.no,,www.kaukus.no' has an empty item",
        ),
    ],
)
def test_a_malformed_setting_stops_start_up_with_one_line(variable, value, explanation):
    line = one_line_error(run_vern("check", env=vern_env(**{variable: value})))
    assert line.startswith("vern: configuration error: ")
    assert explanation in line


def test_a_secret_in_a_missing_file_is_named_without_its_value(tmp_path):
    env = vern_env(SECRET_KEY_FILE=str(tmp_path / "missing"), DJANGO_SETTINGS_MODULE="vern.settings")
    env.pop("SECRET_KEY")
    line = one_line_error(run_vern("check", env=env))
    assert "SECRET_KEY_FILE=" in line and "cannot be read" in line


def test_a_database_that_cannot_be_reached_gives_a_clear_error_not_a_traceback():
    url = f"postgres://postgres@127.0.0.1:{free_port()}/vern"
    line = one_line_error(run_vern("migrate", env=vern_env(DATABASE_URL=url)))
    assert line.startswith("vern: cannot use the database at 127.0.0.1:")
    assert "(check DATABASE_URL)" in line


def test_the_server_refuses_to_start_on_a_database_that_is_not_migrated(tmp_path):
    env = vern_env(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = run_vern("serve", env=env)
    assert result.returncode != 0
    assert "the database is not migrated to this version of vern; run `vern migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_prepares_a_fresh_database_completely(tmp_path):
    import sqlite3

    database = tmp_path / "fresh.sqlite3"
    result = run_vern("migrate", env=vern_env(DATABASE_URL=f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"vern_cache", "jobs_job", "mail_outboxmessage", "audit_entry", "accounts_user"} <= tables
    assert journal == "wal"


def test_first_start_generates_private_keys_into_the_data_directory(tmp_path):
    data = tmp_path / "data"
    env = {
        key: value
        for key, value in vern_env(
            VERN_DATA_DIR=str(data),
            DATABASE_URL=f"sqlite:///{data}/vern.sqlite3",
            DJANGO_SETTINGS_MODULE="vern.settings",
        ).items()
        if key not in ("SECRET_KEY", "VERN_ENCRYPTION_KEYS", "VERN_INDEX_KEY")
    }
    assert run_vern("check", env=env).returncode == 0
    for name in ("secret_key", "vern_encryption_keys", "vern_index_key"):
        path = data / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys_before = (data / "vern_encryption_keys").read_text()
    assert run_vern("check", env=env).returncode == 0
    assert (data / "vern_encryption_keys").read_text() == keys_before


@pytest.mark.parametrize("missing", ["SECRET_KEY", "VERN_ENCRYPTION_KEYS", "VERN_INDEX_KEY"])
def test_with_postgresql_vern_never_makes_up_a_secret(tmp_path, missing):
    env = vern_env(
        VERN_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://vern@db.example/vern",
        DJANGO_SETTINGS_MODULE="vern.settings",
    )
    env.pop(missing)
    line = one_line_error(run_vern("check", env=env))
    assert f"{missing} is not set; with PostgreSQL set it (or {missing}_FILE)" in line
    assert not (tmp_path / missing.lower()).exists()


def production_env(tmp_path, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VERN_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="vern.settings",
        VERN_DATA_DIR=str(tmp_path),
        VERN_PUBLIC_URL="https://kaukus.no",
        ALLOWED_HOSTS="kaukus.no,www.kaukus.no",
        EMAIL_URL="smtp+starttls://vern:secret@smtp.kaukus.no:587",
        VERN_MAIL_FROM="Kaukus AS <support@kaukus.no>",
        VERN_TRUST_PROXY_HEADERS="true",
    )
    env.pop("DATABASE_URL", None)
    env.update(overrides)
    return env


def test_p18_production_settings_pass_djangos_deploy_checks(tmp_path):
    """HTTPS only, HSTS, secure cookies: `vern check --deploy` has nothing to say."""
    result = run_vern("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_checks_name_what_is_not_ready_for_production(tmp_path):
    env = production_env(
        tmp_path,
        VERN_PUBLIC_URL="http://kaukus.no",
        EMAIL_URL="console://",
        VERN_MAIL_FROM="vern <noreply@localhost>",
    )
    result = run_vern("check", "--deploy", env=env)
    output = result.stdout + result.stderr
    for check_id in ("vern.W002", "vern.W003", "vern.W004", "security.W004", "security.W008"):
        assert check_id in output, check_id


def test_a_public_host_outside_allowed_hosts_is_an_error_that_says_how_to_fix_it(tmp_path):
    result = run_vern("check", env=production_env(tmp_path, ALLOWED_HOSTS="www.kaukus.no"))
    assert result.returncode != 0
    assert "vern.E001" in result.stderr
    assert "VERN_PUBLIC_URL's host 'kaukus.no' is not in ALLOWED_HOSTS" in result.stderr


def test_an_erasure_journal_in_vern_s_own_database_is_refused_and_one_of_its_own_is_accepted(tmp_path):
    own = f"sqlite:///{tmp_path / 'vern.sqlite3'}"
    result = run_vern("check", env=production_env(tmp_path, DATABASE_URL=own, ERASURE_JOURNAL_URL=own))
    assert result.returncode != 0
    assert "vern.E003" in result.stderr and "ERASURE_JOURNAL_URL names vern's own database" in result.stderr
    apart = f"sqlite:///{tmp_path / 'journal' / 'erasure-journal.sqlite3'}"
    result = run_vern("check", env=production_env(tmp_path, DATABASE_URL=own, ERASURE_JOURNAL_URL=apart))
    assert result.returncode == 0, result.stderr
    result = run_vern("check", env=production_env(tmp_path, ERASURE_JOURNAL_URL="mysql://journal/db"))
    assert result.returncode != 0 and "ERASURE_JOURNAL_URL" in result.stderr


def test_with_postgresql_a_journal_on_this_machine_alone_is_warned_about_before_deploying(settings):
    from vern.ops.checks import check_erasure_journal_shared

    settings.DATABASE_URL = "postgres://vern@db.internal:5432/vern"
    settings.ERASURE_JOURNAL_URL = ""
    assert [warning.id for warning in check_erasure_journal_shared(None)] == ["vern.W005"]
    settings.ERASURE_JOURNAL_URL = "postgres://vern@db.internal:5432/vern_journal"
    assert check_erasure_journal_shared(None) == []


def test_p24_the_data_directory_database_and_keys_are_private_to_vern_whatever_the_umask(tmp_path):
    """A local account cannot read the database, which holds live staff sessions, nor the keys."""
    import sqlite3

    data = tmp_path / "srv" / "data"
    env = production_env(tmp_path, VERN_DATA_DIR=str(data))
    for generated in ("SECRET_KEY", "VERN_ENCRYPTION_KEYS", "VERN_INDEX_KEY"):
        env.pop(generated, None)  # made on first start, into the data directory
    previous = os.umask(0o022)  # the usual umask, which leaves new files readable by everyone
    try:
        migrated = run_vern("migrate", env=env, timeout=120)  # a child process keeps this umask
        assert migrated.returncode == 0, migrated.stderr
        database = data / "vern.sqlite3"
        # SQLite gives the -wal and -shm files the mode of the database file; while vern writes, they exist.
        with sqlite3.connect(database) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE scratch (x)")
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data.iterdir()}
    finally:
        os.umask(previous)
    assert modes.pop("vern.sqlite3") == 0o600
    assert modes.pop("vern.sqlite3-wal") == 0o600 and modes.pop("vern.sqlite3-shm") == 0o600
    for name in ("secret_key", "vern_encryption_keys", "vern_index_key"):
        assert modes.pop(name) == 0o600, name
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    deploy = run_vern("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr

    # An installation made before, with the database readable by all, is named before deploying.
    os.chmod(database, 0o644)
    os.chmod(data, 0o755)  # noqa: S103
    deploy = run_vern("check", "--deploy", env=env)
    output = deploy.stdout + deploy.stderr
    assert "vern.W006" in output and str(database) in output and "live staff sessions" in output


def test_vern_help_lists_vern_commands_and_keeps_djangos_under_one_subcommand():
    """Issue 21: `vern --help` once offered `flush` and `createsuperuser` beside vern's own commands."""
    listing = run_vern("--help")
    assert listing.returncode == 0
    for own in ("staff", "serve", "worker", "run", "rights", "retention", "declaration", "migrate", "check"):
        assert f"\n  {own} " in listing.stdout
    for django_only in ("flush", "createsuperuser", "sqlflush", "dumpdata"):
        assert django_only not in listing.stdout
    assert run_vern().stdout == listing.stdout

    refused = run_vern("flush", "--no-input")
    assert refused.returncode == 1
    assert "`vern django flush`" in refused.stderr

    django_help = run_vern("django", "help")
    assert django_help.returncode == 0 and "flush" in django_help.stdout and "createsuperuser" in django_help.stdout
    one = run_vern("help", "staff")
    assert one.returncode == 0 and "usage: vern staff" in one.stdout
