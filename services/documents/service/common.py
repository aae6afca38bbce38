"""What the documents use cases share: who may call, and loading a project or
a document the caller may see (anything else is NOT_FOUND, never a hint that
it exists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Uuid, and_, exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.access import (
    check_portal,
    portal_state_column,
    portal_state_params,
    require_open_portal,
)
from services.chassis.audience import (
    project_is_visible,
    project_visible,
    require_project_visible,
)
from services.chassis.auth import Principal
from services.chassis.db import ReadUnit, UnitOfWork
from services.chassis.errors import NotFound
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


async def load_project(
    uow: UnitOfWork, principal: Principal, project_id: str | uuid.UUID
) -> ProjectRef:
    """The project if the caller may see it. Staff asking about a project we
    have not heard of get FAILED_PRECONDITION; a client gets NOT_FOUND, also
    for a project of another customer or one whose visible contacts leave
    them out (our copy of projects' audience, `chassis.audience`)."""
    pid = (
        project_id
        if isinstance(project_id, uuid.UUID)
        else parse_uuid(project_id, field="project_id")
    )
    if principal.is_client:
        await require_open_portal(uow, principal)
        await require_project_visible(uow, principal, pid)
    project = await uow.session.get(ProjectRef, pid)
    if project is None:
        raise domain.not_found("project") if principal.is_client else domain.ProjectUnknown()
    return project


async def known_project(
    read: ReadUnit, principal: Principal, project_id: str | uuid.UUID
) -> uuid.UUID:
    """`load_project` for a hot read, in one query: the client's portal state,
    whether the project is for them (our copy of its audience) and whether we
    know it, refused in that order and in the same words."""
    pid = (
        project_id
        if isinstance(project_id, uuid.UUID)
        else parse_uuid(project_id, field="project_id")
    )
    client = principal.is_client
    query = select(
        portal_state_column(client),
        project_visible(principal, literal(pid, Uuid)).label("visible"),
        exists().where(ProjectRef.id == pid).label("known"),
    )
    row = (await read.execute(query, portal_state_params(principal))).one()
    check_portal(principal, row.portal_state)
    if not row.visible:
        raise NotFound("no such project", field="project_id")  # as require_project_visible
    if not row.known:
        raise domain.not_found("project") if client else domain.ProjectUnknown()
    return pid


def shown_to_clients() -> ColumnElement[bool]:
    """The documents a client of the project may see, as a filter."""
    return and_(Document.client_visible.is_(True), Document.deleted_at.is_(None))


async def client_may_see_document(uow: UnitOfWork, principal: Principal, doc: Document) -> bool:
    """Client-visible, not deleted (`shown_to_clients`), and in a project that
    is for them."""
    return (
        doc.client_visible
        and doc.deleted_at is None
        and await project_is_visible(uow, principal, doc.project_id)
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
    if principal.is_client:
        await require_open_portal(uow, principal)
        if not await client_may_see_document(uow, principal, doc):
            raise domain.not_found()
    return doc, await uow.session.get(ProjectRef, doc.project_id)


async def versions_of(
    unit: UnitOfWork | ReadUnit, doc_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    """Each document's versions, newest first (ORM objects in a UnitOfWork,
    rows in a ReadUnit: both read the same way)."""
    out: dict[uuid.UUID, list[Any]] = {d: [] for d in doc_ids}
    if not doc_ids:
        return out
    if isinstance(unit, ReadUnit):
        query = select(DocumentVersion.__table__).where(DocumentVersion.document_id.in_(doc_ids))
        rows: Any = await unit.execute(query.order_by(DocumentVersion.number.desc()))
    else:
        rows = await unit.session.scalars(
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

    document: Document | Row[Any]  # a Row from a hot read
    current: DocumentVersion | Row[Any] | None
    versions: list[Any]
    for_client: bool = False


def view(principal: Principal, doc: Document | Row[Any], versions: list[Any]) -> DocumentView:
    current = next((v for v in versions if v.number == doc.current_version), None)
    client = principal.is_client
    return DocumentView(doc, current, [] if client else versions, for_client=client)


async def ensure_default_folders(uow: UnitOfWork, tenant_id: str, project_id: uuid.UUID) -> None:
    """Proposals, Schematics, Handover, Manuals: with our copy of the project
    (`on_project_created`; migration 0006 for the projects known before), and
    again, idempotently, before a write that may use them. Never on a read."""
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
