"""An in-process stand-in for documents, for the gateway tests: a guide the
client sees and a schematic they do not, uploads recorded chunk by chunk,
links and blob reads recorded.

It shows each caller what documents shows them (a client: client-visible, not
deleted, current version only, anything else NOT_FOUND), and refuses with
documents' DomainErrors; tests/contracts/test_documents_fake.py sends the same
requests to it and to the real service."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.documents.v1 import documents_pb2, documents_pb2_grpc

from services.chassis import errors
from services.chassis.auth import Principal, current_principal
from services.documents.domain import FileTooLarge, ProjectUnknown, byte_window, not_found
from tests.gateway import project_fakes as F

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
    limit: int = 1 << 30

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
                header = chunk.header
                if header.declared_size > self.limit:
                    # No word of size in it: the gateway goes by the code alone.
                    raise FileTooLarge("Over this portal's limit of 1 KB.", field="declared_size")
            else:
                sizes.append(len(chunk.data))
                data.extend(chunk.data)
        assert header is not None
        self.uploads.append((header, bytes(data), sizes, current_principal()))
        doc = document(
            header.document_id or GUIDE_ID,
            header.title or "Updated",
            visible=header.client_visible,
            filename=header.filename,
        )
        return D.UploadDocumentResponse(document=doc)

    async def UploadDocument(self, request_iterator, context):
        return await self._upload(request_iterator, context)

    async def UploadVersion(self, request_iterator, context):
        return await self._upload(request_iterator, context)
