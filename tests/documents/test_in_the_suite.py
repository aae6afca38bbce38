"""Documents as `make run` starts it: its own process, its settings from the
suite, projects' events arriving over NATS, blobs encrypted on disk."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc

from services.chassis.auth import Principal, PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from tests.suite import Running

pytestmark = pytest.mark.e2e


async def test_the_suites_documents_service_stores_and_serves_a_file(running: Running) -> None:
    info = running.info
    tenant, project = info["tenant_id"], info["demo_project_id"]
    call = Caller(PrincipalSigner(running.suite.private_key))
    owner = Principal(kind="staff", subject="e2e", tenant_id=tenant, roles=frozenset({"owner"}))
    client = Principal(
        kind="client", subject="c", tenant_id=tenant, customer_id=info["demo_customer_id"]
    )

    data = b"%PDF-1.7\n" + os.urandom(150_000) + b"Secret wiring plan"
    async with open_channel(running.suite.target("documents")) as channel:
        stub = documents_pb2_grpc.DocumentsServiceStub(channel)
        # The demo project reached documents through projects.project.created.
        for _ in range(100):
            try:
                await call(stub.ListFolders, pb.ListFoldersRequest(project_id=project), owner)
                break
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc.details()
                await asyncio.sleep(0.1)

        async def chunks() -> AsyncIterator[pb.UploadChunk]:
            yield pb.UploadChunk(
                header=pb.UploadHeader(
                    request_id=str(uuid.uuid4()),
                    project_id=project,
                    filename="wiring.pdf",
                    title="Wiring plan",
                )
            )
            for i in range(0, len(data), 60_000):
                yield pb.UploadChunk(data=data[i : i + 60_000])

        doc = (await call.upload(stub.UploadDocument, chunks(), owner, timeout=20)).document
        listed = await call(stub.ListDocuments, pb.ListDocumentsRequest(project_id=project), client)
        assert doc.id not in {d.id for d in listed.documents}
        await call(
            stub.SetVisibility,
            pb.SetVisibilityRequest(document_id=doc.id, client_visible=True),
            owner,
        )
        link = await call(
            stub.CreateDownloadLink, pb.CreateDownloadLinkRequest(document_id=doc.id), client
        )
        read = call.stream(stub.ReadBlob, pb.ReadBlobRequest(token=link.token), client, timeout=10)
        got = b"".join([c.data async for c in read])
        assert got == data

    blobs = running.data_dir / "blobs"
    stored = [p.read_bytes() for p in blobs.glob("*.bin")]
    assert stored and all(b"Secret wiring plan" not in s for s in stored)
