"""tests/gateway/document_fakes.FakeDocuments against the real documents
service: the calls the gateway tests make get the same refusals (status,
ErrorDetail code and field), the fake's answers set no field the real ones do
not, and neither gives a client a hidden document or an old version."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.documents.v1 import documents_pb2 as pb

from services.chassis.auth import Principal
from tests.contracts.sides import Refused, Side, agree, outcome
from tests.documents.conftest import Documents, Integrator
from tests.gateway import document_fakes as DF
from tests.gateway import project_fakes as F

NOT_FOUND = grpc.StatusCode.NOT_FOUND


@dataclass
class World:
    """A project with a folder, a client-visible guide in two versions and a
    hidden schematic."""

    side: Side | Documents
    project: str
    guide: str
    old_version: str
    schematic: str
    client: Principal
    staff: Principal
    stranger: Principal
    gateway: Principal

    async def __call__(self, method: str, request: Message, who: Principal) -> Any:
        return await self.side(method, request, who)

    async def read(self, token: str) -> list[Any]:
        request = pb.ReadBlobRequest(token=token)
        return [
            c async for c in self.side.caller.stream(self.side.stub.ReadBlob, request, self.gateway)
        ]


def _people(tenant: str, customer: str) -> dict[str, Principal]:
    def client(customer_id: str) -> Principal:
        return Principal(
            kind="client",
            subject=str(uuid.uuid4()),
            tenant_id=tenant,
            roles=frozenset({"approver"}),
            customer_id=customer_id,
        )

    return {
        "client": client(customer),
        "stranger": client(str(uuid.uuid4())),
        "staff": Principal(
            kind="staff", subject=F.STAFF_ID, tenant_id=tenant, roles=frozenset({"project_manager"})
        ),
        "gateway": Principal(kind="service", subject="gateway", tenant_id=tenant),
    }


def fake_world(side: Side) -> World:
    people = _people(str(uuid.uuid4()), F.CUSTOMER_ID)
    return World(side, F.PROJECT_ID, DF.GUIDE_ID, DF.GUIDE_ID[:-1] + "8", DF.SCHEMATIC_ID, **people)


async def real_world(acme: Integrator) -> World:
    project = await acme.project()
    folders = await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    folder = folders.folders[0].id
    guide = await acme.upload(project, client_visible=True, title="Guide", folder_id=folder)
    header = acme.header(project, "guide-v2.pdf", document_id=guide.id)
    guide = await acme.svc.upload(acme.pm, header, DF.GUIDE_BYTES, version=True)
    schematic = await acme.upload(project, title="Rack schematic", folder_id=folder)
    people = _people(acme.tenant_id, acme.customer_id)
    return World(acme.svc, project, guide.id, guide.versions[1].id, schematic.id, **people)


@dataclass(frozen=True)
class Case:
    name: str
    who: str
    method: str
    request: Callable[[World], Message]
    check: Callable[[Any, World], bool] | None = None
    refused: tuple[grpc.StatusCode, str, str] | None = None  # status, code, field


def _link(doc: str, version: str = "") -> Callable[[World], Message]:
    return lambda w: pb.CreateDownloadLinkRequest(
        document_id=getattr(w, doc), version_id=getattr(w, version) if version else ""
    )


def _list(w: World) -> Message:
    return pb.ListDocumentsRequest(project_id=w.project)


CASES = [
    Case(
        "a client's folders: only the one holding the guide",
        "client",
        "ListFolders",
        lambda w: pb.ListFoldersRequest(project_id=w.project),
        lambda a, w: len(a.folders) == 1,
    ),
    Case(
        "a client lists the visible guide, current version only",
        "client",
        "ListDocuments",
        _list,
        lambda a, w: [d.id for d in a.documents] == [w.guide] and not a.documents[0].versions,
    ),
    Case(
        "staff list both, with history",
        "staff",
        "ListDocuments",
        _list,
        lambda a, w: (
            {d.id for d in a.documents} == {w.guide, w.schematic}
            and all(d.versions for d in a.documents)
        ),
    ),
    Case(
        "a stranger lists",
        "stranger",
        "ListDocuments",
        _list,
        refused=(NOT_FOUND, "not_found", "project_id"),
    ),
    Case(
        "staff list an unknown project",
        "staff",
        "ListDocuments",
        lambda w: pb.ListDocumentsRequest(project_id=F.OTHER_PROJECT_ID),
        refused=(grpc.StatusCode.FAILED_PRECONDITION, "failed_precondition", "project_id"),
    ),
    Case(
        "a client opens the guide",
        "client",
        "GetDocument",
        lambda w: pb.GetDocumentRequest(document_id=w.guide),
        lambda a, w: a.document.current.number == 2 and not a.document.versions,
    ),
    Case(
        "a client names the hidden schematic",
        "client",
        "GetDocument",
        lambda w: pb.GetDocumentRequest(document_id=w.schematic),
        refused=(NOT_FOUND, "not_found", "document_id"),
    ),
    Case(
        "a client links the guide",
        "client",
        "CreateDownloadLink",
        _link("guide"),
        lambda a, w: bool(a.token),
    ),
    Case(
        "a client links the hidden schematic",
        "client",
        "CreateDownloadLink",
        _link("schematic"),
        refused=(NOT_FOUND, "not_found", "document_id"),
    ),
    Case(
        "a client links an old version",
        "client",
        "CreateDownloadLink",
        _link("guide", "old_version"),
        refused=(NOT_FOUND, "not_found", "version_id"),
    ),
    Case(
        "staff link an old version",
        "staff",
        "CreateDownloadLink",
        _link("guide", "old_version"),
        lambda a, w: bool(a.token),
    ),
    # The gateway asks it before reading an upload's body: may this caller upload, how much.
    Case(
        "staff ask the upload limit",
        "staff",
        "GetUploadLimit",
        lambda w: pb.GetUploadLimitRequest(),
        lambda a, w: 0 < a.max_upload_bytes <= a.ceiling_bytes,
    ),
    # A client's approver may attach photos to a visit they book.
    Case(
        "a client's approver asks the upload limit",
        "client",
        "GetUploadLimit",
        lambda w: pb.GetUploadLimitRequest(),
        lambda a, w: 0 < a.max_upload_bytes <= a.ceiling_bytes,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_the_fake_answers_as_documents_does(
    case: Case, fake_documents: Side, local_documents: Documents
) -> None:
    fake, real = fake_world(fake_documents), await real_world(Integrator(local_documents))
    got = []
    for w in (fake, real):
        answer = await outcome(w(case.method, case.request(w), getattr(w, case.who)))
        if case.refused:
            assert answer == Refused(*case.refused), (case.name, w.side, answer)
        else:
            assert not isinstance(answer, Refused), (case.name, w.side, answer)
            assert case.check is None or case.check(answer, w), (case.name, w.side, answer)
        got.append(answer)
    agree(got[0], got[1], case.name)


async def test_a_token_neither_issued_is_refused_alike(
    fake_documents: Side, local_documents: Documents
) -> None:
    fake, real = fake_world(fake_documents), await real_world(Integrator(local_documents))
    refusals = [await outcome(w.read("forged.token")) for w in (fake, real)]
    assert (
        refusals[0]
        == refusals[1]
        == Refused(grpc.StatusCode.UNAUTHENTICATED, "unauthenticated", "")
    )


async def test_a_second_header_ends_an_upload_refused_and_kept_by_neither(
    fake_documents: Side, local_documents: Documents
) -> None:
    """The gateway ends an upload it stops with a second header (gateway/api/
    documents/upload.py ABORT): both must refuse the stream and keep nothing."""
    fake, real = fake_world(fake_documents), await real_world(Integrator(local_documents))
    refusals = []
    for w in (fake, real):
        before = await w("ListDocuments", _list(w), w.staff)

        async def chunks(w: World = w) -> AsyncIterator[pb.UploadChunk]:
            yield pb.UploadChunk(
                header=pb.UploadHeader(
                    request_id=str(uuid.uuid4()), project_id=w.project, filename="cut.pdf"
                )
            )
            yield pb.UploadChunk(data=DF.GUIDE_BYTES)
            yield pb.UploadChunk(header=pb.UploadHeader())

        refusals.append(
            await outcome(w.side.caller.upload(w.side.stub.UploadDocument, chunks(), w.staff))
        )
        after = await w("ListDocuments", _list(w), w.staff)
        assert len(after.documents) == len(before.documents), w.side
    assert refusals[0] == refusals[1]
    assert refusals[0] == Refused(grpc.StatusCode.INVALID_ARGUMENT, "invalid_argument", "")
