"""Filing a generated PDF in a project's documents, over documents' streaming
contract: the one way a service (projects' signed proposals, payments'
invoices and receipts, changeorders' certificates) stores a file it made.

A service declares only what is its own, a `Filing`: the folder, whether the
folder is made when missing, and whether the client sees the file. The
upload's request id is the caller's (derived from the thing filed), so a
redelivered event files nothing more.

`Caller` takes any awaitable method and answers `Any`, and the generated stub's
methods are untyped here (grpc has no stubs installed); the three typed
functions at the bottom are the only place each answer is given its type.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from portal.documents.v1 import documents_pb2 as dpb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.errors import InvalidArgument, NotFound, PermissionDenied
from services.chassis.grpc_client import Caller
from services.chassis.runtime import Remote

CHUNK = 64 * 1024
UPLOAD_TIMEOUT = 30.0
# What documents answers when retrying a filing cannot help (a NotFound names a
# project documents has deleted; one it has not heard of yet is
# FAILED_PRECONDITION, which a consumer retries): the filer logs these and
# leaves the file unfiled rather than dead-lettering the event that made it.
FINAL_REFUSALS = (InvalidArgument, NotFound, PermissionDenied)


class DocumentArchive(Protocol):
    """What a use case that files a PDF needs: `DocumentsFiler`, or a test's."""

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
    ) -> None: ...


@dataclass(frozen=True)
class Filing:
    """What a service owns about where its files go."""

    service: str  # the principal's subject: who documents sees filing
    folder: str
    # Set: the folder is made once per project, its request id derived from
    # this namespace and the project. None: an absent folder files at the top.
    folder_namespace: uuid.UUID | None = None
    client_visible: bool = True


class DocumentsFiler:
    def __init__(self, documents: Remote, filing: Filing) -> None:
        self.filing = filing
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
        """Files `data` under the service's folder; the request id makes a retry a no-op."""
        me = Principal(kind="service", subject=self.filing.service, tenant_id=tenant_id)
        header = dpb.UploadHeader(
            request_id=request_id,
            project_id=project_id,
            folder_id=await self._folder(me, project_id),
            title=title,
            description=description,
            filename=filename,
            client_visible=self.filing.client_visible,
            declared_size=len(data),
        )
        await _upload(self._call, self._stub, chunks(header, data), me)

    async def _folder(self, me: Principal, project_id: str) -> str:
        """The service's folder, made once per project when it may be; a folder
        someone named so by hand is used as it is.

        Asked to be made first: documents answers a CreateFolder whose request id
        made a folder with that folder (renamed or not), so one call finds or
        makes it; listing first cost a second round trip for each project's first
        file (every approval's certificate, issue 12). Only a folder of that name
        made by hand refuses it: then the list names it."""
        namespace = self.filing.folder_namespace
        if namespace is not None:
            request = dpb.CreateFolderRequest(
                request_id=str(uuid.uuid5(namespace, project_id)),
                project_id=project_id,
                name=self.filing.folder,
            )
            try:
                return (await _create_folder(self._call, self._stub, request, me)).folder.id
            except InvalidArgument:  # the name is taken by a folder made by hand
                pass
        listed = await _list_folders(self._call, self._stub, project_id, me)
        return next((f.id for f in listed.folders if f.name == self.filing.folder), "")


def chunks(header: dpb.UploadHeader, data: bytes) -> Iterator[dpb.UploadChunk]:
    """The header first, then the bytes in CHUNK-sized pieces."""
    yield dpb.UploadChunk(header=header)
    for start in range(0, len(data), CHUNK):
        yield dpb.UploadChunk(data=data[start : start + CHUNK])


async def _list_folders(
    call: Caller, stub: documents_pb2_grpc.DocumentsServiceStub, project_id: str, me: Principal
) -> dpb.ListFoldersResponse:
    answer: dpb.ListFoldersResponse = await call(
        stub.ListFolders, dpb.ListFoldersRequest(project_id=project_id), me
    )
    return answer


async def _create_folder(
    call: Caller,
    stub: documents_pb2_grpc.DocumentsServiceStub,
    request: dpb.CreateFolderRequest,
    me: Principal,
) -> dpb.CreateFolderResponse:
    answer: dpb.CreateFolderResponse = await call(stub.CreateFolder, request, me)
    return answer


async def _upload(
    call: Caller,
    stub: documents_pb2_grpc.DocumentsServiceStub,
    requests: Iterator[dpb.UploadChunk],
    me: Principal,
) -> dpb.UploadDocumentResponse:
    answer: dpb.UploadDocumentResponse = await call.upload(stub.UploadDocument, requests, me)
    return answer
