"""DocumentsService over gRPC: translate, call the service layer, translate back.

The chassis interceptor verifies the principal, the deadline (uploads and
ReadBlob may run longer: DEADLINE_CEILINGS) and maps domain errors, for the
streaming RPCs as for the unary ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis import errors, fieldmask
from services.chassis.auth import current_principal
from services.chassis.telemetry import get_logger
from services.documents import service
from services.documents.grpc_api.convert import document_pb, folder_pb, ts
from services.documents.service import Vault
from services.documents.service.library import DOCUMENT_FIELDS

__all__ = ["DEADLINE_CEILINGS", "DocumentsServicer"]

log = get_logger(__name__)
READ_PIECE = 64 * 1024
_SERVICE = "/" + pb.DESCRIPTOR.services_by_name["DocumentsService"].full_name
# Large files take longer than the chassis' 60 s: the calls that move bytes
# may carry a deadline of up to 15 minutes.
DEADLINE_CEILINGS = {
    f"{_SERVICE}/{method}": 900.0 for method in ("UploadDocument", "UploadVersion", "ReadBlob")
}


class DocumentsServicer(documents_pb2_grpc.DocumentsServiceServicer):
    def __init__(self, sessions: Any, vault: Vault) -> None:
        self._sessions = sessions
        self._vault = vault

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
            principal=current_principal(),
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
        """The link token is the authority (the gateway serves it to whoever
        holds it, as itself when nobody is signed in); the principal must be
        of the token's tenant."""
        principal = current_principal()
        blob = await service.read_blob(
            sessions=self._sessions,
            vault=self._vault,
            principal=principal,
            token=request.token,
            offset=request.offset,
            length=request.length,
            has_range=request.has_range,
        )
        if principal.tenant_id != str(blob.version.tenant_id):
            raise errors.PermissionDenied("this link belongs to another integrator")
        try:
            async for piece in blob.chunks:
                for i in range(0, len(piece), READ_PIECE):
                    yield pb.ReadBlobChunk(data=piece[i : i + READ_PIECE])
        except errors.DomainError:
            raise
        except Exception:
            # Stored bytes that no longer decrypt are lost data, not a bug here.
            log.exception("reading a blob failed", blob_id=blob.version.blob_id)
            await context.abort(grpc.StatusCode.DATA_LOSS, "the stored file cannot be read")
