"""Through gRPC, on both blob stores: uploads, versions, visibility and
ownership, links and byte ranges."""

from __future__ import annotations

import hashlib
import uuid

import grpc
from google.protobuf.field_mask_pb2 import FieldMask
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import events_pb2
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED
from sqlalchemy import text

from services.chassis.db import UnitOfWork
from services.documents import domain
from services.documents.blobstore import LocalBlobStore
from tests.documents.conftest import LIMIT, PDF, Integrator, random_pdf

NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
UNAUTH = grpc.StatusCode.UNAUTHENTICATED


async def test_upload_streams_in_and_downloads_the_same_bytes(acme: Integrator) -> None:
    project = await acme.project()
    data = random_pdf(300_000)
    doc = await acme.upload(project, data, title="Signed proposal")
    assert doc.current.number == 1
    assert doc.current.size_bytes == len(data)
    assert doc.current.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.current.content_type == "application/pdf"
    link = await acme.link(doc.id, acme.technician)
    assert (link.filename, link.size_bytes) == ("proposal.pdf", len(data))
    assert await acme.read(link.token) == data


async def test_range_reads_return_exactly_the_range(acme: Integrator) -> None:
    project = await acme.project()
    data = random_pdf(200_000)
    doc = await acme.upload(project, data)
    token = (await acme.link(doc.id, acme.pm)).token
    assert await acme.read(token, offset=65_530, length=16, has_range=True) == data[65_530:65_546]
    assert await acme.read(token, offset=199_990, length=10, has_range=True) == data[199_990:]
    err = None
    try:
        await acme.read(token, offset=500_000, length=10, has_range=True)
    except grpc.aio.AioRpcError as exc:
        err = exc
    assert err is not None and err.code() == grpc.StatusCode.OUT_OF_RANGE


async def test_a_project_comes_with_the_default_folders(acme: Integrator) -> None:
    """Made with our copy of the project (listing them only reads)."""
    project = await acme.project()
    folders = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    assert [f.name for f in folders] == ["Proposals", "Schematics", "Handover", "Manuals"]
    again = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    assert [f.id for f in again] == [f.id for f in folders]


async def test_versions_keep_history_and_clients_see_only_the_current_one(acme: Integrator) -> None:
    project = await acme.project()
    v1 = random_pdf(1000)
    v2 = random_pdf(2000)
    doc = await acme.upload(project, v1, client_visible=True)
    header = acme.header(project, "proposal-v2.pdf", document_id=doc.id)
    doc = await acme.svc.upload(acme.pm, header, v2, version=True)
    assert doc.current.number == 2
    assert [v.number for v in doc.versions] == [2, 1]

    client = acme.client()
    seen = (
        await acme.svc("GetDocument", pb.GetDocumentRequest(document_id=doc.id), client)
    ).document
    assert seen.current.number == 2 and len(seen.versions) == 0
    assert await acme.read((await acme.link(doc.id, client)).token) == v2
    old = doc.versions[1].id
    await acme.svc.fails(
        NOT_FOUND,
        "CreateDownloadLink",
        pb.CreateDownloadLinkRequest(document_id=doc.id, version_id=old),
        client,
    )
    assert await acme.read((await acme.link(doc.id, acme.technician, old)).token) == v1


async def test_clients_see_only_visible_documents_of_their_own_projects(acme: Integrator) -> None:
    mine = await acme.project()
    theirs = await acme.project(customer_id=str(uuid.uuid4()))
    shown = await acme.upload(mine, client_visible=True, title="Handover pack")
    hidden = await acme.upload(mine, title="Internal costing")
    other = await acme.upload(theirs, client_visible=True)
    client = acme.client()

    listed = (
        await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=mine), client)
    ).documents
    assert [d.id for d in listed] == [shown.id]
    for doc_id in (hidden.id, other.id):
        await acme.svc.fails(
            NOT_FOUND, "GetDocument", pb.GetDocumentRequest(document_id=doc_id), client
        )
        await acme.svc.fails(
            NOT_FOUND,
            "CreateDownloadLink",
            pb.CreateDownloadLinkRequest(document_id=doc_id),
            client,
        )
    await acme.svc.fails(
        NOT_FOUND, "ListDocuments", pb.ListDocumentsRequest(project_id=theirs), client
    )
    staff = (
        await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=mine), acme.technician)
    ).documents
    assert {d.id for d in staff} == {shown.id, hidden.id}


