"""Uploads: multipart/form-data read as it arrives (gateway/multipart.py) and
sent on to documents in 64 KiB chunks: never the whole file in memory, never
spooled to disk. In this order, each before the next reads anything more:

1. the edge refuses a body declared over the platform's ceiling, and any
   body past 1 MiB until the route allows more (gateway/body_limits.py);
2. the route authenticates: an API token, or a session and its CSRF token;
3. documents is asked for the integrator's limit (GetUploadLimit, staff of
   this tenant only): the check that this caller may upload here at all;
   the request may then send that much plus room for the form's fields;
4. the form's text fields are read, then the file: the byte past the
   integrator's limit stops it with 413, and the stream to documents ends
   with a message it refuses (`ABORT`), so nothing is stored.

Documents still checks everything itself (role, target, names, type, size:
its own `file_too_large` is a 413 too, gateway/problems.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from portal.documents.v1 import documents_pb2
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData

from gateway import body_limits, files
from gateway.api.documents.common import CHUNK_SIZE, D, router, upload_router
from gateway.api.documents.shapes import Document, document_out
from gateway.backends import DocumentsRemote
from gateway.deps import DocumentsDep, RequestIdDep, StaffDep
from gateway.multipart import FilePart, MultipartReader, malformed
from services.chassis.auth import Principal

# Documents refuses a header after the first message: the gateway ends a stream
# it stops (too large, malformed, the client gone) with one, so documents
# refuses the stream having read it all, rather than hearing a cancellation
# late and taking what came before it for the whole file.
ABORT = D.UploadChunk(header=D.UploadHeader())


async def upload_limits(
    documents: DocumentsRemote, principal: Principal
) -> documents_pb2.GetUploadLimitResponse:
    return await documents.call(
        documents.stub.GetUploadLimit, D.GetUploadLimitRequest(), principal=principal
    )


async def capped(
    header: documents_pb2.UploadHeader, data: AsyncIterator[bytes], limit: int
) -> AsyncIterator[documents_pb2.UploadChunk]:
    """The header, then the file's pieces, until the one that passes `limit`."""
    yield D.UploadChunk(header=header)
    sent = 0
    async for piece in data:
        sent += len(piece)
        if sent > limit:
            raise body_limits.file_too_large(limit)
        yield D.UploadChunk(data=piece)


@dataclass
class Incoming:
    """An upload whose text fields are read and whose file is not, yet."""

    fields: FormData
    file: FilePart | None
    limit: int
    reader: MultipartReader

    async def send(
        self,
        documents: DocumentsRemote,
        principal: Principal,
        header: documents_pb2.UploadHeader,
        *,
        new_version: bool,
    ) -> documents_pb2.Document:
        if self.file is None:
            raise malformed("Choose a file to upload: a part named 'file'.", field="file")
        header.filename = files.safe_filename(self.file.filename)
        if not new_version and not header.title:
            header.title = header.filename
        stub = documents.stub
        method = stub.UploadVersion if new_version else stub.UploadDocument
        chunks = capped(header, self.reader.file_chunks(CHUNK_SIZE), self.limit)
        answer = await documents.upload(method, chunks, principal=principal, abort=ABORT)
        return answer.document


async def open_upload(
    request: Request, documents: DocumentsRemote, principal: Principal
) -> Incoming:
    """Steps 3 and 4 up to the file (the caller is authenticated already)."""
    reader = MultipartReader(request.headers, request.stream())
    limit = (await upload_limits(documents, principal)).max_upload_bytes
    body_limits.allow(
        request.scope, limit + body_limits.FORM_ROOM, body_limits.file_too_large(limit)
    )
    fields, file = await reader.fields()
    return Incoming(fields, file, limit, reader)


# -- the JSON API's routes --------------------------------------------------------------------


class UploadFields(BaseModel):
    """The text fields of `POST /projects/{id}/documents`, sent before the file."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field("", max_length=300, description="Left blank, the file's name.")
    description: str = Field("", max_length=4000)
    folder_id: UUID | None = None
    client_visible: bool = False


def form_fields(fields: FormData) -> UploadFields:
    """Checked as FastAPI checks a body (a 422 naming the field); empty means unset."""
    try:
        return UploadFields.model_validate({k: v for k, v in fields.items() if v != ""})
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def multipart_body(fields: type[BaseModel] | None, file_description: str) -> dict[str, Any]:
    """The OpenAPI request body of an upload route: the fields, then the file."""
    properties = dict(fields.model_json_schema()["properties"]) if fields else {}
    properties["file"] = {"type": "string", "format": "binary", "description": file_description}
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


_ORDER = (
    " Send the text fields before the file. The file may be at most the integrator's "
    "limit (`GET /tenant/upload-limit`): it is stopped with 413 at the byte past it."
)


@upload_router.post(
    "/projects/{project_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a document (multipart/form-data)",
    description="The file and its title, description, folder and visibility." + _ORDER,
    openapi_extra=multipart_body(UploadFields, "The file."),
)
async def upload_document(
    request: Request,
    project_id: UUID,
    staff: StaffDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
) -> Document:
    incoming = await open_upload(request, documents, staff)
    form = form_fields(incoming.fields)
    header = D.UploadHeader(
        request_id=request_id,
        project_id=str(project_id),
        folder_id=str(form.folder_id) if form.folder_id else "",
        title=form.title.strip(),
        description=form.description.strip(),
        client_visible=form.client_visible,
    )
    doc = await incoming.send(documents, staff, header, new_version=False)
    return document_out(doc, staff=True)


@upload_router.post(
    "/documents/{document_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Upload a new version of a document (multipart/form-data)",
    description="The new version's file." + _ORDER,
    openapi_extra=multipart_body(None, "The new version."),
)
async def upload_version(
    request: Request,
    document_id: UUID,
    staff: StaffDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
) -> Document:
    incoming = await open_upload(request, documents, staff)
    header = D.UploadHeader(request_id=request_id, document_id=str(document_id))
    doc = await incoming.send(documents, staff, header, new_version=True)
    return document_out(doc, staff=True)


class UploadLimit(BaseModel):
    max_upload_bytes: int = Field(description="The largest file this integrator accepts.")
    ceiling_bytes: int = Field(description="The most this deployment allows any integrator.")


class NewUploadLimit(BaseModel):
    max_upload_bytes: int = Field(ge=1, description="Bytes; at least 64 KB, at most the ceiling.")


@router.get("/tenant/upload-limit", summary="This integrator's upload size limit")
async def get_upload_limit(staff: StaffDep, documents: DocumentsDep) -> UploadLimit:
    answer = await upload_limits(documents, staff)
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
