"""Encryption at rest and keyed lookups for personal data.

* **Encryption**: AES-256-GCM (authenticated). A ciphertext is stored as
  ``v1.<key id>.<base64url(nonce | ciphertext+tag)>``, so the key that wrote it
  is known and keys can rotate: the first key of ``VERN_ENCRYPTION_KEYS``
  encrypts, every listed key decrypts. The associated data binds a ciphertext to
  its column (``"enquiries.Enquiry.email"``), so a value copied into another
  column does not decrypt.
* **Blind index**: HMAC-SHA256 of a normalised identifier under a key that is
  not in the database, with a domain label so that the same string as an email
  and as a phone number gives two unrelated indexes. It answers "which rows hold
  this email?" with an indexed equality lookup, without storing the email in
  clear and without a hash that can be reversed by trying every address.
* **Audit MAC key**: the audit log's hash chain is keyed too, so a person with
  write access to the database alone cannot rebuild a chain after editing it.

The index keys (``VERN_INDEX_KEYS``, or the single ``VERN_INDEX_KEY``) are the
root of the blind-index, digest and audit keys. They rotate on their own: the
first key writes, every listed key is used to look up, and ``vern keys rotate``
recomputes the stored indexes under the first (docs/adr/0003-keys.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vern.lib.logs import find_identifiers

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_VERSION = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored ciphertext cannot be opened: wrong key, unknown key id, or tampered data."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = _b64decode(text.strip())
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(f"{what} is not base64url") from None
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes (43 base64url characters), not {len(raw)} bytes")
    return raw


def generate_key() -> str:
    """A new random 256-bit key, base64url without padding."""
    return _b64encode(secrets.token_bytes(32))


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id; ``current`` encrypts, all of them decrypt."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """Parse ``"id:base64key,older-id:base64key"``; the first entry is the current key."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for number, item in enumerate(value.split(","), start=1):
            key_id, sep, key_text = item.strip().partition(":")
            if not sep:
                raise ValueError(f"entry {number} must look like 'key-id:base64key'")
            if not _KEY_ID.match(key_id):
                raise ValueError(f"entry {number} has a key id that is not 1-32 letters, digits, - or _")
            if find_identifiers(key_id):
                # Key ids go into the audit log (which refuses what looks like personal data) and into
                # log lines (which hide it): one like 20240115 would stop every backup and rotation.
                raise ValueError(
                    f"entry {number} has a key id that reads as a phone number (8 or more digits); "
                    f"put a letter in it, as in 'k{key_id}'"
                )
            if key_id in keys:
                raise ValueError(f"key id {key_id!r} appears twice")
            keys[key_id] = _decode_key(key_text, f"the key of entry {number} ({key_id})")
            order.append(key_id)
        return cls(current=order[0], keys=keys)

    @staticmethod
    def generate_setting(key_id: str = "k1") -> str:
        return f"{key_id}:{generate_key()}"

    def encrypt(self, plaintext: str, *, associated_data: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(
            nonce, plaintext.encode("utf-8"), associated_data.encode("utf-8")
        )
        return f"{_VERSION}.{self.current}.{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, associated_data: str) -> str:
        version, _, rest = token.partition(".")
        key_id, _, body = rest.partition(".")
        if version != _VERSION or not body:
            raise DecryptionError("not a vern ciphertext")
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"no key with id {key_id!r} in VERN_ENCRYPTION_KEYS")
        try:
            raw = _b64decode(body)
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data.encode("utf-8"))
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptionError("ciphertext does not verify under its key") from None
        return plain.decode("utf-8")

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]

    def needs_rotation(self, token: str) -> bool:
        """True when the value was written with a key other than the current one."""
        return self.key_id_of(token) != self.current


def parse_index_key(value: str) -> bytes:
    return _decode_key(value, "the key")


# The id of a key given alone (``VERN_INDEX_KEY=…``), as ``vern keys status`` names it.
SINGLE_INDEX_KEY_ID = "index"


@dataclass(frozen=True)
class IndexKeys:
    """Index keys by id: ``current`` writes every blind index, digest and audit mac; all of them look up.

    Unlike a ciphertext, a blind index does not carry the id of its key (it is compared for
    equality, so it must be exactly the HMAC); a lookup therefore asks for the index under
    every listed key, which is what keeps lookups whole while ``vern keys rotate`` runs.
    """

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, value: str) -> IndexKeys:
        """``"id:base64key,older-id:base64key"`` (the first writes), or one key without an id."""
        if ":" not in value and "," not in value:
            return cls(current=SINGLE_INDEX_KEY_ID, keys={SINGLE_INDEX_KEY_ID: parse_index_key(value)})
        ring = Keyring.parse(value)
        return cls(current=ring.current, keys=ring.keys)

    @property
    def root(self) -> bytes:
        return self.keys[self.current]

    def roots(self) -> list[bytes]:
        """Every key, the current one first."""
        return [self.root, *(key for key_id, key in self.keys.items() if key_id != self.current)]


def _derive(root: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode("ascii")).derive(root)


@cache
def _derived(root: bytes, label: str) -> bytes:
    return _derive(root, label)


def blind_index(value: str, *, kind: str, root_key: bytes) -> str:
    """Keyed HMAC of an already normalised identifier; ``kind`` is e.g. ``"email"`` or ``"phone"``."""
    key = _derived(root_key, "vern blind index v1")
    digest = hmac.new(key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return digest


def chain_mac(payload: bytes, *, root_key: bytes, chain: str) -> str:
    """The keyed hash of one row of a hash chain; each chain has its own key."""
    key = _derived(root_key, f"vern {chain} chain v1")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def keyed_digest(value: str, *, purpose: str, root_key: bytes) -> str:
    """Short keyed digest for cache keys and rate-limit buckets: never the raw value."""
    key = _derived(root_key, f"vern digest {purpose}")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
