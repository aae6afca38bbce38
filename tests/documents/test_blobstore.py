"""The blob stores themselves: S3 against moto's real HTTP server (multipart
for large objects, ranges, delete), and the local directory's name rules."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.documents.blobstore import (
    S3_PART,
    LocalBlobStore,
    S3BlobStore,
    get_bytes,
    new_blob_id,
)


async def _pieces(data: bytes, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_s3_stores_large_objects_in_parts_and_reads_ranges(moto_s3: Any) -> None:
    store = S3BlobStore(moto_s3, "portal-documents", prefix="t/")
    name = f"{new_blob_id()}.bin"
    data = os.urandom(2 * S3_PART + 12345)  # three parts
    assert await store.put(name, _pieces(data)) == len(data)
    head = moto_s3.head_object(Bucket="portal-documents", Key=f"t/{name}")
    assert head["ContentLength"] == len(data)
    assert "-3" in head["ETag"]  # a multipart upload of three parts
    assert await get_bytes(store, name) == data
    got = b"".join([p async for p in store.get(name, S3_PART - 5, S3_PART + 5)])
    assert got == data[S3_PART - 5 : S3_PART + 5]
    await store.delete(name)
    assert "Contents" not in moto_s3.list_objects_v2(Bucket="portal-documents", Prefix=f"t/{name}")


async def test_s3_aborts_a_failed_upload(moto_s3: Any) -> None:
    store = S3BlobStore(moto_s3, "portal-documents")
    name = f"{new_blob_id()}.bin"

    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(S3_PART)
        raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        await store.put(name, failing())
    uploads = moto_s3.list_multipart_uploads(Bucket="portal-documents").get("Uploads", [])
    assert all(u["Key"] != name for u in uploads)
    assert "Contents" not in moto_s3.list_objects_v2(Bucket="portal-documents", Prefix=name)


async def test_local_store_refuses_names_it_did_not_generate(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    for name in ("../x.bin", "a.bin", f"{new_blob_id()}.exe", "/etc/passwd"):
        with pytest.raises(ValueError):
            store.path(name)


async def test_local_store_leaves_nothing_behind_when_a_write_fails(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")

    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("the client went away")

    with pytest.raises(RuntimeError):
        await store.put(f"{new_blob_id()}.bin", failing())
    assert list((tmp_path / "blobs").iterdir()) == []
