"""Master-key rotation: re-wrap every blob's data key under the active master
key. Only the small `.key` header object is read and rewritten; the content is
never touched. Idempotent: blobs already under the active key are skipped, and
a run interrupted between rewriting a header and recording it is finished by
the next run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.chassis.db import UnitOfWork
from services.documents.blobcrypt import Header, rewrap
from services.documents.blobstore import get_bytes, put_bytes
from services.documents.models import Blob
from services.documents.service.common import Sessions, Vault

BATCH = 100


@dataclass
class RotationReport:
    rewrapped: int = 0
    already_current: int = 0


async def rotate_keys(*, sessions: Sessions, vault: Vault) -> RotationReport:
    report = RotationReport()
    active = vault.keys.active_id
    after = ""
    while True:
        # `blob` has no row-level security: rotation is the one cross-tenant reader.
        async with UnitOfWork(sessions, None) as uow:
            batch = list(
                await uow.session.scalars(
                    select(Blob)
                    .where(Blob.key_id != active, Blob.id > after)
                    .order_by(Blob.id)
                    .limit(BATCH)
                )
            )
        if not batch:
            return report
        for blob in batch:
            after = blob.id
            raw = await get_bytes(vault.store, f"{blob.id}.key")
            new = rewrap(vault.keys, raw, str(blob.tenant_id), blob.id)
            if new is None:
                report.already_current += 1
            else:
                Header.decode(new)
                await put_bytes(vault.store, f"{blob.id}.key", new)
                report.rewrapped += 1
            async with UnitOfWork(sessions, None) as uow:
                row = await uow.session.get(Blob, blob.id, with_for_update=True)
                if row is not None:
                    row.key_id = active
                await uow.commit()
