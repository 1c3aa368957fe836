"""The sealed file format of backups: round trip in chunks, and a clear error for each way it can fail."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from vern.lib import sealed

KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
PAYLOAD = b"".join(f"row {n}: kari.nordmann@example.no\n".encode() for n in range(2000))  # ~70 KB


def seal(payload: bytes = PAYLOAD, *, chunk: int = 4096, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    sealed.seal(io.BytesIO(payload), out, manifest={"database": "sqlite"}, key_id="k1", root_key=key, chunk=chunk)
    return out.getvalue()


def unseal(data: bytes, *, keys: dict[str, bytes] | None = None) -> tuple[dict[str, object], bytes]:
    keys = {"k1": KEY} if keys is None else keys
    received = io.BytesIO()
    header, trailer = sealed.unseal(io.BytesIO(data), received.write, key_for=keys.get)
    assert trailer.size == len(received.getvalue())
    return header, received.getvalue()


def test_a_payload_of_many_chunks_comes_back_unchanged_with_its_manifest():
    data = seal()
    header, payload = unseal(data)
    assert payload == PAYLOAD
    assert header["database"] == "sqlite" and header["key_id"] == "k1" and header["cipher"] == "AES-256-GCM"
    # Every full chunk is its own record: "D", length 4096 + 16 (the tag), sealed bytes.
    assert data.count(b"D\x00\x00\x10\x10") == len(PAYLOAD) // 4096


def test_the_sealed_file_holds_no_plaintext_of_the_payload():
    data = seal()
    assert b"kari.nordmann" not in data and b"row 1" not in data


def test_the_manifest_and_checksum_are_readable_without_the_key():
    header, trailer = sealed.inspect(io.BytesIO(seal()))
    assert header["key_id"] == "k1"
    assert trailer["size"] == len(PAYLOAD)
    assert trailer["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()


def test_an_empty_payload_round_trips():
    assert unseal(seal(b""))[1] == b""


def test_a_wrong_key_with_the_same_id_is_named_as_such():
    with pytest.raises(sealed.WrongKey) as failure:
        unseal(seal(), keys={"k1": OTHER_KEY})
    assert failure.value.code == "wrong_key" and failure.value.key_id == "k1"


def test_a_key_id_that_is_not_configured_is_named():
    with pytest.raises(sealed.UnknownKey) as failure:
        unseal(seal(), keys={"k2": KEY})
    assert failure.value.key_id == "k1"


@pytest.mark.parametrize("where", [0.3, 0.6, 0.999])
def test_a_changed_byte_anywhere_in_the_payload_is_corruption(where):
    data = bytearray(seal())
    position = int(len(data) * where)
    data[position] ^= 0x01
    with pytest.raises((sealed.Corrupted, sealed.Truncated)):
        unseal(bytes(data))


def test_a_changed_manifest_fails_although_it_is_plaintext():
    data = seal()
    changed = data.replace(b'"database": "sqlite"', b'"database": "sqlitf"', 1)
    assert changed != data
    with pytest.raises(sealed.Corrupted):
        unseal(changed)


def test_a_file_cut_anywhere_is_truncated_not_corrupted():
    data = seal()
    for length in (5, 20, 200, len(data) // 2, len(data) - 17, len(data) - 1):
        with pytest.raises(sealed.Truncated):
            unseal(data[:length])


def test_a_file_cut_at_a_chunk_boundary_is_truncated():
    data = seal(chunk=4096)
    # The trailer is the last record: cut it off entirely.
    trailer_at = data.rindex(b"T")
    with pytest.raises(sealed.Truncated):
        unseal(data[:trailer_at])


def test_chunks_cannot_be_dropped_or_reordered():
    data = seal(chunk=4096)
    header_end = len(sealed.MAGIC) + 4 + int.from_bytes(data[len(sealed.MAGIC) : len(sealed.MAGIC) + 4], "big")
    record = 1 + 4 + 4096 + 16
    first, second = data[header_end : header_end + record], data[header_end + record : header_end + 2 * record]
    swapped = data[:header_end] + second + first + data[header_end + 2 * record :]
    with pytest.raises(sealed.Corrupted):
        unseal(swapped)
    dropped = data[:header_end] + data[header_end + record :]
    with pytest.raises(sealed.Corrupted):
        unseal(dropped)


def test_a_file_that_is_not_a_backup_is_said_so():
    with pytest.raises(sealed.NotSealed):
        unseal(b"SQLite format 3\x00" + b"\x00" * 100)
