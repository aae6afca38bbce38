"""Documents: each project's folders and files, their client visibility, and the
bytes (uploads streamed to the documents service, downloads streamed back).

Reading is for staff and clients (documents hands a client only what is
client-visible and not deleted; the gateway drops anything else too, so one slip
there is not a leak); changing is staff only. Uploads are multipart/form-data,
sent on to the service in 64 KiB chunks; a download is a short-lived link
(`POST /documents/{id}/download-link`) served at `GET /downloads/{token}` (and
`/d/{token}` for browsers), Range requests included.

Without GATEWAY_DOCUMENTS_TARGET every route here answers 503."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import grpc
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.security import HTTPAuthorizationCredentials
from portal.documents.v1 import documents_pb2, documents_pb2_grpc
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import StreamingResponse

from gateway import files
from gateway.api.idempotency import RequestIdDep
from gateway.api.translate import masked, timestamp
from gateway.auth import CallerDep, StaffDep, _bearer_staff, bearer
from gateway.backends import BackendsDep, Remote, RemoteError, gateway_principal
from gateway.problems import Problem, ProblemError, from_rpc_error, problem_responses, problem_type
from gateway.sessions import OptionalSessionDep, SettingsDep
from gateway.tenancy import TenantDep
from services.chassis.auth import Principal
from services.chassis.grpc_client import error_detail

D = documents_pb2
CHUNK_SIZE = 64 * 1024
DocumentsRemote = Remote[documents_pb2_grpc.DocumentsServiceStub]

router = APIRouter(tags=["documents"], responses=problem_responses(401, 403, 409))
# Multipart bodies: outside the JSON-only check of the API router (which would
# also read the whole body into memory first).
upload_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(401, 403, 404, 409, 413, 422, 500, 503, 504),
)
download_router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=problem_responses(403, 404, 416, 500, 503, 504),
)


def unavailable() -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("unavailable"),
            title="Service unavailable",
            status=503,
            detail="Documents are not available on this portal yet.",
            code="documents_unavailable",
        )
    )


async def documents_remote(backends: BackendsDep) -> DocumentsRemote:
    if backends.documents is None:
        raise unavailable()
    return backends.documents


DocumentsDep = Annotated[DocumentsRemote, Depends(documents_remote)]


def not_found(what: str = "document") -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail=f"There is no such {what} here.",
            code="not_found",
        )
    )


# -- shapes ---------------------------------------------------------------------------------


class Folder(BaseModel):
    id: str
    project_id: str
    name: str
    position: int


class Folders(BaseModel):
    folders: list[Folder]


class NewFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)


class Version(BaseModel):
    id: str
    number: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str | None = Field(None, description="Staff only.")
    uploaded_at: datetime | None


class Document(BaseModel):
    id: str
    project_id: str
    folder_id: str | None
    title: str
    description: str
    client_visible: bool
    current: Version | None
    versions: list[Version] = Field(description="Newest first; staff only (empty for clients).")
    created_at: datetime | None
    deleted_at: datetime | None
    visibility_changed_by: str | None = Field(None, description="Staff only.")
    visibility_changed_at: datetime | None = None


class Documents(BaseModel):
    documents: list[Document]


class DocumentChange(BaseModel):
    """Only the fields sent change: `null` or "" empties the description,
    `null` takes the document out of its folder (a title cannot be emptied)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=4000)
    folder_id: UUID | None = Field(None, description="Move it to this folder of the project.")


class VisibilityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_visible: bool


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version_id: UUID | None = Field(None, description="Staff only: an older version.")


class DownloadLink(BaseModel):
    url: str = Field(description="Path on this host that serves the file, e.g. /d/<token>.")
    token: str
    expires_at: datetime | None
    filename: str
    content_type: str
    size_bytes: int


def folder_out(folder: documents_pb2.Folder) -> Folder:
    return Folder(
        id=folder.id, project_id=folder.project_id, name=folder.name, position=folder.position
    )


def version_out(version: documents_pb2.DocumentVersion, *, staff: bool) -> Version:
    return Version(
        id=version.id,
        number=version.number,
        filename=version.filename,
        content_type=version.content_type,
        size_bytes=version.size_bytes,
        sha256=version.sha256,
        uploaded_by=(version.uploaded_by or None) if staff else None,
        uploaded_at=timestamp(version, "uploaded_at"),
    )


