"""Encryption at rest: AES-256-GCM, one random data key per blob, the content
in fixed-size chunks so a file streams in and out (and a range decrypts only
the chunks it touches).

A blob is two objects in the store:
- `<blob>.key`, the small header: magic, format version, master key id, the
  data key wrapped (AES-GCM) under that master key, the nonce prefix, the chunk
  size and the plaintext size. Key rotation rewrites only this object.
- `<blob>.bin`, the chunks: chunk i is AES-GCM(data key, nonce = 8-byte random
  prefix || i as 4 bytes, plaintext, AAD = tenant, blob id, i, final flag) with
  its 16-byte tag. The index and the final flag in the AAD make reordered,
  dropped or truncated chunks fail to decrypt.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# The key ring (and the error for unreadable bytes) are the chassis's, shared with
# identity's sealed brand images.
from services.chassis.sealing import MasterKeys
from services.chassis.sealing import Unreadable as BlobCorrupt

MAGIC = b"PDK\x01"
FORMAT_VERSION = 1
CHUNK_SIZE = 64 * 1024
TAG = 16
MAX_CHUNKS = 2**32


@dataclass(frozen=True)
class Header:
    key_id: str
    wrap_nonce: bytes
    wrapped_key: bytes
    nonce_prefix: bytes
    chunk_size: int
    plaintext_size: int

    def encode(self) -> bytes:
        kid = self.key_id.encode()
        return b"".join(
            [
                MAGIC,
                struct.pack(">BB", FORMAT_VERSION, len(kid)),
                kid,
                self.wrap_nonce,
                struct.pack(">H", len(self.wrapped_key)),
                self.wrapped_key,
                self.nonce_prefix,
                struct.pack(">IQ", self.chunk_size, self.plaintext_size),
            ]
        )

    @classmethod
    def decode(cls, raw: bytes) -> Header:
        try:
            if raw[:4] != MAGIC or raw[4] != FORMAT_VERSION:
                raise BlobCorrupt("not a documents blob header (or an unknown version)")
            klen = raw[5]
            pos = 6
            key_id = raw[pos : pos + klen].decode()
            pos += klen
            wrap_nonce = raw[pos : pos + 12]
            pos += 12
            (wlen,) = struct.unpack(">H", raw[pos : pos + 2])
            pos += 2
            wrapped = raw[pos : pos + wlen]
            pos += wlen
            prefix = raw[pos : pos + 8]
            pos += 8
            chunk_size, size = struct.unpack(">IQ", raw[pos : pos + 12])
            if pos + 12 != len(raw):
                raise BlobCorrupt("blob header has trailing bytes")
        except (IndexError, struct.error, UnicodeDecodeError) as exc:
            raise BlobCorrupt("blob header is malformed") from exc
        return cls(key_id, wrap_nonce, wrapped, prefix, chunk_size, size)


def _wrap_aad(tenant_id: str, blob_id: str, key_id: str) -> bytes:
    return f"portal-doc-key|v1|{tenant_id}|{blob_id}|{key_id}".encode()


def _chunk_aad(tenant_id: str, blob_id: str, index: int, final: bool) -> bytes:
    return f"portal-doc-chunk|v1|{tenant_id}|{blob_id}|".encode() + struct.pack(">I?", index, final)


def _wrap(keys: MasterKeys, key_id: str, data_key: bytes, tenant_id: str, blob_id: str):
    nonce = os.urandom(12)
    wrapped = AESGCM(keys.get(key_id)).encrypt(
        nonce, data_key, _wrap_aad(tenant_id, blob_id, key_id)
    )
    return nonce, wrapped


def unwrap(keys: MasterKeys, header: Header, tenant_id: str, blob_id: str) -> bytes:
    try:
        return AESGCM(keys.get(header.key_id)).decrypt(
            header.wrap_nonce, header.wrapped_key, _wrap_aad(tenant_id, blob_id, header.key_id)
        )
    except InvalidTag:
        raise BlobCorrupt("the data key does not unwrap for this blob") from None


def rewrap(keys: MasterKeys, raw_header: bytes, tenant_id: str, blob_id: str) -> bytes | None:
    """The header re-wrapped under the active master key; None if it already is."""
    header = Header.decode(raw_header)
    if header.key_id == keys.active_id:
        return None
    data_key = unwrap(keys, header, tenant_id, blob_id)
    nonce, wrapped = _wrap(keys, keys.active_id, data_key, tenant_id, blob_id)
    return Header(
        keys.active_id,
        nonce,
        wrapped,
        header.nonce_prefix,
        header.chunk_size,
        header.plaintext_size,
    ).encode()


class ChunkEncryptor:
    """Feed plaintext pieces of any size; get ciphertext chunks back. A chunk
    is held back until the next byte arrives, so the last one is marked final."""

    def __init__(
        self, keys: MasterKeys, tenant_id: str, blob_id: str, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self._tenant, self._blob = tenant_id, blob_id
        self._keys = keys
        self._data_key = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(self._data_key)
        self._prefix = os.urandom(8)
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self.size = 0

    def _seal(self, plain: bytes, final: bool) -> bytes:
        if self._index >= MAX_CHUNKS:
            raise ValueError("blob too large for one data key")
        nonce = self._prefix + struct.pack(">I", self._index)
        out = self._aead.encrypt(
            nonce, plain, _chunk_aad(self._tenant, self._blob, self._index, final)
        )
        self._index += 1
        return out

    def update(self, data: bytes) -> list[bytes]:
        self._buffer += data
        self.size += len(data)
        out = []
        # Keep at least one byte back: only finish() knows which chunk is last.
        while len(self._buffer) > self._chunk_size:
            piece = bytes(self._buffer[: self._chunk_size])
            del self._buffer[: self._chunk_size]
            out.append(self._seal(piece, final=False))
        return out

    def finish(self) -> tuple[bytes, bytes]:
        """(last ciphertext chunk, encoded header)."""
        last = self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        nonce, wrapped = _wrap(
            self._keys, self._keys.active_id, self._data_key, self._tenant, self._blob
        )
        header = Header(
            self._keys.active_id, nonce, wrapped, self._prefix, self._chunk_size, self.size
        )
        return last, header.encode()


RangeReader = Callable[[int, int], AsyncIterator[bytes]]


async def decrypt_range(
    keys: MasterKeys,
    raw_header: bytes,
    tenant_id: str,
    blob_id: str,
    read: RangeReader,
    start: int,
    stop: int,
) -> AsyncIterator[bytes]:
    """Plaintext bytes [start, stop), reading and decrypting only the chunks
    that hold them. `read(offset, end)` streams ciphertext bytes [offset, end)."""
    header = Header.decode(raw_header)
    size, cs = header.plaintext_size, header.chunk_size
    if not 0 <= start <= stop <= size:
        raise ValueError("range outside the blob")
    if start == stop:
        return
    aead = AESGCM(unwrap(keys, header, tenant_id, blob_id))
    last_index = max(size - 1, 0) // cs
    first, last = start // cs, (stop - 1) // cs
    sealed = cs + TAG
    buffer = bytearray()
    index = first

    def open_chunk(i: int, data: bytes) -> bytes:
        nonce = header.nonce_prefix + struct.pack(">I", i)
        try:
            plain = aead.decrypt(nonce, data, _chunk_aad(tenant_id, blob_id, i, i == last_index))
        except InvalidTag:
            raise BlobCorrupt(f"chunk {i} fails authentication") from None
        lo = start - i * cs if i == first else 0
        hi = stop - i * cs if i == last else len(plain)
        return plain[lo:hi]

    end_offset = min((last + 1) * sealed, size + (last_index + 1) * TAG)
    async for piece in read(first * sealed, end_offset):
        buffer += piece
        while len(buffer) >= sealed and index < last:
            yield open_chunk(index, bytes(buffer[:sealed]))
            del buffer[:sealed]
            index += 1
    expected = (size - last * cs + TAG) if last == last_index else sealed
    if index != last or len(buffer) != expected:
        raise BlobCorrupt("the blob is truncated")
    yield open_chunk(index, bytes(buffer))
