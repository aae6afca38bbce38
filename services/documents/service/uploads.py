"""Uploads: a new document, or a new version of one. The bytes stream from the
caller through sniffing, hashing and chunk encryption into the blob store; no
transaction is held open meanwhile, and the whole file is never in memory."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import Conflict, InvalidTransition
from services.documents import domain
from services.documents.blobcrypt import ChunkEncryptor
from services.documents.blobstore import new_blob_id, put_bytes
from services.documents.models import Blob, Document, DocumentVersion, ProjectRef
from services.documents.service.common import (
    EDITOR_ROLE,
    DocumentView,
    Sessions,
    Vault,
    ensure_default_folders,
    load_document,
    load_folder,
    load_project,
    now_utc,
    versions_of,
    view,
)
from services.documents.service.library import share
from services.documents.service.limits import tenant_upload_limit


@dataclass(frozen=True)
class UploadHeader:
    request_id: str
    project_id: str = ""
    folder_id: str = ""
    document_id: str = ""  # new versions only
    title: str = ""
    description: str = ""
    filename: str = ""
    client_visible: bool = False
    declared_size: int = 0


@dataclass
class Stored:
    blob_id: str
    size: int
    sha256: str
    content_type: str


async def _check_target(
    uow: UnitOfWork, principal: Principal, header: UploadHeader, new_version: bool
):
    """The document (new version) or project (new document) the upload goes to."""
    if new_version:
        doc, _ = await load_document(uow, principal, header.document_id, lock=True)
        if doc.deleted_at is not None:
            raise InvalidTransition("the document is deleted; restore it first")
        return doc
    project = await load_project(uow, principal, header.project_id)
    await load_folder(uow, project.id, header.folder_id)
    return project


async def _existing(uow: UnitOfWork, request_id: str) -> DocumentVersion | None:
    return await uow.session.scalar(
        select(DocumentVersion).where(DocumentVersion.request_id == request_id)
    )


async def _store(
    vault: Vault, tenant_id: str, filename: str, chunks: AsyncIterator[bytes], limit: int
) -> Stored:
    blob_id = new_blob_id()
    encryptor = ChunkEncryptor(vault.keys, tenant_id, blob_id)
    digest = hashlib.sha256()
    result = Stored(blob_id, 0, "", "")

    async def sealed() -> AsyncIterator[bytes]:
        head = bytearray()
        sniffed = False
        async for data in chunks:
            result.size += len(data)
            if result.size > limit:
                raise domain.FileTooLarge(domain.size_limit_message(limit), field="data")
            digest.update(data)
            if sniffed:
                for piece in encryptor.update(data):
                    yield piece
                continue
            head += data
            if len(head) >= domain.SNIFF_BYTES:
                result.content_type = domain.check_content(
                    filename, bytes(head[: domain.SNIFF_BYTES])
                )
                sniffed = True
                for piece in encryptor.update(bytes(head)):
                    yield piece
        if not sniffed:
            result.content_type = domain.check_content(filename, bytes(head))
            for piece in encryptor.update(bytes(head)):
                yield piece
        last, header = encryptor.finish()
        result_header.append(header)
        yield last

    result_header: list[bytes] = []
    try:
        await vault.store.put(f"{blob_id}.bin", sealed())
        await put_bytes(vault.store, f"{blob_id}.key", result_header[0])
    except BaseException:
        await discard(vault, blob_id)
        raise
    result.sha256 = digest.hexdigest()
    return result


async def discard(vault: Vault, blob_id: str) -> None:
    for suffix in ("bin", "key"):
        # Best effort: an orphaned blob costs only space.
        with contextlib.suppress(Exception):
            await vault.store.delete(f"{blob_id}.{suffix}")


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read a retried upload to its end without storing it: the client is
    still sending, and answering before reading it all would reset the stream."""
    async for _ in chunks:
        continue


