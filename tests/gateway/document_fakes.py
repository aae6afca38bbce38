"""An in-process stand-in for documents, for the gateway tests: a guide the
client sees and a schematic they do not, uploads recorded chunk by chunk,
links and blob reads recorded.

It shows each caller what documents shows them (a client: client-visible, not
deleted, current version only, anything else NOT_FOUND), and refuses with
documents' DomainErrors; tests/contracts/test_documents_fake.py sends the same
requests to it and to the real service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from portal.documents.v1 import documents_pb2, documents_pb2_grpc

from gateway.app import create_app
from gateway.settings import GatewaySettings
from services.chassis import errors
from services.chassis.auth import Principal, current_principal
from services.documents.domain import FileTooLarge, ProjectUnknown, byte_window, not_found
from services.documents.grpc_api import DEADLINE_CEILINGS
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant
from tests.grpc_service import serve_fake, service_name

D = documents_pb2
GUIDE_ID = "a1b2c3d4-0000-4000-8000-000000000001"
SCHEMATIC_ID = "a1b2c3d4-0000-4000-8000-000000000002"
FOLDER_ID = "a1b2c3d4-0000-4000-8000-0000000000f1"
GUIDE_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


def document(doc_id: str, title: str, *, visible: bool, filename: str) -> documents_pb2.Document:
    doc = D.Document(
        id=doc_id,
        project_id=F.PROJECT_ID,
        folder_id=FOLDER_ID,
        title=title,
        client_visible=visible,
        current=D.DocumentVersion(
            id=doc_id[:-1] + "9",
            number=2,
            filename=filename,
            content_type="application/pdf",
            size_bytes=len(GUIDE_BYTES),
            uploaded_by=F.STAFF_ID,
        ),
    )
    doc.current.uploaded_at.FromSeconds(1_763_000_000)
    doc.versions.append(doc.current)
    doc.versions.append(D.DocumentVersion(id=doc_id[:-1] + "8", number=1, filename="old.pdf"))
    return doc


def client_may_see(doc: documents_pb2.Document) -> bool:
    return doc.client_visible and not doc.HasField("deleted_at")


def as_seen_by(who: Principal, doc: documents_pb2.Document) -> documents_pb2.Document:
    """A client gets the current version only, and no staff ids: as documents answers."""
    if not who.is_client:
        return doc
    shown = D.Document()
    shown.CopyFrom(doc)
    del shown.versions[:]
    shown.current.uploaded_by = ""
    shown.visibility_changed_by = ""
    shown.ClearField("visibility_changed_at")
    return shown


@dataclass
class FakeDocuments(documents_pb2_grpc.DocumentsServiceServicer):
    docs: list[documents_pb2.Document] = field(
        default_factory=lambda: [
            document(GUIDE_ID, "Handover guide", visible=True, filename="Guide \u2013 ü.pdf"),
            document(SCHEMATIC_ID, "Rack schematic", visible=False, filename="rack.pdf"),
        ]
    )
    uploads: list[tuple[D.UploadHeader, bytes, list[int], Principal]] = field(default_factory=list)
    reads: list[D.ReadBlobRequest] = field(default_factory=list)
    links: list[D.CreateDownloadLinkRequest] = field(default_factory=list)
    limit: int = 1 << 30  # what GetUploadLimit answers, and the declared size is held to
    ceiling: int = 1 << 30
    # What the stream is held to, if not `limit`: as when an owner lowers the
    # limit between the gateway's GetUploadLimit and the bytes arriving.
    enforced: int | None = None
    aborted: int = 0  # streams the gateway ended with a second header (its abort)

    @staticmethod
    def _project(project_id: str, who: Principal) -> None:
        """Only F.PROJECT_ID (of F.CUSTOMER_ID) is known, as after its created event."""
        if who.is_client:
            if project_id != F.PROJECT_ID or who.customer_id != F.CUSTOMER_ID:
                raise not_found("project")
        elif project_id != F.PROJECT_ID:
            raise ProjectUnknown()

    def _document(self, document_id: str, who: Principal) -> documents_pb2.Document:
        for doc in self.docs:
            if doc.id == document_id:
                if who.is_client and not (client_may_see(doc) and who.customer_id == F.CUSTOMER_ID):
                    break
                return doc
        raise not_found()

    async def ListFolders(self, request, context):
        who = current_principal()
        self._project(request.project_id, who)
        folders = [D.Folder(id=FOLDER_ID, project_id=F.PROJECT_ID, name="Handover")]
        if who.is_client:  # only folders holding something they may see
            folders = [
                f
                for f in folders
                if any(d.folder_id == f.id and client_may_see(d) for d in self.docs)
            ]
        return D.ListFoldersResponse(folders=folders)

    async def ListDocuments(self, request, context):
        who = current_principal()
        self._project(request.project_id, who)
        if who.is_client:
            found = [d for d in self.docs if client_may_see(d)]
        elif request.include_deleted:
            found = list(self.docs)
        else:
            found = [d for d in self.docs if not d.HasField("deleted_at")]
        return D.ListDocumentsResponse(documents=[as_seen_by(who, d) for d in found])

    async def GetDocument(self, request, context):
        who = current_principal()
        doc = self._document(request.document_id, who)
        return D.GetDocumentResponse(document=as_seen_by(who, doc))

    async def CreateDownloadLink(self, request, context):
        who = current_principal()
        doc = self._document(request.document_id, who)
        wanted = request.version_id or doc.current.id
        version = next((v for v in doc.versions if v.id == wanted), None)
        # Old versions are for staff only.
        if version is None or (who.is_client and version.number != doc.current.number):
            raise not_found("version")
        self.links.append(request)
        answer = D.CreateDownloadLinkResponse(
            token=f"tok-{request.document_id}",
            filename="Guide \u2013 ü.pdf",
            content_type="application/pdf",
            size_bytes=len(GUIDE_BYTES),
        )
        answer.expires_at.FromSeconds(4_000_000_000)
        return answer

    async def ReadBlob(self, request, context):
        self.reads.append(request)
        if not request.token.startswith("tok-"):
            raise errors.Unauthenticated("the download link is not valid: secret detail")
        start, stop = byte_window(
            request.offset, request.length, request.has_range, len(GUIDE_BYTES)
        )
        data = GUIDE_BYTES[start:stop]
        for i in range(0, len(data), 100):
            yield D.ReadBlobChunk(data=data[i : i + 100])

    async def _upload(self, request_iterator, context):
        header, data, sizes = None, bytearray(), []
        async for chunk in request_iterator:
            if chunk.WhichOneof("part") == "header":
                if header is not None:  # as documents: the header comes once, first
                    self.aborted += 1
                    raise errors.InvalidArgument("only the first message may be a header")
                header = chunk.header
                if header.declared_size > self.limit:
                    # No word of size in it: the gateway goes by the code alone.
                    raise FileTooLarge("Over this portal's limit of 1 KB.", field="declared_size")
            else:
                sizes.append(len(chunk.data))
                data.extend(chunk.data)
                if self.enforced is not None and len(data) > self.enforced:
                    raise FileTooLarge("Over this portal's limit of 1 KB.", field="data")
        assert header is not None
        self.uploads.append((header, bytes(data), sizes, current_principal()))
        doc = document(
            header.document_id or GUIDE_ID,
            header.title or "Updated",
            visible=header.client_visible,
            filename=header.filename,
        )
        return D.UploadDocumentResponse(document=doc)

    async def GetUploadLimit(self, request, context):
        who = current_principal()
        if who.is_client:  # an approver may attach photos to a visit
            who.require_approver("attach photos")
        else:
            who.require_staff()
        return D.GetUploadLimitResponse(max_upload_bytes=self.limit, ceiling_bytes=self.ceiling)

    async def UploadDocument(self, request_iterator, context):
        return await self._upload(request_iterator, context)

    async def UploadVersion(self, request_iterator, context):
        return await self._upload(request_iterator, context)


Services = tuple[F.Fakes, FakeDocuments, str]


@asynccontextmanager
async def serve_documents(public_key: str) -> AsyncIterator[Services]:
    """The documents fake (with documents' deadline ceilings), identity and projects."""
    fake = FakeDocuments()
    async with (
        serve_fake(
            lambda srv: documents_pb2_grpc.add_DocumentsServiceServicer_to_server(fake, srv),
            service_name(documents_pb2, "DocumentsService"),
            public_key,
            deadline_ceilings=DEADLINE_CEILINGS,
        ) as target,
        F.fake_services(public_key) as fakes,
    ):
        yield fakes, fake, target


@asynccontextmanager
async def gateway(
    settings: GatewaySettings, services: Services, session=None, *, documents: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process against the fakes, signed in with `session`
    (default: Jane's) and with the staff API token `good-token` accepted."""
    fakes, _, target = services
    fakes.identity.session = session if session is not None else F.client_session()
    fakes.identity.staff_token_user = F.IP.StaffUser(id=F.STAFF_ID, roles=[F.IP.STAFF_ROLE_OWNER])
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
                "documents_target": target if documents else "",
            }
        )
    )
    async with client_with_tenant(
        app, acme(), cookies={"portal_session": "good-session"}
    ) as client:
        yield client
