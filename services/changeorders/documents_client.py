"""Changeorders files an approved order's certificate in the project's
documents, over documents' streaming contract, as projects files the signed
proposal and payments its invoices."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from portal.documents.v1 import documents_pb2 as dpb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.errors import InvalidArgument
from services.chassis.grpc_client import Caller
from services.chassis.runtime import Remote

CHUNK = 64 * 1024
FOLDER = "Change orders"
FOLDER_NS = uuid.UUID("5a0e7c3b-2d91-4f48-b6e2-8c1d4a9f0e37")
UPLOAD_TIMEOUT = 30.0


class DocumentsClient:
    def __init__(self, documents: Remote) -> None:
        self._stub = documents_pb2_grpc.DocumentsServiceStub(documents.channel)
        # Refusals come back as the DomainError documents raised (its code kept).
        self._call = Caller(documents.signer, stream_timeout=UPLOAD_TIMEOUT, domain_errors=True)

    async def file(
        self,
        *,
        tenant_id: str,
        project_id: str,
        title: str,
        description: str,
        filename: str,
        data: bytes,
        request_id: str,
    ) -> None:
        """Client-visible, in the project's Change orders folder; the request id
        makes a second delivery a no-op."""
        me = Principal(kind="service", subject="changeorders", tenant_id=tenant_id)
        header = dpb.UploadHeader(
            request_id=request_id,
            project_id=project_id,
            folder_id=await self._folder(me, project_id),
            title=title,
            description=description,
            filename=filename,
            client_visible=True,
            declared_size=len(data),
        )
        await self._call.upload(self._stub.UploadDocument, _chunks(header, data), me)

    async def _folder(self, me: Principal, project_id: str) -> str:
        """The Change orders folder, made once per project (its request id is the
        project's); a folder someone named so by hand is used as it is."""
        for attempt in range(2):
            folders = await self._call(
                self._stub.ListFolders, dpb.ListFoldersRequest(project_id=project_id), me
            )
            found = next((f.id for f in folders.folders if f.name == FOLDER), "")
            if found or attempt:
                return found
            try:
                made = await self._call(
                    self._stub.CreateFolder,
                    dpb.CreateFolderRequest(
                        request_id=str(uuid.uuid5(FOLDER_NS, project_id)),
                        project_id=project_id,
                        name=FOLDER,
                    ),
                    me,
                )
                return made.folder.id
            except InvalidArgument:  # made meanwhile by hand: list again
                continue
        return ""


def _chunks(header: dpb.UploadHeader, data: bytes) -> Iterator[dpb.UploadChunk]:
    yield dpb.UploadChunk(header=header)
    for start in range(0, len(data), CHUNK):
        yield dpb.UploadChunk(data=data[start : start + CHUNK])
