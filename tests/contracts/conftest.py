"""Contract tests: the same requests to a gateway-test fake and to the real
service (its own fixtures, reused: a real servicer on a real PostgreSQL), the
same answers back. The fakes are served through the chassis as in the
gateway tests, so both sides verify principals and send ErrorDetail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from portal.documents.v1 import documents_pb2, documents_pb2_grpc
from portal.identity.v1 import identity_pb2, identity_pb2_grpc
from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.chassis.auth import PrincipalSigner
from services.chassis.grpc_client import Caller, open_channel
from services.documents.grpc_api import DEADLINE_CEILINGS
from tests.contracts.sides import Side
from tests.documents.conftest import documents_url, local_documents  # noqa: F401 (fixtures)
from tests.gateway.document_fakes import FakeDocuments
from tests.gateway.identity_fakes import FakeIdentity
from tests.gateway.project_fakes import FakeProjects
from tests.grpc_service import serve_fake, service_name
from tests.identity.conftest import identity, identity_url  # noqa: F401 (fixtures)
from tests.projects.conftest import projects, projects_url  # noqa: F401 (fixtures)


async def _served(
    keypair: tuple[str, str],
    register: Callable[[grpc.aio.Server], None],
    name: str,
    stub_type: type,
    **kw: object,
) -> AsyncIterator[Side]:
    async with serve_fake(register, name, keypair[1], **kw) as target:  # type: ignore[arg-type]
        channel = open_channel(target)
        try:
            yield Side(stub_type(channel), Caller(PrincipalSigner(keypair[0]), timeout=20))
        finally:
            await channel.close()


@pytest.fixture
async def fake_projects(keypair: tuple[str, str]) -> AsyncIterator[Side]:
    fake = FakeProjects()
    async for side in _served(
        keypair,
        lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(fake, srv),
        service_name(projects_pb2, "ProjectsService"),
        projects_pb2_grpc.ProjectsServiceStub,
    ):
        yield side


@pytest.fixture
async def fake_documents(keypair: tuple[str, str]) -> AsyncIterator[Side]:
    fake = FakeDocuments()
    async for side in _served(
        keypair,
        lambda srv: documents_pb2_grpc.add_DocumentsServiceServicer_to_server(fake, srv),
        service_name(documents_pb2, "DocumentsService"),
        documents_pb2_grpc.DocumentsServiceStub,
        deadline_ceilings=DEADLINE_CEILINGS,
    ):
        yield side


@pytest.fixture
async def fake_identity(keypair: tuple[str, str]) -> AsyncIterator[tuple[Side, FakeIdentity]]:
    fake = FakeIdentity()
    async for side in _served(
        keypair,
        lambda srv: identity_pb2_grpc.add_IdentityServiceServicer_to_server(fake, srv),
        service_name(identity_pb2, "IdentityService"),
        identity_pb2_grpc.IdentityServiceStub,
    ):
        yield side, fake