def document_out(doc: documents_pb2.Document, *, staff: bool) -> Document:
    return Document(
        id=doc.id,
        project_id=doc.project_id,
        folder_id=doc.folder_id or None,
        title=doc.title,
        description=doc.description,
        client_visible=doc.client_visible,
        current=version_out(doc.current, staff=staff) if doc.HasField("current") else None,
        versions=[version_out(v, staff=True) for v in doc.versions] if staff else [],
        created_at=timestamp(doc, "created_at"),
        deleted_at=timestamp(doc, "deleted_at"),
        visibility_changed_by=(doc.visibility_changed_by or None) if staff else None,
        visibility_changed_at=timestamp(doc, "visibility_changed_at") if staff else None,
    )


def client_may_see(doc: documents_pb2.Document) -> bool:
    return doc.client_visible and not doc.HasField("deleted_at")


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
            include_deleted=include_deleted and not principal.is_client,
        ),
        principal=principal,
    )
    found = list(answer.documents)
    if principal.is_client:
        found = [d for d in found if client_may_see(d)]
        for d in found:
            del d.versions[:]
    return found


async def fetch_document(
    documents: DocumentsRemote, principal: Principal, document_id: UUID | str
) -> documents_pb2.Document:
    answer = await documents.call(
        documents.stub.GetDocument,
        D.GetDocumentRequest(document_id=str(document_id)),
        principal=principal,
    )
    doc = answer.document
    if principal.is_client:
        if not client_may_see(doc):
            raise not_found()
        del doc.versions[:]
    return doc


async def create_link(
    documents: DocumentsRemote,
    principal: Principal,
    *,
    secret: bytes,
    tenant_id: str,
    document_id: str,
    version_id: str = "",
) -> str:
    """A sealed download link (the token part of /d/<token>) for the document."""
    if principal.is_client:
        await fetch_document(documents, principal, document_id)  # 404 unless theirs to see
        version_id = ""
    answer = await documents.call(
        documents.stub.CreateDownloadLink,
        D.CreateDownloadLinkRequest(document_id=document_id, version_id=version_id),
        principal=principal,
    )
    return files.seal_link(
        secret,
        files.DownloadLink(
            token=answer.token,
            tenant_id=tenant_id,
            filename=answer.filename,
            content_type=answer.content_type,
            size=answer.size_bytes,
            expires_at=answer.expires_at.seconds if answer.HasField("expires_at") else 0,
        ),
    )


# -- uploads ----------------------------------------------------------------------------------


async def file_chunks(
    header: documents_pb2.UploadHeader, upload: StarletteUpload
) -> AsyncIterator[documents_pb2.UploadChunk]:
    """The header, then the file in 64 KiB pieces (never all of it at once)."""
    yield D.UploadChunk(header=header)
    while True:
        data = await upload.read(CHUNK_SIZE)
        if not data:
            return
        yield D.UploadChunk(data=data)


def _too_large(exc: RemoteError) -> bool:
    info = error_detail(exc.error)
    text = f"{info.code} {info.message}".lower()
    return exc.code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.OUT_OF_RANGE) or any(
        marker in text for marker in ("too_large", "too large", "too big", "size limit")
    )


def upload_refused(exc: RemoteError) -> ProblemError:
    """413 when the service says the file is too large; else the usual mapping."""
    if _too_large(exc):
        info = error_detail(exc.error)
        return ProblemError(
            Problem(
                type=problem_type("too-large"),
                title="Content too large",
                status=413,
                detail=info.message or "The file is too large.",
                code="file_too_large",
            )
        )
    if exc.code is grpc.StatusCode.OUT_OF_RANGE:
        problem = from_rpc_error(exc.error, service=exc.service).problem
        return ProblemError(problem.model_copy(update={"status": 422}))
    return from_rpc_error(exc.error, service=exc.service)


async def send_upload(
    documents: DocumentsRemote,
    principal: Principal,
    header: documents_pb2.UploadHeader,
    upload: StarletteUpload,
    *,
    new_version: bool,
) -> documents_pb2.Document:
    header.filename = files.safe_filename(upload.filename or header.filename)
    if upload.size is not None:
        header.declared_size = upload.size
    method = documents.stub.UploadVersion if new_version else documents.stub.UploadDocument
    try:
        answer = await documents.upload(method, file_chunks(header, upload), principal=principal)
    finally:
        await upload.close()
    return answer.document


# -- downloads --------------------------------------------------------------------------------

