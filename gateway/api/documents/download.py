"""Downloads: a short-lived link (`POST /documents/{id}/download-link`)
served at `GET /downloads/{token}` (and `/d/{token}` for browsers), the file
streamed from the service as it comes, Range requests included."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import grpc
from fastapi import Request, Response, status
from starlette.responses import StreamingResponse

from gateway import files, ranges
from gateway.api.documents.common import D, download_router, router
from gateway.api.documents.shapes import DownloadLink, LinkRequest
from gateway.backends import DocumentsRemote, RemoteError
from gateway.deps import (
    CallerDep,
    DocumentsDep,
    DownloaderDep,
    SettingsDep,
    TenantDep,
)
from gateway.problems import Problem, ProblemError, problem_type
from services.chassis.auth import Principal
from services.chassis.telemetry import get_logger

log = get_logger(__name__)


async def create_link(
    documents: DocumentsRemote,
    principal: Principal,
    *,
    secret: bytes,
    tenant_id: str,
    document_id: str,
    version_id: str = "",
) -> str:
    """A sealed download link (the token part of /d/<token>) for the document.
    Documents refuses a client what they may not see, old versions included."""
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
        headers={"Content-Range": ranges.unsatisfied_content_range(size), "Accept-Ranges": "bytes"},
    )


async def exactly(first: Any, rest: AsyncIterator[Any], length: int) -> AsyncIterator[bytes]:
    """The stream's bytes, never more than the Content-Length already sent:
    a longer body makes the server drop the connection mid-file, which is how
    `bytes=0-0` used to fail. A short stream cannot be mended once the headers
    are out; it is logged, and the client sees a short body."""

    async def messages() -> AsyncIterator[Any]:
        if first is not None:
            yield first
        async for message in rest:
            yield message

    left = length
    try:
        async for piece in messages():
            data = piece.data[:left]
            if data:
                left -= len(data)
                yield data
            if len(data) < len(piece.data):
                log.error("blob stream longer than declared", declared=length)
                break
        if left:
            log.error("blob stream shorter than declared", missing=left)
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


async def serve_download(
    request: Request,
    token: str,
    *,
    documents: DocumentsRemote,
    principal: Principal,
    secret: bytes,
    tenant_id: str,
) -> Response:
    """The file (or one byte range of it, ranges.py), streamed from the service
    as it comes; HEAD answers the same headers after the same checks."""
    link = files.open_link(secret, token, tenant_id=tenant_id, now=time.time())
    if link is None:
        raise link_refused()
    try:
        wanted = ranges.parse_range(
            request.headers.get("range"), link.size, if_range=request.headers.get("if-range")
        )
    except ranges.RangeNotSatisfiable:
        raise not_satisfiable(link.size) from None
    read = D.ReadBlobRequest(token=link.token)
    if wanted is not None:
        read.has_range, read.offset, read.length = True, wanted.offset, wanted.length
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
    length = wanted.length if wanted else link.size
    headers = {
        "Content-Disposition": files.content_disposition(link.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "Content-Length": str(length),
    }
    if wanted is not None:
        headers["Content-Range"] = wanted.content_range(link.size)
    code = status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK
    media_type = files.safe_media_type(link.content_type)
    if request.method == "HEAD":
        # The service has checked the link and the holder's access; no bytes.
        await rest.aclose()  # type: ignore[attr-defined]
        return Response(status_code=code, media_type=media_type, headers=headers)
    return StreamingResponse(
        exactly(first, rest, length),
        status_code=code,
        media_type=media_type,
        headers=headers,
    )


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
    description="Streams the file (HEAD: the same headers, no body). One `Range` "
    "(`bytes=a-b`, `bytes=a-`, `bytes=-n`) answers 206 with exactly those bytes; "
    "one starting past the end answers 416 with `Content-Range: bytes */size`; "
    "several ranges, an `If-Range` or a header that does not parse get the whole file.",
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


# HEAD: the same handler (it sends no body for HEAD), kept out of the schema so
# the GET stays the one documented operation.
download_router.add_api_route(
    "/downloads/{token}", download, methods=["HEAD"], include_in_schema=False
)
