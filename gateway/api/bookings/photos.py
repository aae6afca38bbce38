"""A client's photos for a visit: stored in the project's documents (the same
streamed upload as staff documents, the same size limit and sniffed types;
documents decides who may upload, and lets a client's approver add photos
only), then named by id when booking."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, status

from gateway.api.bookings.shapes import VisitPhoto
from gateway.api.documents import D, open_upload
from gateway.api.documents.upload import Incoming, multipart_body
from gateway.backends import DocumentsRemote
from gateway.deps import CallerDep, DocumentsDep, RequestIdDep
from gateway.multipart import malformed
from gateway.problems import problem_responses
from services.chassis.auth import Principal

PHOTO_TITLE = "Photo for a visit"

photo_router = APIRouter(
    prefix="/api/v1",
    tags=["bookings"],
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422, 500, 503, 504),
)


async def upload_photo(
    request: Request,
    documents: DocumentsRemote,
    principal: Principal,
    *,
    project_id: str,
    request_id: str,
) -> VisitPhoto | None:
    """The form's one file, if any, into the project's documents (hidden from
    clients: staff see it with the visit). None when no file was chosen."""
    incoming = await open_upload(request, documents, principal)
    if incoming.file is None or not incoming.file.filename:
        return None
    return await send_photo(
        incoming, documents, principal, project_id=project_id, request_id=request_id
    )


async def send_photo(
    incoming: Incoming,
    documents: DocumentsRemote,
    principal: Principal,
    *,
    project_id: str,
    request_id: str,
) -> VisitPhoto:
    header = D.UploadHeader(request_id=request_id, project_id=project_id, title=PHOTO_TITLE)
    doc = await incoming.send(documents, principal, header, new_version=False)
    return VisitPhoto(
        document_id=doc.id,
        filename=doc.current.filename,
        content_type=doc.current.content_type,
        size_bytes=doc.current.size_bytes,
    )


@photo_router.post(
    "/projects/{project_id}/visit-photos",
    status_code=status.HTTP_201_CREATED,
    summary="Attach a photo for a visit (multipart/form-data)",
    description="A PNG, JPEG, GIF or WebP photo, at most the integrator's upload limit "
    "(413 at the byte past it). Pass its `document_id` in `photo_document_ids` when "
    "booking. Staff see it with the visit; it is not shown in the client's documents.",
    openapi_extra=multipart_body(None, "The photo."),
)
async def attach_visit_photo(
    request: Request,
    project_id: UUID,
    caller: CallerDep,
    documents: DocumentsDep,
    request_id: RequestIdDep,
) -> VisitPhoto:
    photo = await upload_photo(
        request, documents, caller, project_id=str(project_id), request_id=request_id
    )
    if photo is None:
        raise malformed("Choose a photo to upload: a part named 'file'.", field="file")
    return photo