_LINK_REFUSED = frozenset(
    {
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)


def link_refused() -> ProblemError:
    # One answer for forged, altered, expired and revoked: nothing to learn from it.
    return ProblemError(
        Problem(
            type=problem_type("forbidden"),
            title="Link not valid",
            status=403,
            detail="This download link is not valid or has expired. "
            "Go back and choose the file again.",
            code="download_link_invalid",
        )
    )


def not_satisfiable(size: int) -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("range-not-satisfiable"),
            title="Range not satisfiable",
            status=416,
            detail=f"The file has {size} bytes; ask for a range within them.",
            code="range_not_satisfiable",
        ),
        headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
    )


async def serve_download(
    request: Request,
    token: str,
    *,
    documents: DocumentsRemote,
    principal: Principal,
    secret: bytes,
    tenant_id: str,
) -> Response:
    """The file (or one byte range of it), streamed from the service as it comes."""
    link = files.open_link(secret, token, tenant_id=tenant_id, now=time.time())
    if link is None:
        raise link_refused()
    try:
        wanted = files.parse_range(request.headers.get("range"), link.size)
    except files.RangeNotSatisfiable:
        raise not_satisfiable(link.size) from None
    read = D.ReadBlobRequest(token=link.token)
    if wanted is not None:
        read.range_start, read.range_end, read.has_range = wanted.start, wanted.end, True
    try:
        first, rest = await documents.open_stream(
            documents.stub.ReadBlob, read, principal=principal
        )
    except RemoteError as exc:
        if exc.code in _LINK_REFUSED:
            raise link_refused() from exc
        if exc.code is grpc.StatusCode.OUT_OF_RANGE:
            raise not_satisfiable(link.size) from exc
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            if first is not None and first.data:
                yield first.data
            async for chunk in rest:
                if chunk.data:
                    yield chunk.data
        finally:
            await rest.aclose()  # type: ignore[attr-defined]

    headers = {
        "Content-Disposition": files.content_disposition(link.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "Content-Length": str(wanted.length if wanted else link.size),
    }
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range(link.size)
    return StreamingResponse(
        body(),
        status_code=status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK,
        media_type=files.safe_media_type(link.content_type),
        headers=headers,
    )


async def download_principal(
    request: Request,
    tenant: TenantDep,
    backends: BackendsDep,
    signed_in: OptionalSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Whoever holds the link: the token is the permission. Signed in, the
    service also sees who it is; a GET changes nothing, so no CSRF check."""
    if credentials is not None:
        return await _bearer_staff(tenant.id, backends, credentials.credentials)
    if signed_in is not None:
        return signed_in.person
    return gateway_principal(tenant_id=tenant.id)


DownloaderDep = Annotated[Principal, Depends(download_principal)]


# -- routes -----------------------------------------------------------------------------------


@router.get("/projects/{project_id}/folders", summary="A project's document folders")
async def list_folders(project_id: UUID, caller: CallerDep, documents: DocumentsDep) -> Folders:
    return Folders(
        folders=[folder_out(f) for f in await fetch_folders(documents, caller, project_id)]
    )


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
    answer = await documents.call(
        documents.stub.CreateFolder,
        D.CreateFolderRequest(request_id=request_id, project_id=str(project_id), name=body.name),
        principal=staff,
    )
    return folder_out(answer.folder)


@router.get("/projects/{project_id}/documents", summary="A project's documents")
async def list_documents(
    project_id: UUID,
    caller: CallerDep,
    documents: DocumentsDep,
    folder_id: Annotated[UUID | None, Query(description="Only this folder's.")] = None,
    q: Annotated[str, Query(max_length=200, description="Search the titles.")] = "",
    include_deleted: Annotated[bool, Query(description="Staff only: deleted ones too.")] = False,
) -> Documents:
    found = await fetch_documents(
        documents,
        caller,
        project_id,
        folder_id=str(folder_id) if folder_id else "",
        query=q.strip(),
        include_deleted=include_deleted,
    )
    staff = not caller.is_client
    return Documents(documents=[document_out(d, staff=staff) for d in found])


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
    answer = await documents.call(
        documents.stub.SetVisibility,
        D.SetVisibilityRequest(document_id=str(document_id), client_visible=body.client_visible),
        principal=staff,
    )
    return document_out(answer.document, staff=True)


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a document (it can be restored)",
)
async def delete_document(document_id: UUID, staff: StaffDep, documents: DocumentsDep) -> Response:
    await documents.call(
        documents.stub.DeleteDocument,
        D.DeleteDocumentRequest(document_id=str(document_id)),
        principal=staff,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/documents/{document_id}/restore", summary="Restore a deleted document")
async def restore_document(document_id: UUID, staff: StaffDep, documents: DocumentsDep) -> Document:
    answer = await documents.call(
        documents.stub.RestoreDocument,
        D.RestoreDocumentRequest(document_id=str(document_id)),
        principal=staff,
    )
    return document_out(answer.document, staff=True)


@router.post(
    "/documents/{document_id}/download-link",
    summary="A short-lived link to download the document",
    description="Clients get the current version of what they may see; staff may name an "
    "older `version_id`. Fetch the `url` (on this host) within minutes.",
)
async def download_link(
    document_id: UUID,
    caller: CallerDep,
    documents: DocumentsDep,
    settings: SettingsDep,
    tenant: TenantDep,
    body: LinkRequest | None = None,
) -> DownloadLink:
    version_id = str(body.version_id) if body and body.version_id else ""
    if version_id and caller.is_client:
        raise not_found("version")
    sealed = await create_link(
        documents,
        caller,
        secret=settings.csrf_secret,
        tenant_id=tenant.id,
        document_id=str(document_id),
        version_id=version_id,
    )
    link = files.open_link(settings.csrf_secret, sealed, tenant_id=tenant.id, now=0)
    assert link is not None
    return DownloadLink(
        url=f"/d/{sealed}",
        token=sealed,
        expires_at=datetime.fromtimestamp(link.expires_at, tz=UTC) if link.expires_at else None,
        filename=link.filename,
        content_type=link.content_type,
        size_bytes=link.size,
    )


@download_router.get(
    "/downloads/{token}",
    summary="Download a file by its link",
    description="Streams the file; a single `Range: bytes=a-b` answers 206.",
    response_class=StreamingResponse,
)
async def download(
    request: Request,
    token: str,
    principal: DownloaderDep,
    documents: DocumentsDep,
    settings: SettingsDep,
    tenant: TenantDep,
) -> Response:
    return await serve_download(
        request,
        token,
        documents=documents,
        principal=principal,
        secret=settings.csrf_secret,
        tenant_id=tenant.id,
    )


@upload_router.post(
    "/projects/{project_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (multipart/form-data)",
)
async def upload_document(
    project_id: UUID,
    staff: StaffDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
    file: Annotated[UploadFile, File(description="The file.")],
    title: Annotated[str, Form(max_length=300)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
    folder_id: Annotated[UUID | None, Form()] = None,
    client_visible: Annotated[bool, Form()] = False,
) -> Document:
    header = D.UploadHeader(
        request_id=request_id,
        project_id=str(project_id),
        folder_id=str(folder_id) if folder_id else "",
        title=title.strip() or files.safe_filename(file.filename or ""),
        description=description.strip(),
        client_visible=client_visible,
    )
    try:
        doc = await send_upload(documents, staff, header, file, new_version=False)
    except RemoteError as exc:
        raise upload_refused(exc) from exc
    return document_out(doc, staff=True)


@upload_router.post(
    "/documents/{document_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a new version of a document (multipart/form-data)",
)
async def upload_version(
    document_id: UUID,
    staff: StaffDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
    file: Annotated[UploadFile, File(description="The new version.")],
) -> Document:
    header = D.UploadHeader(request_id=request_id, document_id=str(document_id))
    try:
        doc = await send_upload(documents, staff, header, file, new_version=True)
    except RemoteError as exc:
        raise upload_refused(exc) from exc
    return document_out(doc, staff=True)


class UploadLimit(BaseModel):
    max_upload_bytes: int = Field(description="The largest file this integrator accepts.")
    ceiling_bytes: int = Field(description="The most this deployment allows any integrator.")


class NewUploadLimit(BaseModel):
    max_upload_bytes: int = Field(ge=1, description="Bytes; at least 64 KB, at most the ceiling.")


@router.get("/tenant/upload-limit", summary="This integrator's upload size limit")
async def get_upload_limit(staff: StaffDep, documents: DocumentsDep) -> UploadLimit:
    answer = await documents.call(
        documents.stub.GetUploadLimit, D.GetUploadLimitRequest(), principal=staff
    )
    return UploadLimit(max_upload_bytes=answer.max_upload_bytes, ceiling_bytes=answer.ceiling_bytes)


@router.put("/tenant/upload-limit", summary="Set this integrator's upload size limit")
async def set_upload_limit(
    body: NewUploadLimit, staff: StaffDep, documents: DocumentsDep
) -> UploadLimit:
    answer = await documents.call(
        documents.stub.SetUploadLimit,
        D.SetUploadLimitRequest(max_upload_bytes=body.max_upload_bytes),
        principal=staff,
    )
    return UploadLimit(max_upload_bytes=answer.max_upload_bytes, ceiling_bytes=answer.ceiling_bytes)
