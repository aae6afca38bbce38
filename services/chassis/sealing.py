"""Encryption at rest that more than one service needs: the master key ring
read from settings, and sealing a small object whole (AES-256-GCM).

The key ring is the suite's one shape for master keys: `{key_id: base64 of 32
bytes}` as JSON plus the active key's id. Documents wraps the data key of
every blob under it (its chunked blob format stays in
`services/documents/blobcrypt.py`); identity seals uploaded brand images with
`seal` below.

A sealed object is one byte string, with envelope encryption like documents'
blobs: a fresh random data key per object encrypts the content, and the data
key is wrapped under the active master key, whose id is written beside it so
an older key still opens what it sealed. Both encryptions carry the caller's
associated data (`aad`: who the object belongs to and what it is), so a
sealed object copied into another row, tenant or kind fails to open.

    magic "PSL\\x01" | len(key id) | key id | wrap nonce (12) | wrapped key (48)
    | content nonce (12) | content ciphertext with its 16-byte tag
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_MAGIC = b"PSL\x01"
NONCE = 12
WRAPPED_KEY = 32 + 16  # a 256-bit data key and its tag


class Unreadable(Exception):
    """The stored bytes fail authentication or name a key that is not configured."""


@dataclass(frozen=True)
class MasterKeys:
    keys: dict[str, bytes]
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ValueError(f"the active master key {self.active_id!r} is not configured")
        for key_id, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"master key {key_id!r} must be 32 bytes")
            if not key_id or len(key_id.encode()) > 64:
                raise ValueError("master key ids are 1-64 bytes")

    def get(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise Unreadable(f"master key {key_id!r} is not configured") from None

    @classmethod
    def parse(cls, master_keys_json: str, active_id: str) -> MasterKeys:
        """The ring as settings hold it; ValueError (naming no secret) if malformed."""
        try:
            raw = json.loads(master_keys_json)
            if not isinstance(raw, dict):
                raise ValueError("master keys must be a JSON object {key_id: base64}")
            keys = {str(kid): base64.b64decode(value) for kid, value in raw.items()}
        except (json.JSONDecodeError, binascii.Error, TypeError) as exc:
            raise ValueError("master keys must be JSON {key_id: base64 of 32 bytes}") from exc
        return cls(keys, active_id)


def seal(keys: MasterKeys, plaintext: bytes, *, aad: bytes) -> bytes:
    """`plaintext` encrypted under a new data key wrapped by the active master key."""
    data_key = AESGCM.generate_key(bit_length=256)
    kid = keys.active_id.encode()
    wrap_nonce, content_nonce = os.urandom(NONCE), os.urandom(NONCE)
    wrapped = AESGCM(keys.get(keys.active_id)).encrypt(wrap_nonce, data_key, _wrap_aad(kid, aad))
    content = AESGCM(data_key).encrypt(content_nonce, plaintext, aad)
    return b"".join(
        [
            SEALED_MAGIC,
            struct.pack(">B", len(kid)),
            kid,
            wrap_nonce,
            wrapped,
            content_nonce,
            content,
        ]
    )


def open_sealed(keys: MasterKeys, sealed: bytes, *, aad: bytes) -> bytes:
    """The plaintext `seal` was given with the same `aad`; Unreadable otherwise."""
    if sealed[:4] != SEALED_MAGIC or len(sealed) < 5:
        raise Unreadable("not a sealed object (or an unknown version)")
    klen = sealed[4]
    pos = 5 + klen
    kid = sealed[5:pos]
    wrap_nonce = sealed[pos : pos + NONCE]
    wrapped = sealed[pos + NONCE : pos + NONCE + WRAPPED_KEY]
    rest = pos + NONCE + WRAPPED_KEY
    content_nonce, content = sealed[rest : rest + NONCE], sealed[rest + NONCE :]
    if len(content_nonce) != NONCE or len(wrapped) != WRAPPED_KEY:
        raise Unreadable("the sealed object is truncated")
    try:
        key_id = kid.decode()
        data_key = AESGCM(keys.get(key_id)).decrypt(wrap_nonce, wrapped, _wrap_aad(kid, aad))
        return AESGCM(data_key).decrypt(content_nonce, content, aad)
    except (InvalidTag, UnicodeDecodeError, ValueError):
        raise Unreadable("the sealed object fails authentication") from None


def _wrap_aad(kid: bytes, aad: bytes) -> bytes:
    return b"portal-sealed-key|v1|" + kid + b"|" + aad
