"""Changeorders' real gRPC server in-process, on a migrated database of its
own, called the way the gateway calls it (a signed principal on every call).
It asks the real projects (in-process too, with the real identity behind it)
for the contract baseline and the stage dates: every test makes its own
integrator, project and accepted proposal there.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.projects.v1 import projects_pb2 as ppb

from deploy.infra import Postgres
from services.changeorders import handlers
from services.changeorders.grpc_api import ChangeOrdersServicer
from services.changeorders.projects_client import ProjectsClient
from services.chassis.admission import Admission
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.runtime import Remote
from tests.grpc_service import ServiceUnderTest, migrated_database
from tests.identity.conftest import identity, identity_url  # noqa: F401 (fixtures)
from tests.projects.conftest import Integrator as ProjectsSide
from tests.projects.conftest import Projects, new_integrator, projects, projects_url  # noqa: F401 (fixtures)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ChangeOrdersService"].full_name
NOT_FOUND = grpc.StatusCode.NOT_FOUND
DENIED = grpc.StatusCode.PERMISSION_DENIED
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT

ADDED = pb.LINE_CHANGE_KIND_ADDED
REMOVED = pb.LINE_CHANGE_KIND_REMOVED
QUANTITY = pb.LINE_CHANGE_KIND_QUANTITY
SWAPPED = pb.LINE_CHANGE_KIND_SWAPPED
REPRICED = pb.LINE_CHANGE_KIND_REPRICED
LABOUR = pb.LINE_CHANGE_KIND_LABOUR


@dataclass
class ChangeOrders(ServiceUnderTest):
    stub: changeorders_pb2_grpc.ChangeOrdersServiceStub
    projects: Projects
    approvals: Admission  # the servicer's own: a test can fill it


@pytest.fixture(scope="session")
def changeorders_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "changeorders") as url:
        yield url


@pytest.fixture(scope="session")
async def changeorders(
    changeorders_url: str,
    keypair: tuple[str, str],
    projects: Projects,  # noqa: F811 (the fixture imported above)
) -> AsyncIterator[ChangeOrders]:
    private, public = keypair
    engine = make_engine(changeorders_url, pool_size=10)
    sessions = make_sessionmaker(engine)
    signer = PrincipalSigner(private)
    to_projects = open_channel(projects.target)
    approvals = Admission(in_flight=8, waiting=8, wait_seconds=0.2)
    servicer = ChangeOrdersServicer(
        sessions, ProjectsClient(Remote(to_projects, Caller(signer), signer)), None, approvals
    )
    server, port, _ = await start_grpc_server(
        host="127.0.0.1",
        port=0,
        verifier=PrincipalVerifier(public),
        register=lambda srv: changeorders_pb2_grpc.add_ChangeOrdersServiceServicer_to_server(
            servicer, srv
        ),
        service_names=[SERVICE_NAME],
    )
    channel = open_channel(f"127.0.0.1:{port}")
    try:
        yield ChangeOrders(
            url=changeorders_url,
            stub=changeorders_pb2_grpc.ChangeOrdersServiceStub(channel),
            caller=Caller(signer, timeout=20),
            sessions=sessions,
            projects=projects,
            approvals=approvals,
        )
    finally:
        await channel.close()
        await to_projects.close()
        await server.stop(None)
        await engine.dispose()


def _id() -> str:
    return str(uuid.uuid4())


def at(when: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(when)
    return out


def next_week() -> Timestamp:
    return at(datetime.now(UTC) + timedelta(days=7))


@dataclass
class Site:
    """An integrator (in identity), its project in projects with an accepted
    proposal (GBP, 20 % tax, labour), and changeorders to raise orders on it.

    Rooms: "Living room" (R1: a visible soundbar x2 at 899.00 and hidden
    cables x4 at 24.99) and a hidden "Equipment rack" (R2: a switch at 450.00).
    """

    svc: ChangeOrders
    side: ProjectsSide
    project: ppb.Project
    proposal: ppb.Proposal

    @property
    def tenant_id(self) -> str:
        return self.side.tenant_id

    @property
    def pm(self) -> Principal:
        return self.side.pm

    @property
    def approver(self) -> Principal:
        return self.side.approver

    @property
    def viewer(self) -> Principal:
        return self.side.viewer

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.svc(method, request, principal)

    async def fails(
        self, code: grpc.StatusCode, method: str, request: Message, principal: Principal
    ) -> grpc.aio.AioRpcError:
        return await self.svc.fails(code, method, request, principal)

    async def draft(
        self,
        *changes: pb.LineChange,
        title: str = "Second subwoofer",
        deadline: Timestamp | None = None,
        **kw: Any,
    ) -> pb.ChangeOrder:
        request = pb.CreateChangeOrderRequest(
            request_id=kw.pop("request_id", _id()),
            project_id=self.project.id,
            title=title,
            reason="The room is larger than the survey showed.",
            changes=list(changes) or [subwoofer()],
            approval_deadline=deadline or next_week(),
            **kw,
        )
        return (await self("CreateChangeOrder", request, self.pm)).change_order

    async def send(self, order_id: str) -> pb.ChangeOrder:
        request = pb.SendChangeOrderRequest(change_order_id=order_id)
        return (await self("SendChangeOrder", request, self.pm)).change_order

    async def sent(self, *changes: pb.LineChange, **kw: Any) -> pb.ChangeOrder:
        return await self.send((await self.draft(*changes, **kw)).id)

    async def get(self, order_id: str, principal: Principal, **kw: Any) -> pb.ChangeOrder:
        request = pb.GetChangeOrderRequest(change_order_id=order_id, **kw)
        return (await self("GetChangeOrder", request, principal)).change_order

    def approval(self, order: pb.ChangeOrder, **overrides: Any) -> pb.ApproveChangeOrderRequest:
        values: dict[str, Any] = {
            "request_id": _id(),
            "change_order_id": order.id,
            "revision": order.revision,
            "signer_name": "Jane Harrison",
            "consent": True,
            "content_sha256": order.content_sha256,
            "ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (pytest)",
            "signer_email": "jane@example.com",
            "auth_method": "password",
        } | overrides
        return pb.ApproveChangeOrderRequest(**values)

    async def approve(self, order: pb.ChangeOrder, **kw: Any) -> pb.ChangeOrder:
        principal = kw.pop("principal", self.approver)
        return (
            await self("ApproveChangeOrder", self.approval(order, **kw), principal)
        ).change_order

    async def change_access(self, to_state: int) -> None:
        await self.svc.change_customer_access(
            handlers.subscriptions(),
            tenant_id=self.tenant_id,
            customer_id=self.side.customer_id,
            to_state=to_state,
        )


def subwoofer(**kw: Any) -> pb.LineChange:
    """A second subwoofer in the living room, itemised to the client."""
    values: dict[str, Any] = {
        "kind": ADDED,
        "room_key": "R1",
        "description": "SVS SB-3000 subwoofer",
        "quantity": 1,
        "unit_price_minor": 129_900,
        "client_visible": True,
    } | kw
    return pb.LineChange(**values)


async def new_site(changeorders: ChangeOrders) -> Site:
    side = await new_integrator(changeorders.projects)
    project = await side.project()
    living = await side.room(project.id, "Living room")
    rack = await side.room(project.id, "Equipment rack", visible=False)
    await side.line(living.id, "Arc", 2, 89_900, manufacturer="Sonos", description="Soundbar")
    await side.line(living.id, "HDMI 2.1 cable set", 4, 2_499, visible=False)
    await side.line(rack.id, "Managed switch", 1, 45_000, manufacturer="Araknis")
    draft = await side.proposal(project.id, labour_minor=60_000, tax_rate_bps=2_000)
    sent = await side.send(draft.id)
    accepted = await side.accept(sent)
    return Site(changeorders, side, project, accepted)


@pytest.fixture
async def site(changeorders: ChangeOrders) -> Site:
    return await new_site(changeorders)
