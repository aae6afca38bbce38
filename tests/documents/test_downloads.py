"""Reading blobs through a link, through gRPC: a link is good only while the
one who made it could make it again (a client's closed portal ends it), and
a window is exactly the bytes asked for."""

from __future__ import annotations

import grpc
import pytest
from portal.documents.v1 import documents_pb2 as pb
from portal.identity.v1.identity_pb2 import ACCESS_STATE_ARCHIVED, ACCESS_STATE_DELETED

from services.chassis.access import PORTAL_CLOSED
from tests.documents.conftest import Integrator, random_pdf

DENIED = grpc.StatusCode.PERMISSION_DENIED


async def read_fails(acme: Integrator, token: str, code: grpc.StatusCode, **kw) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await acme.read(token, **kw)
    assert err.value.code() == code, (err.value.code(), err.value.details())
    return err.value.details() or ""


async def test_a_clients_link_stops_working_once_their_portal_is_closed(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    data = random_pdf(5_000)
    doc = await acme.upload(project, data, client_visible=True)
    client = acme.client()
    link = await acme.link(doc.id, client)
    staff_link = await acme.link(doc.id, acme.pm)
    assert await acme.read(link.token) == data

    await acme.change_access(ACCESS_STATE_ARCHIVED)  # read-only: reading goes on
    assert await acme.read(link.token) == data
    await acme.change_access(ACCESS_STATE_DELETED)
    # Served by the gateway as itself (the client's session ended with the
    # deletion): the link's own holder is what documents checks.
    assert PORTAL_CLOSED in await read_fails(acme, link.token, DENIED)
    assert PORTAL_CLOSED in await read_fails(
        acme, link.token, DENIED, offset=0, length=1, has_range=True
    )
    # A signed-in client of the closed customer gets nothing through a staff link either.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await acme.svc.read(staff_link.token, client)
    assert err.value.code() == DENIED
    # Staff keep working on a closed customer's records.
    assert await acme.read(staff_link.token) == data


async def test_a_window_sends_exactly_its_bytes_and_nothing_past_the_end(
    local_acme: Integrator,
) -> None:
    acme = local_acme
    project = await acme.project()
    data = random_pdf(140_000)  # three 64 KiB chunks
    doc = await acme.upload(project, data)
    token = (await acme.link(doc.id, acme.pm)).token
    size = len(data)
    for offset, length in ((0, 1), (0, 10), (65_535, 2), (size - 1, 1), (size - 5, 5), (0, size)):
        got = await acme.read(token, offset=offset, length=length, has_range=True)
        assert got == data[offset : offset + length], (offset, length)
    for offset, length in ((size, 1), (size - 1, 2), (0, 0), (-1, 1)):
        await read_fails(
            acme, token, grpc.StatusCode.OUT_OF_RANGE, offset=offset, length=length, has_range=True
        )
    # Without a window: the whole file (offset and length are not looked at).
    assert await acme.read(token, offset=5, length=1) == data


async def test_a_missing_document_is_explained_in_plain_words(local_acme: Integrator) -> None:
    acme = local_acme
    project = await acme.project()
    hidden = await acme.upload(project, title="Internal costing")
    err = await acme.svc.fails(
        grpc.StatusCode.NOT_FOUND,
        "GetDocument",
        pb.GetDocumentRequest(document_id=hidden.id),
        acme.client(),
    )
    assert err.details() == (
        "This document isn't available \u2014 it may have been removed, "
        "or you may not have access to it."
    )
