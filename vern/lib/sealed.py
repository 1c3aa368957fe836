"""Encrypted, authenticated files of any size, written and read in chunks: vern's backup format.

A backup holds every enquiry and rights request in the clear once decrypted, so it is sealed
with AES-256-GCM before it reaches the disk, in chunks of 1 MiB so that a database of any size
never has to fit in memory. The layout (all lengths big-endian)::

    b"VERNBAK\\x00" 0x01                        magic and format version
    u32 length, header (JSON, UTF-8)            the manifest, readable without the key
    repeated: b"D", u32 length, ciphertext      the payload, chunk by chunk (each with its tag)
    b"T", u32 length, trailer (JSON), tag(16)   checksum and size of the payload, authenticated

- The file key is HKDF-SHA256 of a root key (``key_id`` names it) with a random salt kept in
  the header, so no two files share a key and a plain counter serves as nonce.
- Every chunk's associated data is the SHA-256 of the magic and the header: a manifest that was
  edited (another schema, another key id) fails at the first chunk.
- A chunk's nonce is its number, and the trailer's nonce carries a last-record flag: chunks
  cannot be reordered, dropped or repeated, and a file cut short has no valid trailer. A file
  cut anywhere is told apart from one that was changed (``Truncated`` against ``Corrupted``).
- The header carries a short key check (an HMAC of the file key), so a wrong key is named as
  such instead of as a damaged file.

Nothing here knows Django: ``vern.backups`` chooses the keys and the files.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"VERNBAK\x00\x01"
CHUNK = 1024 * 1024
_TAG = 16
_MAX_HEADER = 64 * 1024
_INFO = b"vern backup v1"
_KEY_CHECK = b"vern backup key check"
_DATA, _TRAILER = b"D", b"T"
_LENGTH = struct.Struct(">I")


class SealedError(Exception):
    """The file cannot be opened; ``code`` says why in a word the caller can translate."""

    code = "corrupted"


class NotSealed(SealedError):
    code = "not_a_backup"


class UnknownKey(SealedError):
    code = "unknown_key"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"written with the key {key_id!r}, which is not configured")
        self.key_id = key_id


class WrongKey(SealedError):
    code = "wrong_key"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"the configured key {key_id!r} is not the key this file was written with")
        self.key_id = key_id


class Corrupted(SealedError):
    code = "corrupted"


class Truncated(SealedError):
    code = "truncated"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _file_key(root: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(root)


def _key_check(file_key: bytes) -> str:
    return hmac.new(file_key, _KEY_CHECK, hashlib.sha256).hexdigest()[:32]


def _nonce(number: int, *, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class Trailer:
    sha256: str
    size: int


def seal(
    source: IO[bytes],
    target: IO[bytes],
    *,
    manifest: dict[str, Any],
    key_id: str,
    root_key: bytes,
    chunk: int = CHUNK,
) -> Trailer:
    """Read ``source`` to its end and write it sealed to ``target``, with ``manifest`` in the header.

    Returns the SHA-256 and size of what was read (also written, authenticated, in the trailer).
    """
    salt = os.urandom(16)
    file_key = _file_key(root_key, salt)
    header = {
        **manifest,
        "format": 1,
        "key_id": key_id,
        "salt": _b64(salt),
        "key_check": _key_check(file_key),
        "cipher": "AES-256-GCM",
        "chunk": chunk,
    }
    header_bytes = json.dumps(header, sort_keys=True, ensure_ascii=True).encode("ascii")
    bound = hashlib.sha256(MAGIC + header_bytes).digest()
    aead = AESGCM(file_key)
    target.write(MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes)
    digest = hashlib.sha256()
    size = 0
    number = 0
    while True:
        block = source.read(chunk)
        if not block:
            break
        digest.update(block)
        size += len(block)
        sealed = aead.encrypt(_nonce(number, last=False), block, bound)
        target.write(_DATA + _LENGTH.pack(len(sealed)) + sealed)
        number += 1
    trailer = Trailer(sha256=digest.hexdigest(), size=size)
    trailer_bytes = json.dumps({"sha256": trailer.sha256, "size": size, "chunks": number}).encode("ascii")
    tag = aead.encrypt(_nonce(number, last=True), b"", bound + trailer_bytes)
    target.write(_TRAILER + _LENGTH.pack(len(trailer_bytes)) + trailer_bytes + tag)
    return trailer


def _read_exact(source: IO[bytes], n: int, what: str) -> bytes:
    data = source.read(n)
    if len(data) != n:
        raise Truncated(f"the file ends inside {what}")
    return data


def read_header(source: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    """The header (manifest) and its raw bytes; the stream is left at the first record."""
    magic = source.read(len(MAGIC))
    if magic != MAGIC:
        if len(magic) < len(MAGIC) and MAGIC.startswith(magic) and magic:
            raise Truncated("the file ends inside its first bytes")
        raise NotSealed("the file does not start like a vern backup")
    (length,) = _LENGTH.unpack(_read_exact(source, _LENGTH.size, "the header"))
    if length > _MAX_HEADER:
        raise Corrupted("the header length is impossible")
    raw = _read_exact(source, length, "the header")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Corrupted("the header is not readable") from None
    if not isinstance(header, dict) or header.get("format") != 1:
        raise Corrupted("the header is not a vern backup header")
    return header, raw


def _records(source: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(kind, body) of each record up to and including the trailer; the trailer's body holds its tag."""
    while True:
        kind = source.read(1)
        if not kind:
            raise Truncated("the file ends before its trailer")
        if kind not in (_DATA, _TRAILER):
            raise Corrupted("a record of an unknown kind")
        (length,) = _LENGTH.unpack(_read_exact(source, _LENGTH.size, "a record"))
        if length > CHUNK * 64 + _TAG:
            raise Corrupted("a record length is impossible")
        body = _read_exact(source, length + (_TAG if kind == _TRAILER else 0), "a record")
        yield kind, body
        if kind == _TRAILER:
            if source.read(1):
                raise Corrupted("there are bytes after the trailer")
            return


