from __future__ import annotations

import pytest

from vern.lib.crypto import DecryptionError, Keyring, blind_index, generate_key, parse_index_key


def keyring(*ids: str) -> Keyring:
    return Keyring.parse(",".join(f"{key_id}:{generate_key()}" for key_id in ids))


def test_text_encrypted_with_a_key_decrypts_to_the_same_text():
    ring = keyring("k1")
    token = ring.encrypt("Ola Nordmann, +4791234567", associated_data="enquiries.Enquiry.name")
    assert "Ola" not in token
    assert token.startswith("v1.k1.")
    assert ring.decrypt(token, associated_data="enquiries.Enquiry.name") == "Ola Nordmann, +4791234567"


def test_the_same_text_encrypts_differently_each_time():
    ring = keyring("k1")
    assert ring.encrypt("a", associated_data="x") != ring.encrypt("a", associated_data="x")


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    ring = keyring("k1")
    token = ring.encrypt("secret", associated_data="mail.OutboxMessage.subject")
    with pytest.raises(DecryptionError):
        ring.decrypt(token, associated_data="mail.OutboxMessage.body_text")


def test_a_tampered_ciphertext_is_refused():
    ring = keyring("k1")
    token = ring.encrypt("secret", associated_data="x")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        ring.decrypt(flipped, associated_data="x")


def test_after_rotation_the_new_key_encrypts_and_the_old_key_still_decrypts():
    old_key, new_key = generate_key(), generate_key()
    before = Keyring.parse(f"2025:{old_key}")
    old_token = before.encrypt("kept", associated_data="x")
    after = Keyring.parse(f"2026:{new_key},2025:{old_key}")
    assert after.decrypt(old_token, associated_data="x") == "kept"
    assert after.needs_rotation(old_token)
    new_token = after.encrypt("kept", associated_data="x")
    assert after.key_id_of(new_token) == "2026"
    assert not after.needs_rotation(new_token)


def test_a_value_written_with_a_key_that_was_removed_names_the_key():
    token = keyring("gone").encrypt("x", associated_data="x")
    with pytest.raises(DecryptionError, match="'gone'"):
        keyring("k1").decrypt(token, associated_data="x")


@pytest.mark.parametrize(
    "setting,problem",
    [
        ("k1", "must look like"),
        ("k 1:" + "A" * 43, "key id"),
        ("k1:c2hvcnQ", "32 bytes"),
        ("k1:" + "A" * 43 + ",k1:" + "B" * 43, "appears twice"),
        ("k1:***", "base64url"),
        # The audit log would refuse it as a phone number: every backup and rotation would fail.
        ("20240115:" + "A" * 43, "reads as a phone number.*'k20240115'"),
    ],
)
def test_a_malformed_key_setting_says_what_is_wrong(setting, problem):
    with pytest.raises(ValueError, match=problem):
        Keyring.parse(setting)


def test_key_ids_with_a_letter_or_written_as_a_date_are_taken():
    ring = Keyring.parse("k20240115:" + "A" * 43 + ",2024-01-15:" + "B" * 43 + ",7:" + "C" * 43)
    assert ring.current == "k20240115" and set(ring.keys) == {"k20240115", "2024-01-15", "7"}


def test_a_blind_index_is_keyed_and_separates_kinds():
    key, other = parse_index_key(generate_key()), parse_index_key(generate_key())
    email = blind_index("ola@example.no", kind="email", root_key=key)
    assert email == blind_index("ola@example.no", kind="email", root_key=key)
    assert email != blind_index("ola@example.no", kind="email", root_key=other)
    assert email != blind_index("ola@example.no", kind="phone", root_key=key)
    assert len(email) == 64 and "ola" not in email
