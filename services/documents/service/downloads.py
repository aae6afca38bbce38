"""Download links and reading blobs: a short-lived HMAC-signed token names one
version for one caller; reading re-checks what the token's holder may see and
decrypts only the chunks the range needs."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.validation import parse_uuid
from services.documents import domain
from services.documents.blobcrypt import decrypt_range
from services.documents.blobstore import get_bytes
from services.documents.models import Document, DocumentVersion
from services.documents.service.common import (
    Sessions,
    Vault,
    client_may_see_document,
    load_document,
)


@dataclass(frozen=True)
class DownloadLink:
    token: str
    expires_at: datetime
    filename: str
    content_type: str
    size_bytes: int


async def create_download_link(
    *,
    sessions: Sessions,
    vault: Vault,
    principal: Principal,
    document_id: str,
    version_id: str,
    now: float | None = None,
) -> DownloadLink:
    tenant_id = principal.require_reader()
    async with UnitOfWork(sessions, tenant_id) as uow:
        doc, _ = await load_document(uow, principal, document_id)
        query = select(DocumentVersion).where(DocumentVersion.document_id == doc.id)
        if version_id:
            query = query.where(DocumentVersion.id == parse_uuid(version_id, field="version_id"))
        else:
            query = query.where(DocumentVersion.number == doc.current_version)
        version = await uow.session.scalar(query)
    # Old versions are for staff only.
    if version is None or (principal.is_client and version.number != doc.current_version):
        raise domain.not_found("version")
    expires = int(now if now is not None else time.time()) + vault.link_ttl_seconds
    token = domain.sign_link(
        domain.LinkClaims(
            document_id=str(doc.id),
            version_id=str(version.id),
            tenant_id=tenant_id,
            subject=principal.subject,
            kind=principal.kind,
            customer_id=principal.customer_id or "",
            expires_at=expires,
            viewing_as=principal.viewing_as,
        ),
        vault.link_secret,
    )
    return DownloadLink(
        token,
        datetime.fromtimestamp(expires, UTC),
        version.filename,
        version.content_type,
        version.size_bytes,
    )


@dataclass(frozen=True)
class OpenBlob:
    version: DocumentVersion
    start: int
    stop: int
    chunks: AsyncIterator[bytes]


async def read_blob(
    *,
    sessions: Sessions,
    vault: Vault,
    principal: Principal,
    token: str,
    offset: int,
    length: int,
    has_range: bool,
    now: float | None = None,
) -> OpenBlob:
    """Checks the token and access now (a link outlives nothing it names: not
    the document's visibility, not the customer's portal), then returns the
    decrypted bytes of the window as a stream: the whole file, or exactly
    `length` bytes from `offset`. The caller is usually the gateway serving
    whoever holds the link; a signed-in client must have an open portal too."""
    claims = domain.verify_link(
        token, vault.link_secret, now=int(now if now is not None else time.time())
    )
    async with UnitOfWork(sessions, claims.tenant_id) as uow:
        version = await uow.session.get(DocumentVersion, uuid.UUID(claims.version_id))
        doc = await uow.session.get(Document, uuid.UUID(claims.document_id))
        if version is None or doc is None or version.document_id != doc.id:
            raise domain.not_found()
        await require_open_portal(uow, principal)
        if claims.kind == "client":
            await _check_client_holder(uow, claims, doc, version)
    start, stop = domain.byte_window(offset, length, has_range, version.size_bytes)
    raw_header = await get_bytes(vault.store, f"{version.blob_id}.key")
    chunks = decrypt_range(
        vault.keys,
        raw_header,
        claims.tenant_id,
        version.blob_id,
        lambda lo, hi: vault.store.get(f"{version.blob_id}.bin", lo, hi),
        start,
        stop,
    )
    return OpenBlob(version, start, stop, chunks)


async def _check_client_holder(
    uow: UnitOfWork, claims: domain.LinkClaims, doc: Document, version: DocumentVersion
) -> None:
    """A client's link is good while that client could still make it: their
    customer's portal open (the link is a bearer token, and deleting the
    customer ends the session but not the token) and the version still theirs
    to see."""
    holder = Principal(
        kind="client",
        subject=claims.subject,
        tenant_id=claims.tenant_id,
        customer_id=claims.customer_id,
        # Staff viewing as the client: what the customer's contacts together see.
        read_only=claims.viewing_as,
        viewing_as=claims.viewing_as,
    )
    await require_open_portal(uow, holder)
    if not await client_may_see_document(uow, holder, doc) or version.number != doc.current_version:
        raise domain.not_found()