def inspect(source: IO[bytes]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the trailer as written, without the key and without checking them."""
    header, _raw = read_header(source)
    for kind, body in _records(source):
        if kind == _TRAILER:
            try:
                return header, dict(json.loads(body[:-_TAG]))
            except (UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError):
                raise Corrupted("the trailer is not readable") from None
    raise Truncated("the file ends before its trailer")  # pragma: no cover (_records raises first)


def unseal(
    source: IO[bytes],
    sink: Callable[[bytes], object],
    *,
    key_for: Callable[[str], bytes | None],
) -> tuple[dict[str, Any], Trailer]:
    """Decrypt ``source`` chunk by chunk into ``sink``; returns the header and the verified trailer.

    ``key_for(key_id)`` gives the root key of that id, or None. Raises a ``SealedError`` the
    moment something does not verify; what ``sink`` received until then must be thrown away.
    """
    header, raw = read_header(source)
    key_id = str(header.get("key_id", ""))
    root = key_for(key_id)
    if root is None:
        raise UnknownKey(key_id)
    try:
        file_key = _file_key(root, _unb64(str(header["salt"])))
    except (KeyError, ValueError):
        raise Corrupted("the header has no valid salt") from None
    if not hmac.compare_digest(_key_check(file_key), str(header.get("key_check", ""))):
        raise WrongKey(key_id)
    bound = hashlib.sha256(MAGIC + raw).digest()
    aead = AESGCM(file_key)
    digest = hashlib.sha256()
    size = 0
    number = 0
    for kind, body in _records(source):
        if kind == _DATA:
            try:
                block = aead.decrypt(_nonce(number, last=False), body, bound)
            except InvalidTag:
                raise Corrupted(f"chunk {number + 1} does not verify: the file was changed") from None
            digest.update(block)
            size += len(block)
            sink(block)
            number += 1
            continue
        trailer_bytes, tag = body[:-_TAG], body[-_TAG:]
        try:
            aead.decrypt(_nonce(number, last=True), tag, bound + trailer_bytes)
            trailer = json.loads(trailer_bytes)
        except (InvalidTag, UnicodeDecodeError, json.JSONDecodeError):
            raise Corrupted("the trailer does not verify: the file was changed") from None
        if trailer.get("sha256") != digest.hexdigest() or trailer.get("size") != size:
            raise Corrupted("the checksum of the decrypted payload does not match the manifest")
        return header, Trailer(sha256=digest.hexdigest(), size=size)
    raise Truncated("the file ends before its trailer")  # pragma: no cover (_records raises first)
