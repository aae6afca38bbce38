"""DocumentsService over gRPC: translate, call the service layer, translate back.

The chassis interceptor authenticates unary calls only; the three streaming
RPCs (two uploads, ReadBlob) authenticate and map errors here, the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from portal.common.v1 import common_pb2
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis import errors, fieldmask
from services.chassis.auth import Principal, PrincipalVerifier, current_principal
from services.chassis.grpc_server import ERROR_DETAIL_KEY, status_for
from services.chassis.telemetry import get_logger
from services.documents import service
from services.documents.grpc_api.convert import document_pb, folder_pb, ts
from services.documents.service import Vault
from services.documents.service.library import DOCUMENT_FIELDS

__all__ = ["DocumentsServicer"]

log = get_logger(__name__)
T = TypeVar("T")
READ_PIECE = 64 * 1024


async def _abort(context: grpc.aio.ServicerContext, exc: errors.DomainError) -> None:
    detail = common_pb2.ErrorDetail(code=exc.code, message=exc.message)
    if exc.field:
        detail.field_violations.add(field=exc.field, description=exc.message)
    context.set_trailing_metadata(((ERROR_DETAIL_KEY, detail.SerializeToString()),))
    await context.abort(status_for(exc), exc.message)


async def _guarded(context: grpc.aio.ServicerContext, call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except errors.DomainError as exc:
        await _abort(context, exc)
        raise AssertionError("unreachable") from exc
    except grpc.aio.AbortError:
        raise
    except Exception:
        log.exception("unhandled error in streaming rpc")
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise


class DocumentsServicer(documents_pb2_grpc.DocumentsServiceServicer):
    def __init__(self, sessions: Any, vault: Vault, verifier: PrincipalVerifier) -> None:
        self._sessions = sessions
        self._vault = vault
        self._verifier = verifier

    def _stream_principal(self, context: grpc.aio.ServicerContext) -> Principal | None:
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
                return self._verifier.verify(value.removeprefix("Bearer "))
        return None

    # --- folders -----------------------------------------------------------------

    async def ListFolders(self, request, context):
        folders = await service.list_folders(
            sessions=self._sessions, principal=current_principal(), project_id=request.project_id
        )
        return pb.ListFoldersResponse(folders=[folder_pb(f) for f in folders])

    async def CreateFolder(self, request, context):
        folder = await service.create_folder(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            name=request.name,
        )
        return pb.CreateFolderResponse(folder=folder_pb(folder))

    # --- documents ---------------------------------------------------------------

    async def ListDocuments(self, request, context):
        docs = await service.list_documents(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            folder_id=request.folder_id,
            query=request.query,
            include_deleted=request.include_deleted,
        )
        return pb.ListDocumentsResponse(documents=[document_pb(d) for d in docs])

    async def GetUploadLimit(self, request, context):
        limit = await service.get_upload_limit(
            sessions=self._sessions, vault=self._vault, principal=current_principal()
        )
        return pb.GetUploadLimitResponse(
            max_upload_bytes=limit, ceiling_bytes=self._vault.max_upload_bytes
        )

    async def SetUploadLimit(self, request, context):
        limit = await service.set_upload_limit(
            sessions=self._sessions,
            vault=self._vault,
            principal=current_principal(),
            max_upload_bytes=request.max_upload_bytes,
        )
        return pb.SetUploadLimitResponse(
            max_upload_bytes=limit, ceiling_bytes=self._vault.max_upload_bytes
        )

    async def GetDocument(self, request, context):
        doc = await service.get_document(
            sessions=self._sessions, principal=current_principal(), document_id=request.document_id
        )
        return pb.GetDocumentResponse(document=document_pb(doc))

    async def UpdateDocument(self, request, context):
        doc = await service.update_document(
            sessions=self._sessions,
            principal=current_principal(),
            document_id=request.document_id,
            changes=fieldmask.changes(request, allowed=DOCUMENT_FIELDS),
        )
        return pb.UpdateDocumentResponse(document=document_pb(doc))

    async def SetVisibility(self, request, context):
        doc = await service.set_visibility(
            sessions=self._sessions,
            principal=current_principal(),
            document_id=request.document_id,
            client_visible=request.client_visible,
        )
        return pb.SetVisibilityResponse(document=document_pb(doc))

    async def DeleteDocument(self, request, context):
        doc = await service.delete_document(
            sessions=self._sessions, principal=current_principal(), document_id=request.document_id
        )
        return pb.DeleteDocumentResponse(document=document_pb(doc))

    async def RestoreDocument(self, request, context):
        doc = await service.restore_document(
            sessions=self._sessions, principal=current_principal(), document_id=request.document_id
        )
        return pb.RestoreDocumentResponse(document=document_pb(doc))

    # --- uploads (client streams) ------------------------------------------------

    async def _upload(self, request_iterator, context, *, new_version: bool):
        async def call() -> pb.UploadDocumentResponse:
            principal = self._stream_principal(context)
            if principal is None:
                raise errors.Unauthenticated("no principal token")
            stream = request_iterator.__aiter__()
            try:
                first = await stream.__anext__()
            except StopAsyncIteration:
                raise errors.InvalidArgument("the upload sent nothing") from None
            if first.WhichOneof("part") != "header":
                raise errors.InvalidArgument("the first message must be the header", field="header")
            h = first.header

            async def data() -> AsyncIterator[bytes]:
                async for chunk in stream:
                    if chunk.WhichOneof("part") != "data":
                        raise errors.InvalidArgument("only the first message may be a header")
                    if chunk.data:
                        yield chunk.data

            doc = await service.upload(
                sessions=self._sessions,
                vault=self._vault,
                principal=principal,
                header=service.UploadHeader(
                    request_id=h.request_id,
                    project_id=h.project_id,
                    folder_id=h.folder_id,
                    document_id=h.document_id,
                    title=h.title,
                    description=h.description,
                    filename=h.filename,
                    client_visible=h.client_visible,
                    declared_size=h.declared_size,
                ),
                chunks=data(),
                new_version=new_version,
            )
            return pb.UploadDocumentResponse(document=document_pb(doc))

        return await _guarded(context, call)

    async def UploadDocument(self, request_iterator, context):
        return await self._upload(request_iterator, context, new_version=False)

    async def UploadVersion(self, request_iterator, context):
        return await self._upload(request_iterator, context, new_version=True)

    # --- links and bytes ---------------------------------------------------------

    async def CreateDownloadLink(self, request, context):
        link = await service.create_download_link(
            sessions=self._sessions,
            vault=self._vault,
            principal=current_principal(),
            document_id=request.document_id,
            version_id=request.version_id,
        )
        return pb.CreateDownloadLinkResponse(
            token=link.token,
            expires_at=ts(link.expires_at),
            filename=link.filename,
            content_type=link.content_type,
            size_bytes=link.size_bytes,
        )

    async def ReadBlob(self, request, context):
        """The link token is the authority (the gateway may serve it without a
        session); a principal, if sent, must be of the token's tenant."""

        async def open_blob() -> service.OpenBlob:
            principal = self._stream_principal(context)
            blob = await service.read_blob(
                sessions=self._sessions,
                vault=self._vault,
                token=request.token,
                range_start=request.range_start,
                range_end=request.range_end,
                has_range=request.has_range,
            )
            if principal is not None and principal.tenant_id != str(blob.version.tenant_id):
                raise errors.PermissionDenied("this link belongs to another integrator")
            return blob

        # An async generator: the telemetry interceptor iterates server streams.
        blob = await _guarded(context, open_blob)
        try:
            async for piece in blob.chunks:
                for i in range(0, len(piece), READ_PIECE):
                    yield pb.ReadBlobChunk(data=piece[i : i + READ_PIECE])
        except Exception:
            log.exception("reading a blob failed", blob_id=blob.version.blob_id)
            await context.abort(grpc.StatusCode.DATA_LOSS, "the stored file cannot be read")
