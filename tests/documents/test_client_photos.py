"""A client's approver attaches photos for a visit they book: images only,
new documents in their own project, out of any folder, seen by staff only;
a viewer, a read-only portal or another customer's project is refused."""

from __future__ import annotations

import uuid
from dataclasses import replace

import grpc
import pytest
from portal.documents.v1 import documents_pb2 as pb

from services.chassis.auth import Principal
from services.chassis.errors import InvalidArgument, PermissionDenied
from services.documents import domain
from tests.documents.conftest import PDF, Integrator

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.parametrize("name", ["photo.png", "IMG_0001.JPG", "x.jpeg", "a.gif", "b.webp"])
def test_a_client_may_upload_photos(name: str) -> None:
    domain.check_client_upload(name, new_version=False, folder_id="")


@pytest.mark.parametrize("name", ["plan.pdf", "notes.txt", "cad.dwg", "setup.exe"])
def test_a_client_may_upload_nothing_but_photos(name: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        domain.check_client_upload(name, new_version=False, folder_id="")
    assert err.value.field == "filename"


def test_a_client_adds_no_versions_and_uses_no_folder() -> None:
    with pytest.raises(PermissionDenied):
        domain.check_client_upload("a.png", new_version=True, folder_id="")
    with pytest.raises(InvalidArgument) as err:
        domain.check_client_upload("a.png", new_version=False, folder_id=str(uuid.uuid4()))
    assert err.value.field == "folder_id"


async def test_an_approver_attaches_a_photo_only_staff_see(acme: Integrator) -> None:
    project = await acme.project()
    client = acme.client()
    limit = await acme.svc("GetUploadLimit", pb.GetUploadLimitRequest(), client)
    assert limit.max_upload_bytes > 0
    header = acme.header(project, "flicker.png", client_visible=True)
    photo = await acme.svc.upload(client, header, PNG)
    assert photo.current.content_type == "image/png" and not photo.client_visible
    again = await acme.svc.upload(client, header, PNG)  # a retry: the same photo
    assert again.id == photo.id
    listed = await acme.svc("ListDocuments", pb.ListDocumentsRequest(project_id=project), client)
    assert photo.id not in [d.id for d in listed.documents]
    seen = await acme.svc("GetDocument", pb.GetDocumentRequest(document_id=photo.id), acme.pm)
    assert seen.document.current.filename == "flicker.png"


async def test_photos_are_refused_to_viewers_read_only_portals_and_other_projects(
    acme: Integrator,
) -> None:
    mine = await acme.project()
    theirs = await acme.project(customer_id=str(uuid.uuid4()))
    approver = acme.client()
    viewer = replace(approver, roles=frozenset({"viewer"}))
    read_only = acme.client(read_only=True)
    for who in (viewer, read_only):
        await acme.svc.upload_fails(DENIED, who, acme.header(mine, "a.png"), PNG)
        await acme.svc.fails(DENIED, "GetUploadLimit", pb.GetUploadLimitRequest(), who)
    await acme.svc.upload_fails(NOT_FOUND, approver, acme.header(theirs, "a.png"), PNG)
    await acme.svc.upload_fails(INVALID, approver, acme.header(mine, "plan.pdf"), PDF)
    doc = await acme.upload(mine)
    await acme.svc.upload_fails(
        DENIED,
        approver,
        pb.UploadHeader(request_id=str(uuid.uuid4()), document_id=doc.id, filename="a.png"),
        PNG,
        version=True,
    )
    assert isinstance(approver, Principal)
