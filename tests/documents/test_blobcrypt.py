"""The chunked AES-GCM format, on a real local blob directory: ciphertext on
disk, round trips, ranges, tampering, reordering, truncation, key rotation."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.documents.blobcrypt import (
    CHUNK_SIZE,
    TAG,
    BlobCorrupt,
    ChunkEncryptor,
    Header,
    MasterKeys,
    decrypt_range,
    rewrap,
)
from services.documents.blobstore import LocalBlobStore, get_bytes, new_blob_id, put_bytes

K1 = MasterKeys({"k1": b"\x01" * 32}, "k1")
TENANT = "7d6c3c1e-0000-4000-8000-000000000001"


async def seal(
    store: LocalBlobStore,
    data: bytes,
    keys: MasterKeys = K1,
    piece: int = 10_000,
    chunk_size: int = CHUNK_SIZE,
) -> str:
    blob_id = new_blob_id()
    enc = ChunkEncryptor(keys, TENANT, blob_id, chunk_size)
    header: list[bytes] = []

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(data), piece):
            for sealed in enc.update(data[i : i + piece]):
                yield sealed
        last, raw = enc.finish()
        header.append(raw)
        yield last

    await store.put(f"{blob_id}.bin", pieces())
    await put_bytes(store, f"{blob_id}.key", header[0])
    return blob_id


async def open_range(
    store: LocalBlobStore,
    blob_id: str,
    start: int,
    stop: int,
    keys: MasterKeys = K1,
    tenant: str = TENANT,
) -> bytes:
    header = await get_bytes(store, f"{blob_id}.key")
    out = bytearray()
    async for piece in decrypt_range(
        keys,
        header,
        tenant,
        blob_id,
        lambda lo, hi: store.get(f"{blob_id}.bin", lo, hi),
        start,
        stop,
    ):
        out += piece
    return bytes(out)


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path)


@pytest.mark.parametrize(
    "size", [1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 77]
)
async def test_round_trip_and_the_disk_holds_only_ciphertext(
    store: LocalBlobStore, size: int
) -> None:
    data = os.urandom(size)
    blob_id = await seal(store, data)
    on_disk = store.path(f"{blob_id}.bin").read_bytes()
    assert size < 16 or data[:16] not in on_disk
    chunks = -(-size // CHUNK_SIZE)
    assert len(on_disk) == size + chunks * TAG
    assert await open_range(store, blob_id, 0, size) == data


async def test_plain_text_never_appears_on_disk(store: LocalBlobStore) -> None:
    data = b"The alarm code is 4711. " * 10_000
    blob_id = await seal(store, data)
    for suffix in ("bin", "key"):
        assert b"alarm code" not in store.path(f"{blob_id}.{suffix}").read_bytes()


@pytest.mark.parametrize(
    ("start", "stop"),
    [
        (0, 1),
        (5, 10),
        (CHUNK_SIZE - 3, CHUNK_SIZE + 3),
        (CHUNK_SIZE, 2 * CHUNK_SIZE),
        (196_000, 197_842),
    ],
)
async def test_ranges_decrypt_exactly_the_bytes_asked_for(
    store: LocalBlobStore, start: int, stop: int
) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 1234)
    blob_id = await seal(store, data)
    assert await open_range(store, blob_id, start, stop) == data[start:stop]


@settings(max_examples=80, deadline=None)
@given(data=st.binary(min_size=1, max_size=600), window=st.data(), chunk=st.integers(1, 97))
def test_any_window_of_any_blob_decrypts_to_exactly_that_slice(
    data: bytes, window: st.DataObject, chunk: int
) -> None:
    """Small chunks, so a few hundred bytes cross many chunk boundaries: every
    [start, stop) the gateway may ask for (one byte, the last byte, all of it)."""
    start = window.draw(st.integers(0, len(data) - 1))
    stop = window.draw(st.integers(start + 1, len(data)))

    async def roundtrip() -> bytes:
        with tempfile.TemporaryDirectory() as root:
            store = LocalBlobStore(Path(root))
            blob_id = await seal(store, data, piece=37, chunk_size=chunk)
            return await open_range(store, blob_id, start, stop)

    assert asyncio.run(roundtrip()) == data[start:stop]


async def test_a_flipped_bit_is_detected(store: LocalBlobStore) -> None:
    data = os.urandom(2 * CHUNK_SIZE)
    blob_id = await seal(store, data)
    path = store.path(f"{blob_id}.bin")
    raw = bytearray(path.read_bytes())
    raw[CHUNK_SIZE + 100] ^= 1
    path.write_bytes(bytes(raw))
    assert await open_range(store, blob_id, 0, 10) == data[:10]  # chunk 0 is intact
    with pytest.raises(BlobCorrupt):
        await open_range(store, blob_id, 0, len(data))


async def test_reordered_chunks_are_detected(store: LocalBlobStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    blob_id = await seal(store, data)
    path = store.path(f"{blob_id}.bin")
    raw = path.read_bytes()
    sealed = CHUNK_SIZE + TAG
    c0, c1, c2 = raw[:sealed], raw[sealed : 2 * sealed], raw[2 * sealed :]
    path.write_bytes(c1 + c0 + c2)
    with pytest.raises(BlobCorrupt):
        await open_range(store, blob_id, 0, len(data))


async def test_truncation_at_a_chunk_boundary_is_detected(store: LocalBlobStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    blob_id = await seal(store, data)
    path = store.path(f"{blob_id}.bin")
    path.write_bytes(path.read_bytes()[: 2 * (CHUNK_SIZE + TAG)])
    with pytest.raises(BlobCorrupt):
        await open_range(store, blob_id, 0, len(data))


async def test_a_blob_cannot_be_opened_as_another_tenants(store: LocalBlobStore) -> None:
    blob_id = await seal(store, b"%PDF-1.4 secret")
    with pytest.raises(BlobCorrupt):
        await open_range(store, blob_id, 0, 5, tenant="7d6c3c1e-0000-4000-8000-000000000002")


async def test_swapping_two_blobs_contents_is_detected(store: LocalBlobStore) -> None:
    a = await seal(store, os.urandom(1000))
    b = await seal(store, os.urandom(1000))
    store.path(f"{a}.bin").write_bytes(store.path(f"{b}.bin").read_bytes())
    with pytest.raises(BlobCorrupt):
        await open_range(store, a, 0, 1000)


async def test_rotation_rewrites_only_the_header_and_keeps_the_file_readable(
    store: LocalBlobStore,
) -> None:
    data = os.urandom(CHUNK_SIZE + 10)
    blob_id = await seal(store, data)
    content_before = store.path(f"{blob_id}.bin").read_bytes()
    both = MasterKeys({"k1": b"\x01" * 32, "k2": b"\x02" * 32}, "k2")
    new = rewrap(both, await get_bytes(store, f"{blob_id}.key"), TENANT, blob_id)
    assert new is not None and Header.decode(new).key_id == "k2"
    await put_bytes(store, f"{blob_id}.key", new)
    assert rewrap(both, new, TENANT, blob_id) is None  # idempotent
    assert store.path(f"{blob_id}.bin").read_bytes() == content_before
    only_k2 = MasterKeys({"k2": b"\x02" * 32}, "k2")
    assert await open_range(store, blob_id, 0, len(data), keys=only_k2) == data
    with pytest.raises(BlobCorrupt):
        await open_range(store, blob_id, 0, 1, keys=K1)