async def test_a_closed_portal_shows_the_client_nothing_and_staff_everything(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    shared = await acme.upload(project, client_visible=True)
    client = acme.client()
    await acme.change_access(ACCESS_STATE_ARCHIVED)  # read-only, still open
    await acme.svc("GetDocument", pb.GetDocumentRequest(document_id=shared.id), client)
    await acme.change_access(ACCESS_STATE_DELETED)
    for method, request in (
        ("ListDocuments", pb.ListDocumentsRequest(project_id=project)),
        ("ListFolders", pb.ListFoldersRequest(project_id=project)),
        # Closed comes first, even for a project that does not exist.
        ("ListFolders", pb.ListFoldersRequest(project_id=str(uuid.uuid4()))),
        ("GetDocument", pb.GetDocumentRequest(document_id=shared.id)),
        ("CreateDownloadLink", pb.CreateDownloadLinkRequest(document_id=shared.id)),
    ):
        err = await acme.svc.fails(DENIED, method, request, client)
        assert "closed" in err.details()
    staff = await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), acme.pm)
    assert [d.id for d in staff.documents] == [shared.id]


async def test_another_tenant_sees_nothing(acme: Integrator) -> None:
    project = await acme.project()
    doc = await acme.upload(project, client_visible=True)
    stranger = Integrator(acme.svc)
    await acme.svc.fails(
        NOT_FOUND, "GetDocument", pb.GetDocumentRequest(document_id=doc.id), stranger.pm
    )
    await acme.svc.fails(
        NOT_FOUND,
        "GetDocument",
        pb.GetDocumentRequest(document_id=doc.id),
        stranger.client(acme.customer_id),
    )


async def test_an_unknown_project_is_not_found_for_clients_and_refused_for_staff(
    acme: Integrator,
) -> None:
    unknown = "00000000-0000-4000-8000-00000000abcd"
    await acme.svc.fails(
        NOT_FOUND, "ListDocuments", pb.ListDocumentsRequest(project_id=unknown), acme.client()
    )
    err = await acme.svc.upload_fails(PRECONDITION, acme.pm, acme.header(unknown), PDF)
    assert "not known to documents yet" in (err.details() or "")


async def test_only_project_managers_and_services_change_documents(acme: Integrator) -> None:
    project = await acme.project()
    await acme.svc.upload_fails(DENIED, acme.technician, acme.header(project), PDF)
    # A client's approver attaches only photos (to a visit), never a document.
    err = await acme.svc.upload_fails(INVALID, acme.client(), acme.header(project), PDF)
    assert "only photos" in (err.details() or "")
    generated = await acme.svc.upload(acme.service, acme.header(project, "signed.pdf"), PDF)
    assert generated.current.uploaded_by == "projects"
    await acme.svc.fails(
        DENIED,
        "SetVisibility",
        pb.SetVisibilityRequest(document_id=generated.id, client_visible=True),
        acme.technician,
    )


async def test_sharing_is_audited_and_published_once(acme: Integrator) -> None:
    project = await acme.project(name="Smith residence")
    doc = await acme.upload(project)
    pm = acme.pm
    request = pb.SetVisibilityRequest(document_id=doc.id, client_visible=True)
    shared = (await acme.svc("SetVisibility", request, pm)).document
    await acme.svc("SetVisibility", request, pm)  # no change, no second event
    assert shared.client_visible and shared.visibility_changed_by == pm.subject
    assert shared.HasField("visibility_changed_at")
    events = await acme.svc.events(acme.tenant_id, events_pb2.DocumentShared)
    assert [(e.document_id, e.customer_id, e.project_name) for e in events] == [
        (doc.id, acme.customer_id, "Smith residence")
    ]


async def test_soft_delete_hides_from_clients_and_restore_brings_it_back(acme: Integrator) -> None:
    project = await acme.project()
    doc = await acme.upload(project, client_visible=True)
    client = acme.client()
    link = await acme.link(doc.id, client)
    await acme.svc("DeleteDocument", pb.DeleteDocumentRequest(document_id=doc.id), acme.pm)
    await acme.svc.fails(
        NOT_FOUND, "GetDocument", pb.GetDocumentRequest(document_id=doc.id), client
    )
    try:
        await acme.read(link.token)
        raise AssertionError("a link to a deleted document still read")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == NOT_FOUND
    staff_list = await acme.svc(
        "ListDocuments", pb.ListDocumentsRequest(project_id=project, include_deleted=True), acme.pm
    )
    assert [d.id for d in staff_list.documents] == [doc.id]
    await acme.svc("RestoreDocument", pb.RestoreDocumentRequest(document_id=doc.id), acme.pm)
    assert await acme.read(link.token) == PDF


