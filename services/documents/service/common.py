"""What the documents use cases share: who may call, and loading a project or
a document the caller may see (anything else is NOT_FOUND, never a hint that
it exists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.access import require_open_portal
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.validation import parse_uuid
from services.documents import domain
from services.documents.blobcrypt import MasterKeys
from services.documents.blobstore import BlobStore
from services.documents.models import (
    Document,
    DocumentVersion,
    Folder,
    ProjectRef,
)

Sessions = async_sessionmaker[AsyncSession]
EDITOR_ROLE = "project_manager"  # owner and admin pass too (chassis)


@dataclass(frozen=True)
class Vault:
    """Where blobs go and the keys they are sealed with."""

    store: BlobStore
    keys: MasterKeys
    link_secret: bytes
    link_ttl_seconds: int = 300
    max_upload_bytes: int = 200 * 1024 * 1024


def now_utc() -> datetime:
    return datetime.now(UTC)


def client_may_see_project(principal: Principal, project: ProjectRef | None) -> bool:
    return (
        project is not None
        and principal.customer_id is not None
        and str(project.customer_id) == principal.customer_id
    )


async def load_project(
    uow: UnitOfWork, principal: Principal, project_id: str | uuid.UUID
) -> ProjectRef:
    """The project if the caller may see it. Staff asking about a project we
    have not heard of get FAILED_PRECONDITION; a client gets NOT_FOUND."""
    pid = (
        project_id
        if isinstance(project_id, uuid.UUID)
        else parse_uuid(project_id, field="project_id")
    )
    project = await uow.session.get(ProjectRef, pid)
    if principal.is_client:
        await require_open_portal(uow, principal)
        if not client_may_see_project(principal, project):
            raise domain.not_found("project")
    elif project is None:
        raise domain.ProjectUnknown()
    assert project is not None
    return project


def client_may_see_document(
    principal: Principal, project: ProjectRef | None, doc: Document
) -> bool:
    return (
        client_may_see_project(principal, project) and doc.client_visible and doc.deleted_at is None
    )


async def load_document(
    uow: UnitOfWork, principal: Principal, document_id: str, *, lock: bool = False
) -> tuple[Document, ProjectRef | None]:
    did = parse_uuid(document_id, field="document_id")
    query = select(Document).where(Document.id == did)
    if lock:
        query = query.with_for_update()
    doc = await uow.session.scalar(query)
    if doc is None:
        raise domain.not_found()
    project = await uow.session.get(ProjectRef, doc.project_id)
    if principal.is_client:
        await require_open_portal(uow, principal)
        if not client_may_see_document(principal, project, doc):
            raise domain.not_found()
    return doc, project


async def versions_of(
    uow: UnitOfWork, doc_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[DocumentVersion]]:
    """Each document's versions, newest first."""
    out: dict[uuid.UUID, list[DocumentVersion]] = {d: [] for d in doc_ids}
    if not doc_ids:
        return out
    rows = await uow.session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id.in_(doc_ids))
        .order_by(DocumentVersion.number.desc())
    )
    for row in rows:
        out[row.document_id].append(row)
    return out


@dataclass
class DocumentView:
    """A document with the versions the caller may see (clients: current only,
    and never which staff member uploaded or showed it)."""

    document: Document
    current: DocumentVersion | None
    versions: list[DocumentVersion]
    for_client: bool = False


def view(principal: Principal, doc: Document, versions: list[DocumentVersion]) -> DocumentView:
    current = next((v for v in versions if v.number == doc.current_version), None)
    client = principal.is_client
    return DocumentView(doc, current, [] if client else versions, for_client=client)


async def ensure_default_folders(uow: UnitOfWork, tenant_id: str, project_id: uuid.UUID) -> None:
    """Proposals, Schematics, Handover, Manuals: created the first time they are needed."""
    await uow.session.execute(
        insert(Folder)
        .values(
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": uuid.UUID(tenant_id),
                    "project_id": project_id,
                    "name": name,
                    "position": i,
                }
                for i, name in enumerate(domain.DEFAULT_FOLDERS)
            ]
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "project_id", "name"])
    )


async def load_folder(uow: UnitOfWork, project_id: uuid.UUID, folder_id: str) -> uuid.UUID | None:
    if not folder_id:
        return None
    fid = parse_uuid(folder_id, field="folder_id")
    folder = await uow.session.get(Folder, fid)
    if folder is None or folder.project_id != project_id:
        raise domain.not_found("folder")
    return fid
