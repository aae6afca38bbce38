"""Projects' real gRPC server in-process, on a migrated database of its own,
called the way the gateway calls it: a signed principal on every call. It
asks the real identity (in-process too) about customers and contacts.

One database and one server for the run; every test makes its own integrator
(a tenant in identity) and customers, which is all the isolation projects
needs: everything it keeps is tenant-scoped and row-level secured.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from portal.identity.v1 import identity_pb2 as ipb
from portal.identity.v1.identity_pb2 import ACCESS_STATE_DELETED
from portal.projects.v1 import projects_pb2 as pb
from portal.projects.v1 import projects_pb2_grpc

from deploy.infra import Postgres
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.runtime import Remote
from services.projects import handlers
from services.projects.grpc_api import ProjectsServicer
from services.projects.identity_client import IdentityClient
from tests.grpc_service import ServiceUnderTest, migrated_database
from tests.identity.conftest import Identity, identity, identity_url  # noqa: F401 (fixtures)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ProjectsService"].full_name
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT


@dataclass
class Projects(ServiceUnderTest):
    """The running service (see tests/grpc_service.py), and the identity it asks."""

    stub: projects_pb2_grpc.ProjectsServiceStub
    identity: Identity
    tenants: IdentityClient  # what the consumer asks the integrator's time zone
    target: str = ""  # host:port, for a service under test that calls projects


@pytest.fixture(scope="session")
def projects_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "projects") as url:
        yield url


@pytest.fixture(scope="session")
async def projects(
    projects_url: str,
    keypair: tuple[str, str],
    identity: Identity,  # noqa: F811 (the fixture imported above)
) -> AsyncIterator[Projects]:
    private, public = keypair
    engine = make_engine(projects_url, pool_size=10)
    sessions = make_sessionmaker(engine)
    signer = PrincipalSigner(private)
    to_identity = open_channel(identity.target)
    customers = IdentityClient(Remote(to_identity, Caller(signer), signer))
    servicer = ProjectsServicer(sessions, customers=customers, tenants=customers)
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(servicer, srv),
        service_names=[SERVICE_NAME],
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield Projects(
            url=projects_url,
            stub=projects_pb2_grpc.ProjectsServiceStub(channel),
            caller=Caller(signer, timeout=20),
            sessions=sessions,
            identity=identity,
            tenants=customers,
            target=f"127.0.0.1:{port}",
        )
    finally:
        await channel.close()
        await to_identity.close()
        await server.stop(None)
        await engine.dispose()


# --- builders -----------------------------------------------------------------------


def _id() -> str:
    return str(uuid.uuid4())


@dataclass
class Integrator:
    """One tenant: staff of each kind, and a customer with an approver and a
    viewer, all known to identity (made by `new_integrator`)."""

    svc: Projects
    tenant_id: str
    customer_id: str
    approver_id: str
    viewer_id: str

    async def new_customer(self, name: str = "The Okafor House") -> ipb.Customer:
        """Another customer of this integrator, with one approver."""
        return await _customer(self.svc.identity, self.tenant_id, name)

    def staff(self, *roles: str, subject: str | None = None) -> Principal:
        return Principal(
            kind="staff",
            subject=subject or _id(),
            tenant_id=self.tenant_id,
            roles=frozenset(roles),
        )

    @property
    def pm(self) -> Principal:
        return self.staff("project_manager")

    @property
    def technician(self) -> Principal:
        return self.staff("technician")

    def client(
        self,
        *,
        subject: str | None = None,
        roles: frozenset[str] = frozenset({"approver"}),
        customer_id: str | None = None,
        read_only: bool = False,
        viewing_as: bool = False,
    ) -> Principal:
        return Principal(
            viewing_as=viewing_as,
            kind="client",
            subject=subject or self.approver_id,
            tenant_id=self.tenant_id,
            roles=roles,
            customer_id=customer_id or self.customer_id,
            read_only=read_only,
        )

    @property
    def approver(self) -> Principal:
        return self.client()

    @property
    def viewer(self) -> Principal:
        return self.client(subject=self.viewer_id, roles=frozenset({"viewer"}))

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.svc(method, request, principal)

    async def fails(
        self, code: grpc.StatusCode, method: str, request: Message, principal: Principal
    ) -> grpc.aio.AioRpcError:
        return await self.svc.fails(code, method, request, principal)

    async def project(
        self, name: str = "Home cinema", customer_id: str | None = None
    ) -> pb.Project:
        return (
            await self(
                "CreateProject",
                pb.CreateProjectRequest(
                    request_id=_id(), name=name, customer_id=customer_id or self.customer_id
                ),
                self.pm,
            )
        ).project

    async def room(self, project_id: str, name: str, *, visible: bool = True) -> pb.Room:
        return (
            await self(
                "CreateRoom",
                pb.CreateRoomRequest(
                    request_id=_id(), project_id=project_id, name=name, client_visible=visible
                ),
                self.pm,
            )
        ).room

    async def line(
        self,
        room_id: str,
        model: str,
        quantity: int,
        unit_price_minor: int,
        *,
        visible: bool = True,
        manufacturer: str = "",
        description: str = "",
    ) -> pb.ProductLine:
        return (
            await self(
                "AddProductLine",
                pb.AddProductLineRequest(
                    request_id=_id(),
                    room_id=room_id,
                    manufacturer=manufacturer,
                    model=model,
                    description=description,
                    quantity=quantity,
                    unit_price_minor=unit_price_minor,
                    client_visible=visible,
                ),
                self.pm,
            )
        ).line

    async def proposal(
        self,
        project_id: str,
        *,
        title: str = "Home cinema and audio",
        labour_minor: int = 0,
        discount_minor: int = 0,
        tax_rate_bps: int = 0,
    ) -> pb.Proposal:
        return (
            await self(
                "CreateProposal",
                pb.CreateProposalRequest(
                    request_id=_id(),
                    project_id=project_id,
                    title=title,
                    introduction="What we will install, room by room.",
                    labour_minor=labour_minor,
                    discount_minor=discount_minor,
                    tax_rate_bps=tax_rate_bps,
                ),
                self.pm,
            )
        ).proposal

    async def send(self, proposal_id: str) -> pb.Proposal:
        return (
            await self("SendProposal", pb.SendProposalRequest(proposal_id=proposal_id), self.pm)
        ).proposal

    async def get_proposal(self, proposal_id: str, principal: Principal) -> pb.Proposal:
        return (
            await self("GetProposal", pb.GetProposalRequest(proposal_id=proposal_id), principal)
        ).proposal

    def accept_request(self, proposal: pb.Proposal, **overrides: Any) -> pb.AcceptProposalRequest:
        values: dict[str, Any] = {
            "request_id": _id(),
            "proposal_id": proposal.id,
            "signer_name": "Jane Harrison",
            "consent": True,
            "content_sha256": proposal.content_sha256,
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (pytest)",
        }
        values.update(overrides)
        return pb.AcceptProposalRequest(**values)

    async def accept(self, proposal: pb.Proposal, principal: Principal | None = None, **kw):
        return (
            await self(
                "AcceptProposal", self.accept_request(proposal, **kw), principal or self.approver
            )
        ).proposal

    async def board(self, project_id: str, principal: Principal) -> pb.GetStatusBoardResponse:
        return await self(
            "GetStatusBoard", pb.GetStatusBoardRequest(project_id=project_id), principal
        )

    async def close_portal(self, customer_id: str | None = None) -> None:
        await self.change_access(ACCESS_STATE_DELETED, customer_id)

    async def change_access(self, to_state: int, customer_id: str | None = None) -> None:
        await self.svc.change_customer_access(
            handlers.subscriptions(documents=_NoArchive(), tenants=self.svc.tenants),
            tenant_id=self.tenant_id,
            customer_id=customer_id or self.customer_id,
            to_state=to_state,
        )


async def _customer(directory: Identity, tenant_id: str, name: str) -> ipb.Customer:
    slug = uuid.uuid4().hex[:8]
    contacts = [
        ipb.NewContact(email=f"{who}@{slug}.example", full_name=f"{who.title()} {name}", role=role)
        for who, role in (("jane", ipb.CONTACT_ROLE_APPROVER), ("tom", ipb.CONTACT_ROLE_VIEWER))
    ]
    platform = Principal(kind="platform", subject="test", tenant_id=tenant_id)
    request = ipb.CreateCustomerRequest(name=name, contacts=contacts)
    return (await directory("CreateCustomer", request, platform)).customer


async def new_integrator(projects: Projects, *, time_zone: str = "UTC") -> Integrator:
    """A tenant in identity with a customer (an approver and a viewer)."""
    slug = f"p{uuid.uuid4().hex[:10]}"
    tenant = (
        await projects.identity(
            "CreateTenant",
            ipb.CreateTenantRequest(slug=slug, display_name=f"{slug} AV", time_zone=time_zone),
            Principal(kind="platform", subject="test"),
        )
    ).tenant
    customer = await _customer(projects.identity, tenant.id, "The Harrison Residence")
    approver, viewer = (
        next(c.id for c in customer.contacts if c.email.startswith(who))
        for who in ("jane@", "tom@")
    )
    return Integrator(projects, tenant.id, customer.id, approver, viewer)


@pytest.fixture
async def acme(projects: Projects) -> Integrator:
    return await new_integrator(projects)


@dataclass
class Job:
    """A project with a visible living room (one hidden line), a hidden rack
    room, and a visible empty-ish cinema room."""

    project: pb.Project
    living: pb.Room
    rack: pb.Room
    soundbar: pb.ProductLine
    cables: pb.ProductLine
    switch: pb.ProductLine


async def new_job(acme: Integrator) -> Job:
    project = await acme.project()
    living = await acme.room(project.id, "Living room")
    rack = await acme.room(project.id, "Equipment rack", visible=False)
    soundbar = await acme.line(
        living.id, "Arc", 2, 89_900, manufacturer="Sonos", description="Soundbar"
    )
    cables = await acme.line(living.id, "HDMI 2.1 cable set", 4, 2_499, visible=False)
    switch = await acme.line(rack.id, "Managed switch", 1, 45_000, manufacturer="Araknis")
    return Job(project, living, rack, soundbar, cables, switch)


@pytest.fixture
async def job(acme: Integrator) -> Job:
    return await new_job(acme)


class _NoArchive:
    """The documents side of projects' subscriptions, for tests that deliver
    only access events: filing a signed copy here is a test bug."""

    async def store_signed_copy(self, **_: object) -> None:
        raise AssertionError("these tests file no signed copy")
