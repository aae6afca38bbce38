"""Projects files the signed copy of a proposal in the project's documents,
over documents' streaming contract, as any other service would."""

from __future__ import annotations

from collections.abc import Iterator

from portal.documents.v1 import documents_pb2 as dpb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller
from services.chassis.runtime import Remote

CHUNK = 64 * 1024
FOLDER = "Proposals"
UPLOAD_TIMEOUT = 30.0


class DocumentsClient:
    def __init__(self, documents: Remote) -> None:
        self._stub = documents_pb2_grpc.DocumentsServiceStub(documents.channel)
        # Refusals come back as the DomainError documents raised (its code kept).
        self._call = Caller(documents.signer, stream_timeout=UPLOAD_TIMEOUT, domain_errors=True)

    async def store_signed_copy(
        self,
        *,
        tenant_id: str,
        project_id: str,
        title: str,
        filename: str,
        data: bytes,
        request_id: str,
    ) -> None:
        """Client-visible, in the Proposals folder; the request id makes a retry a no-op."""
        me = Principal(kind="service", subject="projects", tenant_id=tenant_id)
        folders = await self._call(
            self._stub.ListFolders, dpb.ListFoldersRequest(project_id=project_id), me
        )
        folder_id = next((f.id for f in folders.folders if f.name == FOLDER), "")
        header = dpb.UploadHeader(
            request_id=request_id,
            project_id=project_id,
            folder_id=folder_id,
            title=title,
            description="Signed by the client in the portal; the signature record is on the "
            "last page.",
            filename=filename,
            client_visible=True,
            declared_size=len(data),
        )
        await self._call.upload(self._stub.UploadDocument, _chunks(header, data), me)


def _chunks(header: dpb.UploadHeader, data: bytes) -> Iterator[dpb.UploadChunk]:
    yield dpb.UploadChunk(header=header)
    for start in range(0, len(data), CHUNK):
        yield dpb.UploadChunk(data=data[start : start + CHUNK])
