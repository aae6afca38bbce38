"""Uploads: multipart/form-data, sent on to the service in 64 KiB chunks
(never the whole file in memory), and the integrator's upload size limit.

A refusal maps like any other (gateway/problems.py): a file over the limit
is documents' `file_too_large`, answered 413."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import File, Form, UploadFile, status
from portal.documents.v1 import documents_pb2
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile as StarletteUpload

from gateway import files
from gateway.api.documents.common import CHUNK_SIZE, D, router, upload_router
from gateway.api.documents.shapes import Document, document_out
from gateway.backends import DocumentsRemote
from gateway.deps import DocumentsDep, RequestIdDep, StaffDep
from services.chassis.auth import Principal


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
    doc = await send_upload(documents, staff, header, file, new_version=False)
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
    doc = await send_upload(documents, staff, header, file, new_version=True)
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
