"""Folders and documents: list, read, edit, share with the client, delete and
restore; and our copy of each project from projects' events."""

from __future__ import annotations

import uuid
from typing import Any

from portal.documents.v1 import events_pb2
from portal.projects.v1 import events_pb2 as project_events
from sqlalchemy import Row, exists, select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.db import ReadUnit, UnitOfWork
from services.chassis.errors import InvalidArgument
from services.chassis.events import Event
from services.chassis.validation import parse_uuid, require_text
from services.documents.models import (
    Document,
    DocumentAudit,
    Folder,
    ProjectRef,
)
from services.documents.service.common import (
    EDITOR_ROLE,
    DocumentView,
    Sessions,
    ensure_default_folders,
    known_project,
    load_document,
    load_folder,
    load_project,
    now_utc,
    shown_to_clients,
    versions_of,
    view,
)

FOLDER = Folder.__table__
DOCUMENT = Document.__table__


async def on_project_created(uow: UnitOfWork, event: Event[project_events.ProjectCreated]) -> None:
    """Idempotent: the first fact about a project wins; a repeat changes nothing.
    The default folders come with it, so listing them never writes."""
    p = event.payload
    await uow.session.execute(
        insert(ProjectRef)
        .values(
            id=uuid.UUID(p.project_id),
            tenant_id=uuid.UUID(event.tenant_id),
            customer_id=uuid.UUID(p.customer_id),
            name=p.name,
            created_at=event.occurred_at,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await ensure_default_folders(uow, event.tenant_id, uuid.UUID(p.project_id))


async def list_folders(
    *, sessions: Sessions, principal: Principal, project_id: str
) -> list[Row[Any]]:
    """A hot read (every documents page) on a `ReadUnit`: rows, not ORM objects."""
    async with ReadUnit(sessions, principal.require_reader()) as read:
        pid = await known_project(read, principal, project_id)
        query = select(FOLDER).where(FOLDER.c.project_id == pid)
        if principal.is_client:
            # An internal folder, or one holding only hidden or deleted files,
            # is nothing to the client: not even its name is shown.
            query = query.where(
                exists().where(Document.folder_id == FOLDER.c.id, shown_to_clients())
            )
        return list(await read.execute(query.order_by(FOLDER.c.position, FOLDER.c.name)))


async def create_folder(
    *, sessions: Sessions, principal: Principal, request_id: str, project_id: str, name: str
) -> Folder:
    tenant_id = principal.require_editor(EDITOR_ROLE)
    request_id = require_text(request_id, field="request_id", max_len=100)
    name = require_text(name, field="name", max_len=100)
    async with UnitOfWork(sessions, tenant_id) as uow:
        project = await load_project(uow, principal, project_id)
        await ensure_default_folders(uow, tenant_id, project.id)
        existing = await uow.session.scalar(
            select(Folder).where(
                Folder.project_id == project.id,
                (Folder.request_id == request_id) | (Folder.name == name),
            )
        )
        if existing is not None:
            if existing.request_id == request_id:
                return existing
            raise InvalidArgument("a folder with this name already exists", field="name")
        count = len(
            list(
                await uow.session.scalars(select(Folder.id).where(Folder.project_id == project.id))
            )
        )
        folder = Folder(
            id=uuid.uuid4(),
            tenant_id=uuid.UUID(tenant_id),
            project_id=project.id,
            request_id=request_id,
            name=name,
            position=count,
        )
        uow.session.add(folder)
        await uow.commit()
    return folder


async def list_documents(
    *,
    sessions: Sessions,
    principal: Principal,
    project_id: str,
    folder_id: str,
    query: str,
    include_deleted: bool,
) -> list[DocumentView]:
    """A hot read on a `ReadUnit`: the documents and their versions as rows."""
    async with ReadUnit(sessions, principal.require_reader()) as read:
        pid = await known_project(read, principal, project_id)
        stmt = select(DOCUMENT).where(DOCUMENT.c.project_id == pid)
        if folder_id:
            stmt = stmt.where(DOCUMENT.c.folder_id == parse_uuid(folder_id, field="folder_id"))
        if query.strip():
            escaped = query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(DOCUMENT.c.title.ilike(f"%{escaped}%", escape="\\"))
        if principal.is_client:
            stmt = stmt.where(shown_to_clients())
        elif not include_deleted:
            stmt = stmt.where(DOCUMENT.c.deleted_at.is_(None))
        stmt = stmt.order_by(DOCUMENT.c.created_at.desc(), DOCUMENT.c.id)
        docs = list(await read.execute(stmt))
        versions = await versions_of(read, [d.id for d in docs])
    return [view(principal, d, versions[d.id]) for d in docs]


async def get_document(
    *, sessions: Sessions, principal: Principal, document_id: str
) -> DocumentView:
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        doc, _ = await load_document(uow, principal, document_id)
        versions = await versions_of(uow, [doc.id])
    return view(principal, doc, versions[doc.id])


# What UpdateDocument's mask may name.
DOCUMENT_FIELDS = ("title", "description", "folder_id")


async def update_document(
    *, sessions: Sessions, principal: Principal, document_id: str, changes: dict[str, Any]
) -> DocumentView:
    """Changes only the fields in `changes` (from the request's field mask), under
    the document's row lock; an empty folder_id takes it out of any folder."""
    async with UnitOfWork(sessions, principal.require_editor(EDITOR_ROLE)) as uow:
        doc, _ = await load_document(uow, principal, document_id, lock=True)
        if "title" in changes:
            doc.title = require_text(changes["title"], field="title")
        if "description" in changes:
            doc.description = changes["description"].strip()[:5000]
        if "folder_id" in changes:
            doc.folder_id = await load_folder(uow, doc.project_id, changes["folder_id"])
        versions = await versions_of(uow, [doc.id])
        await uow.commit()
    return view(principal, doc, versions[doc.id])


def record(uow: UnitOfWork, doc: Document, action: str, actor: str, detail: str = "") -> None:
    uow.session.add(
        DocumentAudit(
            id=uuid.uuid4(),
            tenant_id=doc.tenant_id,
            document_id=doc.id,
            action=action,
            actor=actor,
            detail=detail,
            at=now_utc(),
        )
    )


def share(
    uow: UnitOfWork, doc: Document, project: ProjectRef | None, actor: str, visible: bool
) -> None:
    """Record a visibility change; tell the client when it became visible."""
    was = doc.client_visible
    doc.client_visible = visible
    doc.visibility_changed_by, doc.visibility_changed_at = actor, now_utc()
    record(uow, doc, "visibility", actor, "client_visible" if visible else "hidden")
    if visible and not was and doc.deleted_at is None and project is not None:
        uow.publish(
            events_pb2.DocumentShared(
                document_id=str(doc.id),
                project_id=str(doc.project_id),
                title=doc.title,
                customer_id=str(project.customer_id),
                project_name=project.name,
            ),
            aggregate_type="document",
            aggregate_id=str(doc.id),
        )


async def set_visibility(
    *, sessions: Sessions, principal: Principal, document_id: str, client_visible: bool
) -> DocumentView:
    async with UnitOfWork(sessions, principal.require_editor(EDITOR_ROLE)) as uow:
        doc, project = await load_document(uow, principal, document_id, lock=True)
        if doc.client_visible != client_visible:
            share(uow, doc, project, principal.subject, client_visible)
        versions = await versions_of(uow, [doc.id])
        await uow.commit()
    return view(principal, doc, versions[doc.id])


async def delete_document(
    *, sessions: Sessions, principal: Principal, document_id: str
) -> DocumentView:
    async with UnitOfWork(sessions, principal.require_editor(EDITOR_ROLE)) as uow:
        doc, _ = await load_document(uow, principal, document_id, lock=True)
        if doc.deleted_at is None:
            doc.deleted_at, doc.deleted_by = now_utc(), principal.subject
            record(uow, doc, "deleted", principal.subject)
        versions = await versions_of(uow, [doc.id])
        await uow.commit()
    return view(principal, doc, versions[doc.id])


async def restore_document(
    *, sessions: Sessions, principal: Principal, document_id: str
) -> DocumentView:
    async with UnitOfWork(sessions, principal.require_editor(EDITOR_ROLE)) as uow:
        doc, _ = await load_document(uow, principal, document_id, lock=True)
        if doc.deleted_at is not None:
            doc.deleted_at, doc.deleted_by = None, None
            record(uow, doc, "restored", principal.subject)
        versions = await versions_of(uow, [doc.id])
        await uow.commit()
    return view(principal, doc, versions[doc.id])