async def upload(
    *,
    sessions: Sessions,
    vault: Vault,
    principal: Principal,
    header: UploadHeader,
    chunks: AsyncIterator[bytes],
    new_version: bool,
) -> DocumentView:
    """UploadDocument (new_version False) and UploadVersion (True). A client's
    approver may add photos for a visit they book: new documents, no folder,
    images only, seen by staff only (bookings carries their ids)."""
    if principal.is_client:
        tenant_id = principal.require_approver("attach photos")
        domain.check_client_upload(
            header.filename, new_version=new_version, folder_id=header.folder_id
        )
        header = replace(header, client_visible=False)
    else:
        tenant_id = principal.require_editor(EDITOR_ROLE)
    names = domain.check_upload(
        request_id=header.request_id,
        filename=header.filename,
        title=header.title,
        description=header.description,
    )
    async with UnitOfWork(sessions, tenant_id) as uow:
        limit = await tenant_upload_limit(uow, vault)
        done = await _existing(uow, names.request_id)
        if done is None:
            await _check_target(uow, principal, header, new_version)
    domain.check_declared_size(header.declared_size, limit)
    if done is not None:  # a retry: the first attempt's effect is the answer
        await _drain(chunks)
        return await _view_of(sessions, principal, tenant_id, done.document_id)

    stored = await _store(vault, tenant_id, names.filename, chunks, limit)
    try:
        domain.check_received_size(stored.size, header.declared_size)
        async with UnitOfWork(sessions, tenant_id) as uow:
            doc = await _record(uow, vault, principal, header, names, stored, new_version)
            versions = await versions_of(uow, [doc.id])
            await uow.commit()
    except IntegrityError:
        await discard(vault, stored.blob_id)
        raise Conflict("a concurrent upload with the same request id won; retry") from None
    except BaseException:
        await discard(vault, stored.blob_id)
        raise
    return view(principal, doc, versions[doc.id])


async def _record(
    uow: UnitOfWork,
    vault: Vault,
    principal: Principal,
    header: UploadHeader,
    names: domain.UploadNames,
    stored: Stored,
    new_version: bool,
) -> Document:
    """The stored blob as the next version of the document, or as a new document."""
    tenant_id = uuid.UUID(principal.require_tenant())
    target = await _check_target(uow, principal, header, new_version)
    uow.session.add(
        Blob(
            id=stored.blob_id,
            tenant_id=tenant_id,
            key_id=vault.keys.active_id,
            size_bytes=stored.size,
        )
    )
    if new_version:
        doc = target
        doc.current_version = domain.next_version_number(
            await uow.session.scalar(
                select(func.max(DocumentVersion.number)).where(
                    DocumentVersion.document_id == doc.id
                )
            )
        )
    else:
        doc = await _new_document(uow, principal, target, header, names)
    uow.session.add(
        DocumentVersion(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            document_id=doc.id,
            request_id=names.request_id,
            number=doc.current_version,
            filename=names.filename,
            content_type=stored.content_type,
            size_bytes=stored.size,
            sha256=stored.sha256,
            blob_id=stored.blob_id,
            uploaded_by=principal.subject,
            uploaded_at=now_utc(),
        )
    )
    await uow.flush()
    return doc


async def _new_document(
    uow: UnitOfWork,
    principal: Principal,
    project: ProjectRef,
    header: UploadHeader,
    names: domain.UploadNames,
) -> Document:
    tenant_id = principal.require_tenant()
    await ensure_default_folders(uow, tenant_id, project.id)
    doc = Document(
        id=uuid.uuid4(),
        tenant_id=uuid.UUID(tenant_id),
        project_id=project.id,
        folder_id=uuid.UUID(header.folder_id) if header.folder_id else None,
        request_id=names.request_id,
        title=names.title,
        description=names.description,
        client_visible=False,
        current_version=1,
        created_by=principal.subject,
        created_at=now_utc(),
        visibility_changed_by="",
    )
    uow.session.add(doc)
    await uow.flush()
    if header.client_visible:
        share(uow, doc, project, principal.subject, True)
    return doc


async def _view_of(
    sessions: Sessions, principal: Principal, tenant_id: str, document_id: uuid.UUID
) -> DocumentView:
    async with UnitOfWork(sessions, tenant_id) as uow:
        if principal.is_client:  # their own photo, which otherwise only staff see
            found = await uow.session.get(Document, document_id)
            if found is None or found.created_by != principal.subject:
                raise domain.not_found()
            doc = found
        else:
            doc, _ = await load_document(uow, principal, str(document_id))
        versions = await versions_of(uow, [doc.id])
    return view(principal, doc, versions[doc.id])