async def test_forged_and_expired_links_are_refused(acme: Integrator) -> None:
    project = await acme.project()
    doc = await acme.upload(project)
    token = (await acme.link(doc.id, acme.pm)).token
    body, mac = token.split(".")
    forged = domain.sign_link(
        domain.LinkClaims(doc.id, doc.current.id, acme.tenant_id, "x", "staff", "", 2**40),
        b"not-the-secret-not-the-secret-00",
    )
    expired = domain.sign_link(
        domain.LinkClaims(doc.id, doc.current.id, acme.tenant_id, "x", "staff", "", 1_000),
        acme.svc.vault.link_secret,
    )
    for bad in (forged, expired, f"{body}.{mac[:-2]}AA", "nonsense"):
        try:
            await acme.read(bad)
            raise AssertionError(f"{bad} was accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == UNAUTH, exc.details()


async def test_upload_type_checks(acme: Integrator) -> None:
    project = await acme.project()
    pm = acme.pm
    cases = [
        ("invoice.pdf.exe", PDF),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100),
        ("plan.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        ("plan.pdf", b""),
        ("notes.txt", b"MZ\x00\x00binary"),
    ]
    for filename, data in cases:
        await acme.svc.upload_fails(INVALID, pm, acme.header(project, filename), data)
    ok = await acme.svc.upload(
        pm, acme.header(project, "../../wiring notes.txt"), "Caf\u00e9 rack\n".encode()
    )
    assert ok.current.filename == "wiring notes.txt"
    assert ok.current.content_type.startswith("text/plain")


async def test_upload_size_limit_refuses_declared_and_streamed_sizes(acme: Integrator) -> None:
    project = await acme.project()
    limit = acme.svc.vault.max_upload_bytes
    err = await acme.svc.upload_fails(
        INVALID, acme.pm, acme.header(project, declared_size=limit + 1), PDF
    )
    assert "larger than the 1 MB limit" in (err.details() or "")
    err = await acme.svc.upload_fails(INVALID, acme.pm, acme.header(project), random_pdf(limit + 1))
    assert "larger than" in (err.details() or "")
    assert (await acme.upload(project, random_pdf(limit))).current.size_bytes == limit


async def test_a_retried_upload_answers_with_the_first_document(acme: Integrator) -> None:
    project = await acme.project()
    header = acme.header(project)
    first = await acme.svc.upload(acme.pm, header, PDF)
    again = await acme.svc.upload(acme.pm, header, PDF)
    assert again.id == first.id
    listed = (
        await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), acme.pm)
    ).documents
    assert len(listed) == 1


async def test_an_upload_that_differs_from_its_declared_size_is_refused(acme: Integrator) -> None:
    project = await acme.project()
    err = await acme.svc.upload_fails(
        INVALID, acme.pm, acme.header(project, declared_size=len(PDF) + 1), PDF
    )
    assert "declared" in (err.details() or "")
    ok = await acme.svc.upload(acme.pm, acme.header(project, declared_size=len(PDF)), PDF)
    assert ok.current.size_bytes == len(PDF)


async def test_a_refused_upload_leaves_no_blob_behind(local_acme: Integrator) -> None:
    project = await local_acme.project()
    store = local_acme.svc.vault.store
    assert isinstance(store, LocalBlobStore)
    before = set(store.root.iterdir())
    await local_acme.svc.upload_fails(
        INVALID, local_acme.pm, local_acme.header(project), random_pdf(LIMIT + 10)
    )
    await local_acme.svc.upload_fails(
        INVALID, local_acme.pm, local_acme.header(project, "x.pdf"), b"GIF89a" + b"0" * 100
    )
    assert set(store.root.iterdir()) == before


async def test_uploads_to_a_folder_and_title_search(acme: Integrator) -> None:
    project = await acme.project()
    folders = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    manuals = next(f for f in folders if f.name == "Manuals")
    await acme.upload(project, title="Projector manual", folder_id=manuals.id)
    await acme.upload(project, title="Site photos")
    in_folder = await acme.svc(
        "ListDocuments", pb.ListDocumentsRequest(project_id=project, folder_id=manuals.id), acme.pm
    )
    assert [d.title for d in in_folder.documents] == ["Projector manual"]
    found = await acme.svc(
        "ListDocuments", pb.ListDocumentsRequest(project_id=project, query="PHOTO"), acme.pm
    )
    assert [d.title for d in found.documents] == ["Site photos"]
    moved = await acme.svc(
        "UpdateDocument",
        pb.UpdateDocumentRequest(document_id=found.documents[0].id, folder_id=manuals.id),
        acme.pm,
    )
    assert moved.document.folder_id == manuals.id
    other = await acme.project()
    await acme.svc.upload_fails(NOT_FOUND, acme.pm, acme.header(other, folder_id=manuals.id), PDF)


