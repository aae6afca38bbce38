"""Documents' real gRPC server in-process, on a migrated database of its own,
called the way the gateway calls it: a signed principal on every call.

Two servers share the database: one on a local blob directory, one on S3
(moto's standalone server over real HTTP). Every test makes its own
integrator (a tenant id), which is all the isolation documents needs.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from google.protobuf.message import Message
from portal.documents.v1 import documents_pb2 as pb
from portal.documents.v1 import documents_pb2_grpc
from portal.projects.v1 import events_pb2 as project_events

from deploy.infra import Postgres, free_port
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.documents import handlers
from services.documents.blobcrypt import MasterKeys
from services.documents.blobstore import BlobStore, LocalBlobStore, S3BlobStore
from services.documents.grpc_api import DEADLINE_CEILINGS, DocumentsServicer
from services.documents.service import Vault
from tests.grpc_service import Assertions, migrated_database

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DocumentsService"].full_name
LINK_SECRET = b"documents-test-link-secret-0123456789abcdef"
LIMIT = 1024 * 1024  # 1 MiB in tests


def master_keys(active: str = "k1", **extra: bytes) -> MasterKeys:
    return MasterKeys({"k1": b"\x01" * 32, **extra}, active)


@pytest.fixture(scope="session")
def documents_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "documents") as url:
        yield url


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[Any]:
    """A real HTTP S3 endpoint (moto's server), with a bucket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket="portal-documents")
    yield client
    server.stop()


@dataclass
class Documents(Assertions):
    """A running server: a stub, a signing caller, its database and its vault."""

    stub: documents_pb2_grpc.DocumentsServiceStub
    caller: Caller
    sessions: Any
    vault: Vault
    target: str = ""  # for another service's client under test (its filing)

    def md(self, principal: Principal) -> tuple[tuple[str, str], ...]:
        return self.caller.metadata(principal)

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.caller(getattr(self.stub, method), request, principal)

    async def upload(
        self,
        principal: Principal,
        header: pb.UploadHeader,
        data: bytes,
        *,
        piece: int = 100_000,
        version: bool = False,
    ) -> pb.Document:
        async def chunks() -> AsyncIterator[pb.UploadChunk]:
            yield pb.UploadChunk(header=header)
            for i in range(0, len(data), piece):
                yield pb.UploadChunk(data=data[i : i + piece])

        method = self.stub.UploadVersion if version else self.stub.UploadDocument
        answer = await self.caller.upload(method, chunks(), principal)
        return answer.document

    async def upload_fails(
        self,
        code: grpc.StatusCode,
        principal: Principal,
        header: pb.UploadHeader,
        data: bytes,
        **kw,
    ) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await self.upload(principal, header, data, **kw)
        assert err.value.code() == code, (err.value.code(), err.value.details())
        return err.value

    async def read(
        self,
        token: str,
        principal: Principal,
        *,
        offset: int = 0,
        length: int = 0,
        has_range: bool = False,
    ) -> bytes:
        request = pb.ReadBlobRequest(token=token, offset=offset, length=length, has_range=has_range)
        out = bytearray()
        async for chunk in self.caller.stream(self.stub.ReadBlob, request, principal):
            out += chunk.data
        return bytes(out)


async def _serve(url: str, keypair: tuple[str, str], store: BlobStore) -> AsyncIterator[Documents]:
    private, public = keypair
    engine = make_engine(url, pool_size=10)
    sessions = make_sessionmaker(engine)
    vault = Vault(store=store, keys=master_keys(), link_secret=LINK_SECRET, max_upload_bytes=LIMIT)
    servicer = DocumentsServicer(sessions, vault)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: documents_pb2_grpc.add_DocumentsServiceServicer_to_server(
            servicer, srv
        ),
        service_names=[SERVICE_NAME],
        deadline_ceilings=DEADLINE_CEILINGS,
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield Documents(
            documents_pb2_grpc.DocumentsServiceStub(channel),
            Caller(PrincipalSigner(private), timeout=20, stream_timeout=30),
            sessions,
            vault,
            f"127.0.0.1:{port}",
        )
    finally:
        await channel.close()
        await server.stop(None)
        await engine.dispose()


@pytest.fixture(scope="session")
async def local_documents(
    documents_url: str, keypair: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Documents]:
    store = LocalBlobStore(tmp_path_factory.mktemp("blobs"))
    async for docs in _serve(documents_url, keypair, store):
        yield docs


@pytest.fixture(scope="session")
async def s3_documents(
    documents_url: str, keypair: tuple[str, str], moto_s3: Any
) -> AsyncIterator[Documents]:
    async for docs in _serve(documents_url, keypair, S3BlobStore(moto_s3, "portal-documents")):
        yield docs


@pytest.fixture(params=["local", "s3"])
def documents(request: pytest.FixtureRequest) -> Documents:
    return request.getfixturevalue(f"{request.param}_documents")


# --- builders -----------------------------------------------------------------------


def _id() -> str:
    return str(uuid.uuid4())


PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 4000 + b"%%EOF\n"


def random_pdf(size: int) -> bytes:
    return (b"%PDF-1.7\n" + os.urandom(size))[:size]


@dataclass
class Integrator:
    svc: Documents
    tenant_id: str = field(default_factory=_id)
    customer_id: str = field(default_factory=_id)

    def staff(self, *roles: str) -> Principal:
        return Principal(
            kind="staff", subject=_id(), tenant_id=self.tenant_id, roles=frozenset(roles)
        )

    @property
    def pm(self) -> Principal:
        return self.staff("project_manager")

    @property
    def technician(self) -> Principal:
        return self.staff("technician")

    def client(
        self, customer_id: str | None = None, *, read_only: bool = False, subject: str = ""
    ) -> Principal:
        return Principal(
            kind="client",
            subject=subject or _id(),
            tenant_id=self.tenant_id,
            roles=frozenset({"approver"}),
            customer_id=customer_id or self.customer_id,
            read_only=read_only,
        )

    @property
    def service(self) -> Principal:
        return Principal(kind="service", subject="projects", tenant_id=self.tenant_id)

    async def project(
        self,
        name: str = "Home cinema",
        customer_id: str | None = None,
        *,
        visible_contact_ids: tuple[str, ...] = (),
    ) -> str:
        """As projects.project.created lands in documents."""
        project_id = _id()
        await self.svc.deliver(
            list(handlers.SUBSCRIPTIONS),
            project_events.ProjectCreated(
                project_id=project_id,
                reference="PRJ-0001",
                name=name,
                customer_id=customer_id or self.customer_id,
                visible_contact_ids=visible_contact_ids,
            ),
            tenant_id=self.tenant_id,
            aggregate_id=project_id,
        )
        return project_id

    async def change_audience(
        self, project_id: str, *contact_ids: str, at: datetime | None = None, **kw: Any
    ) -> None:
        """As projects.project.audience_changed lands (no ids: every contact)."""
        await self.svc.deliver(
            list(handlers.SUBSCRIPTIONS),
            project_events.ProjectAudienceChanged(
                project_id=project_id, customer_id=self.customer_id, visible_contact_ids=contact_ids
            ),
            tenant_id=self.tenant_id,
            aggregate_id=project_id,
            at=at,
            **kw,
        )

    async def change_access(self, to_state: int) -> None:
        await self.svc.change_customer_access(
            list(handlers.SUBSCRIPTIONS),
            tenant_id=self.tenant_id,
            customer_id=self.customer_id,
            to_state=to_state,
        )

    def header(self, project_id: str, filename: str = "proposal.pdf", **kw: Any) -> pb.UploadHeader:
        values: dict[str, Any] = {
            "request_id": _id(),
            "project_id": project_id,
            "filename": filename,
            "title": kw.pop("title", filename),
        }
        values.update(kw)
        return pb.UploadHeader(**values)

    async def upload(
        self, project_id: str, data: bytes = PDF, filename: str = "proposal.pdf", **kw: Any
    ) -> pb.Document:
        return await self.svc.upload(self.pm, self.header(project_id, filename, **kw), data)

    @property
    def gateway(self) -> Principal:
        """As the gateway serves a link to whoever holds it, on the tenant's host."""
        return Principal(kind="service", subject="gateway", tenant_id=self.tenant_id)

    async def read(self, token: str, **kw: Any) -> bytes:
        return await self.svc.read(token, self.gateway, **kw)

    async def link(self, document_id: str, principal: Principal, version_id: str = "") -> Any:
        return await self.svc(
            "CreateDownloadLink",
            pb.CreateDownloadLinkRequest(document_id=document_id, version_id=version_id),
            principal,
        )


@pytest.fixture
def acme(documents: Documents) -> Integrator:
    return Integrator(documents)


@pytest.fixture
def local_acme(local_documents: Documents) -> Integrator:
    return Integrator(local_documents)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def blob_path(store: BlobStore, blob_id: str, suffix: str = "bin") -> Path:
    assert isinstance(store, LocalBlobStore)
    return store.path(f"{blob_id}.{suffix}")
