"""What a client is given is decided here alone (the gateway renders it as
is): whatever they ask for, never a hidden or deleted document, nor a version
but the current one."""

from __future__ import annotations

import grpc
from portal.documents.v1 import documents_pb2 as pb

from services.chassis.grpc_client import error_detail
from tests.documents.conftest import Integrator

NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_a_client_asking_for_deleted_documents_gets_only_what_they_may_see(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    shown = await acme.upload(project, client_visible=True, title="Handover pack")
    await acme.svc.upload(
        acme.pm,
        acme.header(project, "pack-v2.pdf", document_id=shown.id),
        b"%PDF-1.7 v2",
        version=True,
    )
    gone = await acme.upload(project, client_visible=True, title="Old quote")
    await acme.svc("DeleteDocument", pb.DeleteDocumentRequest(document_id=gone.id), acme.pm)
    client = acme.client()

    listed = (
        await acme.svc(
            "ListDocuments",
            pb.ListDocumentsRequest(project_id=project, include_deleted=True),
            client,
        )
    ).documents
    assert [d.id for d in listed] == [shown.id]
    assert listed[0].current.number == 2 and list(listed[0].versions) == []
    for method, request in [
        ("GetDocument", pb.GetDocumentRequest(document_id=gone.id)),
        ("CreateDownloadLink", pb.CreateDownloadLinkRequest(document_id=gone.id)),
    ]:
        err = await acme.svc.fails(NOT_FOUND, method, request, client)
        assert error_detail(err).code == "not_found"
    staff = (
        await acme.svc(
            "ListDocuments",
            pb.ListDocumentsRequest(project_id=project, include_deleted=True),
            acme.technician,
        )
    ).documents
    assert {d.id for d in staff} == {shown.id, gone.id}


async def test_a_client_naming_the_current_version_gets_it_and_no_other(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    doc = await acme.upload(project, client_visible=True)
    doc = await acme.svc.upload(
        acme.pm, acme.header(project, "v2.pdf", document_id=doc.id), b"%PDF-1.7 v2", version=True
    )
    current, old = doc.versions[0].id, doc.versions[1].id
    client = acme.client()
    link = await acme.link(doc.id, client, current)
    assert await acme.read(link.token) == b"%PDF-1.7 v2"
    err = await acme.svc.fails(
        NOT_FOUND,
        "CreateDownloadLink",
        pb.CreateDownloadLinkRequest(document_id=doc.id, version_id=old),
        client,
    )
    assert error_detail(err).field_violations[0].field == "version_id"


async def test_a_client_never_learns_which_staff_member_uploaded_or_showed_a_document(
    local_acme: Integrator,
) -> None:
    """Documents decides what a client sees of a document, staff ids included:
    the gateway renders what it gets."""
    acme = local_acme
    project = await acme.project()
    shown = await acme.upload(project, client_visible=True, title="Handover pack")
    staff_view = (
        await acme.svc("GetDocument", pb.GetDocumentRequest(document_id=shown.id), acme.pm)
    ).document
    assert staff_view.current.uploaded_by  # staff see who uploaded it
    seen = (
        await acme.svc("GetDocument", pb.GetDocumentRequest(document_id=shown.id), acme.client())
    ).document
    assert seen.current.number == 1 and seen.current.sha256 == staff_view.current.sha256
    assert seen.current.uploaded_by == "" and seen.visibility_changed_by == ""
    assert not seen.HasField("visibility_changed_at")
    listed = (
        await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), acme.client())
    ).documents
    assert [d.current.uploaded_by for d in listed] == [""]
