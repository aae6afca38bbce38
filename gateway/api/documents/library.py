"""A project's library: folders, the documents in them, and the changes
staff make (rename, move, show to the client or hide, delete, restore).

Documents alone decides what a caller sees (a client: client-visible, not
deleted, current version only); the gateway renders what it is given."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response, status
from portal.documents.v1 import documents_pb2

from gateway.api.documents.common import D, router
from gateway.api.documents.shapes import (
    Document,
    DocumentChange,
    Documents,
    Folder,
    Folders,
    NewFolder,
    VisibilityChange,
    document_out,
    folder_out,
)
from gateway.api.translate import masked
from gateway.backends import DocumentsRemote
from gateway.deps import CallerDep, DocumentsDep, RequestIdDep, StaffDep
from services.chassis.auth import Principal

# -- calls the pages share --------------------------------------------------------------------


async def fetch_folders(
    documents: DocumentsRemote, principal: Principal, project_id: UUID | str
) -> list[documents_pb2.Folder]:
    answer = await documents.call(
        documents.stub.ListFolders,
        D.ListFoldersRequest(project_id=str(project_id)),
        principal=principal,
    )
    return list(answer.folders)


async def fetch_documents(
    documents: DocumentsRemote,
    principal: Principal,
    project_id: UUID | str,
    *,
    folder_id: str = "",
    query: str = "",
    include_deleted: bool = False,
) -> list[documents_pb2.Document]:
    answer = await documents.call(
        documents.stub.ListDocuments,
        D.ListDocumentsRequest(
            project_id=str(project_id),
            folder_id=folder_id,
            query=query,
            include_deleted=include_deleted,
        ),
        principal=principal,
    )
    return list(answer.documents)


async def fetch_document(
    documents: DocumentsRemote, principal: Principal, document_id: UUID | str
) -> documents_pb2.Document:
    answer = await documents.call(
        documents.stub.GetDocument,
        D.GetDocumentRequest(document_id=str(document_id)),
        principal=principal,
    )
    return answer.document


async def folders_of(
    documents: DocumentsRemote, principal: Principal, project_id: UUID | str
) -> Folders:
    """The API's folder list; the library pages render it as it is."""
    return Folders(
        folders=[folder_out(f) for f in await fetch_folders(documents, principal, project_id)]
    )


async def documents_of(
    documents: DocumentsRemote,
    principal: Principal,
    project_id: UUID | str,
    *,
    folder_id: str = "",
    query: str = "",
    include_deleted: bool = False,
) -> Documents:
    """The API's document list (staff see versions and who changed what)."""
    found = await fetch_documents(
        documents,
        principal,
        project_id,
        folder_id=folder_id,
        query=query,
        include_deleted=include_deleted,
    )
    staff = not principal.is_client
    return Documents(documents=[document_out(d, staff=staff) for d in found])


async def set_client_visible(
    documents: DocumentsRemote, principal: Principal, document_id: UUID | str, show: bool
) -> Document:
    answer = await documents.call(
        documents.stub.SetVisibility,
        D.SetVisibilityRequest(document_id=str(document_id), client_visible=show),
        principal=principal,
    )
    return document_out(answer.document, staff=True)


async def delete(documents: DocumentsRemote, principal: Principal, document_id: UUID | str) -> None:
    await documents.call(
        documents.stub.DeleteDocument,
        D.DeleteDocumentRequest(document_id=str(document_id)),
        principal=principal,
    )


async def restore(
    documents: DocumentsRemote, principal: Principal, document_id: UUID | str
) -> Document:
    answer = await documents.call(
        documents.stub.RestoreDocument,
        D.RestoreDocumentRequest(document_id=str(document_id)),
        principal=principal,
    )
    return document_out(answer.document, staff=True)


async def add_folder(
    documents: DocumentsRemote,
    principal: Principal,
    project_id: UUID | str,
    *,
    request_id: str,
    name: str,
) -> Folder:
    answer = await documents.call(
        documents.stub.CreateFolder,
        D.CreateFolderRequest(request_id=request_id, project_id=str(project_id), name=name),
        principal=principal,
    )
    return folder_out(answer.folder)


# -- routes -----------------------------------------------------------------------------------


@router.get("/projects/{project_id}/folders", summary="A project's document folders")
async def list_folders(project_id: UUID, caller: CallerDep, documents: DocumentsDep) -> Folders:
    return await folders_of(documents, caller, project_id)


@router.post(
    "/projects/{project_id}/folders", status_code=status.HTTP_201_CREATED, summary="Add a folder"
)
async def create_folder(
    project_id: UUID,
    body: NewFolder,
    staff: StaffDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
) -> Folder:
    return await add_folder(documents, staff, project_id, request_id=request_id, name=body.name)


@router.get("/projects/{project_id}/documents", summary="A project's documents")
async def list_documents(
    project_id: UUID,
    caller: CallerDep,
    documents: DocumentsDep,
    folder_id: Annotated[UUID | None, Query(description="Only this folder's.")] = None,
    q: Annotated[str, Query(max_length=200, description="Search the titles.")] = "",
    include_deleted: Annotated[bool, Query(description="Staff only: deleted ones too.")] = False,
) -> Documents:
    return await documents_of(
        documents,
        caller,
        project_id,
        folder_id=str(folder_id) if folder_id else "",
        query=q.strip(),
        include_deleted=include_deleted,
    )


@router.get("/documents/{document_id}", summary="A document and (staff) its versions")
async def get_document(document_id: UUID, caller: CallerDep, documents: DocumentsDep) -> Document:
    doc = await fetch_document(documents, caller, document_id)
    return document_out(doc, staff=not caller.is_client)


async def change_document(
    documents: DocumentsRemote,
    principal: Principal,
    document_id: UUID | str,
    changes: Mapping[str, Any],
) -> Document:
    """UpdateDocument with `changes` as its field mask (the API and the console form)."""
    request = masked(D.UpdateDocumentRequest(document_id=str(document_id)), changes)
    answer = await documents.call(documents.stub.UpdateDocument, request, principal=principal)
    return document_out(answer.document, staff=True)


@router.patch("/documents/{document_id}", summary="Rename, describe or move a document")
async def update_document(
    document_id: UUID, body: DocumentChange, staff: StaffDep, documents: DocumentsDep
) -> Document:
    return await change_document(documents, staff, document_id, body.model_dump(exclude_unset=True))


@router.post(
    "/documents/{document_id}/visibility", summary="Show a document to the client or hide it"
)
async def set_visibility(
    document_id: UUID, body: VisibilityChange, staff: StaffDep, documents: DocumentsDep
) -> Document:
    return await set_client_visible(documents, staff, document_id, body.client_visible)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a document (it can be restored)",
)
async def delete_document(document_id: UUID, staff: StaffDep, documents: DocumentsDep) -> Response:
    await delete(documents, staff, document_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/documents/{document_id}/restore", summary="Restore a deleted document")
async def restore_document(document_id: UUID, staff: StaffDep, documents: DocumentsDep) -> Document:
    return await restore(documents, staff, document_id)
