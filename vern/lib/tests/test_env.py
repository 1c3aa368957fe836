from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from vern.lib.env import ConfigError, Env


def test_a_yes_no_value_must_be_exactly_yes_or_no():
    env = Env({"DEBUG": "yes please"})
    with pytest.raises(ConfigError) as caught:
        env.boolean("DEBUG", False)
    message = str(caught.value)
    assert "\n" not in message
    assert "DEBUG='yes please'" in message and "DEBUG=true" in message


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("off", False), ("False", False)])
def test_common_spellings_of_yes_and_no_are_understood(raw, expected):
    assert Env({"DEBUG": raw}).boolean("DEBUG", not expected) is expected


def test_debug_is_off_when_unset():
    assert Env({}).boolean("DEBUG", False) is False


def test_a_number_out_of_range_names_the_limit():
    with pytest.raises(ConfigError, match="PORT=70000 is above the largest allowed value 65535"):
        Env({"PORT": "70000"}).integer("PORT", 8000, minimum=1, maximum=65535)


def test_a_list_with_an_empty_item_is_refused():
    with pytest.raises(ConfigError, match="empty item"):
        Env({"ALLOWED_HOSTS": "a.no,,b.no"}).strings("ALLOWED_HOSTS", [])


def test_a_list_of_addresses_is_normalised_and_a_bad_one_is_named_by_position_only():
    env = Env({"VERN_ENQUIRY_NOTIFY": "Salg@Kaukus.no, ola@example.no"})
    assert env.emails("VERN_ENQUIRY_NOTIFY", []) == ["salg@kaukus.no", "ola@example.no"]
    with pytest.raises(ConfigError) as caught:
        Env({"VERN_ENQUIRY_NOTIFY": "salg@kaukus.no,kari(at)example.no"}).emails("VERN_ENQUIRY_NOTIFY", [])
    assert "VERN_ENQUIRY_NOTIFY: item 2 is not a usable email address" in str(caught.value)
    assert "kari" not in str(caught.value)


def test_a_url_with_the_wrong_scheme_says_which_schemes_work():
    with pytest.raises(ConfigError, match=r"must start with one of smtp://, console://"):
        Env({"EMAIL_URL": "http://mail"}).url("EMAIL_URL", "console://", schemes=("smtp", "console"))


def test_a_secret_value_is_never_echoed_in_the_error(tmp_path):
    def validate(value: str) -> None:
        raise ValueError("too short")

    with pytest.raises(ConfigError) as caught:
        Env({"SECRET_KEY": "hunter2-the-secret"}).secret(
            "SECRET_KEY", data_dir=tmp_path, generate=lambda: "x", validate=validate
        )
    assert "hunter2" not in str(caught.value)


def test_a_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text("from-the-file\n")
    env = Env({"SECRET_KEY_FILE": str(secret_file)})
    assert env.secret("SECRET_KEY", data_dir=tmp_path, generate=lambda: "generated") == "from-the-file"


def test_setting_both_a_secret_and_its_file_is_an_error(tmp_path):
    env = Env({"SECRET_KEY": "a", "SECRET_KEY_FILE": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match="both set"):
        env.secret("SECRET_KEY", data_dir=tmp_path, generate=lambda: "generated")


def test_a_missing_secret_file_is_named(tmp_path):
    env = Env({"SECRET_KEY_FILE": str(tmp_path / "nope")})
    with pytest.raises(ConfigError, match="cannot be read"):
        env.secret("SECRET_KEY", data_dir=tmp_path, generate=lambda: "generated")


def test_an_unset_secret_is_generated_once_into_the_data_dir_readable_only_by_its_owner(tmp_path):
    env = Env({})
    first = env.secret("VERN_INDEX_KEY", data_dir=tmp_path, generate=lambda: os.urandom(8).hex())
    second = env.secret("VERN_INDEX_KEY", data_dir=tmp_path, generate=lambda: os.urandom(8).hex())
    assert first == second
    path = tmp_path / "vern_index_key"
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_processes_starting_together_agree_on_one_generated_secret(tmp_path):
    results: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        results.append(Env({}).secret("SECRET_KEY", data_dir=tmp_path, generate=lambda: os.urandom(16).hex()))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert len(set(results)) == 1
    assert not [p for p in Path(tmp_path).iterdir() if p.name.endswith(".tmp")]
