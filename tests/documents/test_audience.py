"""A project's visible contacts hold in documents too: a contact the project
leaves out gets NOT_FOUND for its folders, its documents, a download link and
a link made before they were left out, exactly as for an id that never
existed; listing them again gives it all back. And a client sees only the
folders that hold something they may see."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from portal.documents.v1 import documents_pb2 as pb

from services.chassis.auth import Principal
from tests.documents.conftest import Integrator

NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_a_contact_left_off_the_list_reads_nothing_of_the_project_until_listed_again(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    jane_id, tom_id = str(uuid.uuid4()), str(uuid.uuid4())
    jane, tom = acme.client(subject=jane_id), acme.client(subject=tom_id)
    project = await acme.project()
    doc = await acme.upload(project, client_visible=True, title="Handover pack")
    early_link = await acme.link(doc.id, tom)  # made while Tom was still let in
    changed_at = datetime.now(UTC)
    await acme.change_audience(project, jane_id, at=changed_at)

    nobody = str(uuid.uuid4())
    for method, request, never in [
        (
            "ListDocuments",
            pb.ListDocumentsRequest(project_id=project),
            pb.ListDocumentsRequest(project_id=nobody),
        ),
        (
            "ListFolders",
            pb.ListFoldersRequest(project_id=project),
            pb.ListFoldersRequest(project_id=nobody),
        ),
        (
            "GetDocument",
            pb.GetDocumentRequest(document_id=doc.id),
            pb.GetDocumentRequest(document_id=nobody),
        ),
        (
            "CreateDownloadLink",
            pb.CreateDownloadLinkRequest(document_id=doc.id),
            pb.CreateDownloadLinkRequest(document_id=nobody),
        ),
    ]:
        left_out = await acme.svc.fails(NOT_FOUND, method, request, tom)
        # Worded like a project or document that never existed: nothing to learn.
        unknown = await acme.svc.fails(NOT_FOUND, method, never, tom)
        assert left_out.details() == unknown.details(), method
    # A link outlives nothing it names: read now, it is refused too.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await acme.read(early_link.token)
    assert refused.value.code() == NOT_FOUND

    listed = await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), jane)
    assert [d.id for d in listed.documents] == [doc.id]
    assert await acme.read((await acme.link(doc.id, jane)).token)

    # A late, older list (another consumer's redelivery) leaves Tom out still.
    await acme.change_audience(project, at=changed_at - timedelta(seconds=1))
    await acme.svc.fails(NOT_FOUND, "GetDocument", pb.GetDocumentRequest(document_id=doc.id), tom)
    # Listing no one again: every contact of the customer, Tom included.
    await acme.change_audience(project, at=changed_at + timedelta(seconds=1))
    back = await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), tom)
    assert [d.id for d in back.documents] == [doc.id]
    assert await acme.read(early_link.token)


async def test_staff_viewing_as_the_client_see_and_download_what_the_customer_sees(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    doc = await acme.upload(project, client_visible=True)
    await acme.change_audience(project, str(uuid.uuid4()))
    viewing_as = Principal(
        kind="client",
        subject=str(uuid.uuid4()),  # the staff user's own id, never in the list
        tenant_id=acme.tenant_id,
        customer_id=acme.customer_id,
        roles=frozenset({"viewer"}),
        read_only=True,
        viewing_as=True,
    )
    listed = await acme.svc(
        "ListDocuments", pb.ListDocumentsRequest(project_id=project), viewing_as
    )
    assert [d.id for d in listed.documents] == [doc.id]
    assert await acme.read((await acme.link(doc.id, viewing_as)).token)
    # An archived customer's unlisted contact is read-only as well, yet held to the list.
    await acme.svc.fails(
        NOT_FOUND,
        "GetDocument",
        pb.GetDocumentRequest(document_id=doc.id),
        acme.client(read_only=True),
    )


async def test_a_client_sees_only_the_folders_that_hold_something_for_them(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    staff_folders = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    by_name = {f.name: f.id for f in staff_folders}
    await acme.upload(project, client_visible=True, folder_id=by_name["Handover"])
    await acme.upload(project, client_visible=False, folder_id=by_name["Schematics"])
    gone = await acme.upload(project, client_visible=True, folder_id=by_name["Manuals"])
    await acme.svc("DeleteDocument", pb.DeleteDocumentRequest(document_id=gone.id), acme.pm)

    seen = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.client())
    ).folders
    assert [f.name for f in seen] == ["Handover"]
    # Staff still see every folder, empty or internal.
    again = (
        await acme.svc("ListFolders", pb.ListFoldersRequest(project_id=project), acme.pm)
    ).folders
    assert [f.name for f in again] == [f.name for f in staff_folders]
    assert {"Proposals", "Schematics", "Handover", "Manuals"} <= {f.name for f in again}