async def test_a_link_read_with_another_tenants_principal_is_refused(acme: Integrator) -> None:
    project = await acme.project()
    doc = await acme.upload(project)
    token = (await acme.link(doc.id, acme.pm)).token
    stranger = Integrator(acme.svc)
    call = acme.svc.stub.ReadBlob(
        pb.ReadBlobRequest(token=token), metadata=acme.svc.md(stranger.pm), timeout=10
    )
    try:
        async for _ in call:
            continue  # the refusal arrives while reading
        raise AssertionError("another tenant's principal read the blob")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == DENIED
    own = acme.svc.stub.ReadBlob(
        pb.ReadBlobRequest(token=token), metadata=acme.svc.md(acme.pm), timeout=10
    )
    assert b"".join([c.data async for c in own]) == PDF


async def test_a_tampered_blob_is_reported_not_served(local_acme: Integrator) -> None:
    project = await local_acme.project()
    doc = await local_acme.upload(project, random_pdf(100_000))
    store = local_acme.svc.vault.store
    assert isinstance(store, LocalBlobStore)
    version = (
        await local_acme.svc(
            "GetDocument", pb.GetDocumentRequest(document_id=doc.id), local_acme.pm
        )
    ).document.current
    async with UnitOfWork(local_acme.svc.sessions, local_acme.tenant_id) as uow:
        blob_id = (
            await uow.session.execute(
                text("SELECT blob_id FROM document_version WHERE id = :id"), {"id": version.id}
            )
        ).scalar_one()
    path = store.path(f"{blob_id}.bin")
    raw = bytearray(path.read_bytes())
    raw[70_000] ^= 0xFF
    path.write_bytes(bytes(raw))
    token = (await local_acme.link(doc.id, local_acme.pm)).token
    assert (await local_acme.read(token, offset=0, length=100, has_range=True))[:5] == b"%PDF-"
    try:
        await local_acme.read(token)
        raise AssertionError("a tampered blob was served whole")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.DATA_LOSS


async def test_each_tenant_sets_its_own_upload_limit_under_the_ceiling(
    local_documents, local_acme: Integrator
) -> None:
    acme = local_acme
    project = await acme.project()
    owner = acme.staff("owner")
    limits = await acme.svc("GetUploadLimit", pb.GetUploadLimitRequest(), acme.pm)
    assert limits.max_upload_bytes == limits.ceiling_bytes == LIMIT
    # Only an owner or admin sets it, and only between 64 KB and the ceiling.
    await acme.svc.fails(
        DENIED, "SetUploadLimit", pb.SetUploadLimitRequest(max_upload_bytes=256 * 1024), acme.pm
    )
    for wrong in (1024, LIMIT + 1):
        await acme.svc.fails(
            INVALID, "SetUploadLimit", pb.SetUploadLimitRequest(max_upload_bytes=wrong), owner
        )
    done = await acme.svc(
        "SetUploadLimit", pb.SetUploadLimitRequest(max_upload_bytes=256 * 1024), owner
    )
    assert done.max_upload_bytes == 256 * 1024
    err = await acme.svc.upload_fails(
        INVALID, acme.pm, acme.header(project), random_pdf(256 * 1024 + 1)
    )
    assert "larger than the 256 KB limit" in (err.details() or "")
    assert (await acme.upload(project, random_pdf(256 * 1024))).current.size_bytes == 256 * 1024
    # Another integrator keeps the ceiling.
    globex = Integrator(local_documents)
    theirs = await globex.svc("GetUploadLimit", pb.GetUploadLimitRequest(), globex.pm)
    assert theirs.max_upload_bytes == LIMIT


async def test_a_masked_update_empties_a_description_and_leaves_a_folder(acme: Integrator) -> None:
    project = await acme.project()
    folders = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    doc = await acme.upload(project, title="Manual", description="Old", folder_id=folders[0].id)
    # No mask: only what is set changes, so the empty description is kept.
    renamed = await acme.svc(
        "UpdateDocument", pb.UpdateDocumentRequest(document_id=doc.id, title="Guide"), acme.pm
    )
    assert (renamed.document.title, renamed.document.description) == ("Guide", "Old")
    emptied = await acme.svc(
        "UpdateDocument",
        pb.UpdateDocumentRequest(
            document_id=doc.id, update_mask=FieldMask(paths=["description", "folder_id"])
        ),
        acme.pm,
    )
    assert emptied.document.title == "Guide"
    assert (emptied.document.description, emptied.document.folder_id) == ("", "")
    err = await acme.svc.fails(
        INVALID,
        "UpdateDocument",
        pb.UpdateDocumentRequest(document_id=doc.id, update_mask=FieldMask(paths=["size"])),
        acme.pm,
    )
    assert "'size'" in err.details()
