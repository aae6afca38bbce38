"""Bookings' real gRPC server in-process on a migrated database of its own,
called the way the gateway calls it (a signed principal on every call), and
a fake projects served through the chassis (it sees the principal bookings
forwards). Identity's and projects' events are handed to bookings' own
handlers as the consumer would; each test makes its own integrator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from portal.bookings.v1 import bookings_pb2 as pb
from portal.bookings.v1 import bookings_pb2_grpc
from portal.identity.v1 import events_pb2 as identity_events
from portal.projects.v1 import events_pb2 as project_events
from portal.projects.v1 import projects_pb2 as ppb
from portal.projects.v1 import projects_pb2_grpc
from portal.projects.v1.projects_pb2 import Stage

from deploy.infra import Postgres
from services.bookings import handlers
from services.bookings.grpc_api import BookingsServicer
from services.bookings.projects_client import ProjectsClient
from services.chassis.auth import Principal, PrincipalSigner, PrincipalVerifier, current_principal
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.errors import NotFound
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.runtime import Remote
from tests.grpc_service import ServiceUnderTest, migrated_database, serve_fake, service_name

SERVICE_NAME = service_name(pb, "BookingsService")
ABORTED = grpc.StatusCode.ABORTED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
INVALID = grpc.StatusCode.INVALID_ARGUMENT
WEEKDAYS_9_TO_5 = [pb.WorkingHours(weekday=d, start="09:00", end="17:00") for d in range(1, 8)]


def _id() -> str:
    return str(uuid.uuid4())


def stamp(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


class FakeProjects(projects_pb2_grpc.ProjectsServiceServicer):
    """Projects as bookings asks it: a project's site and its rooms, shown
    only to the project's customer (and staff), as projects decides."""

    def __init__(self) -> None:
        self.projects: dict[str, tuple[str, str]] = {}  # id -> (customer, address)
        self.rooms: dict[str, list[ppb.Room]] = {}
        self.calls: list[tuple[str, str]] = []  # (method, principal kind)

    def _check(self, project_id: str) -> None:
        principal = current_principal()
        customer, _ = self.projects.get(project_id, ("", ""))
        if not customer or (principal.is_client and principal.customer_id != customer):
            raise NotFound("no such project", field="project_id")

    async def GetProject(self, request, context):
        self.calls.append(("GetProject", current_principal().kind))
        self._check(request.project_id)
        customer, address = self.projects[request.project_id]
        return ppb.GetProjectResponse(
            project=ppb.Project(id=request.project_id, customer_id=customer, site_address=address)
        )

    async def ListRooms(self, request, context):
        self.calls.append(("ListRooms", current_principal().kind))
        self._check(request.project_id)
        return ppb.ListRoomsResponse(rooms=self.rooms.get(request.project_id, []))


@dataclass
class Bookings(ServiceUnderTest):
    stub: bookings_pb2_grpc.BookingsServiceStub
    projects: FakeProjects


@pytest.fixture(scope="session")
def bookings_url(postgres: Postgres) -> Iterator[str]:
    with migrated_database(postgres, "bookings") as url:
        yield url


@pytest.fixture(scope="session")
async def bookings(bookings_url: str, keypair: tuple[str, str]) -> AsyncIterator[Bookings]:
    private, public = keypair
    fake = FakeProjects()
    engine = make_engine(bookings_url, pool_size=20)
    sessions = make_sessionmaker(engine)
    async with serve_fake(
        lambda srv: projects_pb2_grpc.add_ProjectsServiceServicer_to_server(fake, srv),
        service_name(ppb, "ProjectsService"),
        public,
    ) as projects_target:
        projects_channel = open_channel(projects_target)
        signer = PrincipalSigner(private)
        projects = ProjectsClient(Remote(projects_channel, Caller(signer), signer))
        servicer = BookingsServicer(sessions, projects)
        server, port, _ = await start_grpc_server(
            host="127.0.0.1",
            port=0,
            verifier=PrincipalVerifier(public),
            register=lambda srv: bookings_pb2_grpc.add_BookingsServiceServicer_to_server(
                servicer, srv
            ),
            service_names=[SERVICE_NAME],
        )
        channel = open_channel(f"127.0.0.1:{port}")
        try:
            yield Bookings(
                url=bookings_url,
                stub=bookings_pb2_grpc.BookingsServiceStub(channel),
                caller=Caller(signer, timeout=30),
                sessions=sessions,
                projects=fake,
            )
        finally:
            await channel.close()
            await server.stop(None)
            await projects_channel.close()
            await engine.dispose()


@dataclass
class Integrator:
    """One tenant: a dispatcher, technicians, a customer with an approver and a
    handed-over project with a cinema room, known to bookings by events."""

    svc: Bookings
    tenant_id: str = field(default_factory=_id)
    customer_id: str = field(default_factory=_id)
    approver_id: str = field(default_factory=_id)
    project_id: str = field(default_factory=_id)
    room_id: str = field(default_factory=_id)
    projector_id: str = field(default_factory=_id)

    def staff(self, *roles: str) -> Principal:
        return Principal(
            kind="staff", subject=_id(), tenant_id=self.tenant_id, roles=frozenset(roles)
        )

    @property
    def dispatcher(self) -> Principal:
        return self.staff("project_manager")

    def client(self, *, customer_id: str | None = None, read_only: bool = False) -> Principal:
        return Principal(
            kind="client",
            subject=self.approver_id,
            tenant_id=self.tenant_id,
            roles=frozenset({"approver"}),
            customer_id=customer_id or self.customer_id,
            read_only=read_only,
        )

    @property
    def gateway(self) -> Principal:
        return Principal(kind="service", subject="gateway", tenant_id=self.tenant_id)

    async def __call__(self, method: str, request: Message, principal: Principal) -> Any:
        return await self.svc(method, request, principal)

    async def fails(self, code, method: str, request: Message, principal: Principal):
        return await self.svc.fails(code, method, request, principal)

    async def deliver(self, payload: Message, *, at: datetime | None = None) -> None:
        await self.svc.deliver(
            handlers.subscriptions(),
            payload,
            tenant_id=self.tenant_id,
            aggregate_id=self.project_id,
            at=at,
        )

    async def technician(self, name: str = "Tom Tech", *, skills=("projectors",)) -> str:
        staff_id = _id()
        await self.deliver(
            identity_events.StaffUserChanged(
                staff_user_id=staff_id,
                email=f"{staff_id[:8]}@acme.example",
                full_name=name,
                roles=["technician"],
            )
        )
        await self(
            "UpdateTechnician",
            pb.UpdateTechnicianRequest(
                staff_user_id=staff_id, skills=list(skills), working_hours=WEEKDAYS_9_TO_5
            ),
            self.dispatcher,
        )
        return staff_id

    async def project(
        self,
        *,
        project_id: str | None = None,
        customer_id: str | None = None,
        stage: int = Stage.STAGE_HANDOVER,
    ) -> str:
        pid, cid = project_id or self.project_id, customer_id or self.customer_id
        await self.deliver(
            project_events.ProjectCreated(
                project_id=pid, reference="PRJ-0001", name="Home cinema", customer_id=cid
            )
        )
        if stage != Stage.STAGE_DESIGN:
            await self.deliver(
                project_events.ProjectStageChanged(
                    project_id=pid,
                    reference="PRJ-0001",
                    name="Home cinema",
                    customer_id=cid,
                    from_stage=stage - 1,
                    to_stage=stage,
                )
            )
        self.svc.projects.projects[pid] = (cid, "12 Elm Road, Bath")
        self.svc.projects.rooms[pid] = [
            ppb.Room(
                id=self.room_id,
                name="Cinema room",
                lines=[
                    ppb.ProductLine(id=self.projector_id, manufacturer="Sony", model="VPL-XW7000")
                ],
            )
        ]
        return pid

    async def service_type(self, **kw: Any) -> pb.ServiceType:
        values = {
            "name": "Projector check",
            "duration_minutes": 60,
            "skills": ["projectors"],
            "buffer_after_minutes": 15,
            "min_notice_minutes": 0,
            "horizon_days": 60,
            "cancel_cutoff_minutes": 24 * 60,
            "reschedule_cutoff_minutes": 24 * 60,
            "allow_service_contract": True,
            "allow_after_handover": True,
            "active": True,
        } | kw
        answer = await self(
            "CreateServiceType",
            pb.CreateServiceTypeRequest(request_id=_id(), service_type=pb.ServiceType(**values)),
            self.dispatcher,
        )
        return answer.service_type

    async def london(self) -> None:
        await self(
            "UpdateBookingSettings",
            pb.UpdateBookingSettingsRequest(
                settings=pb.BookingSettings(time_zone="Europe/London", default_travel_minutes=30)
            ),
            self.dispatcher,
        )

    async def slots(
        self, service_type_id: str, *, days: int = 14, principal=None, **kw
    ) -> list[pb.Slot]:
        start = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        answer = await self(
            "ListSlots",
            pb.ListSlotsRequest(
                service_type_id=service_type_id,
                project_id=kw.pop("project_id", self.project_id),
                from_date=kw.pop("from_date", start),
                days=days,
                **kw,
            ),
            principal or self.client(),
        )
        return list(answer.slots)

    def visit(self, service_type_id: str, starts_at: Timestamp, **kw: Any) -> pb.BookVisitRequest:
        values = {
            "request_id": _id(),
            "project_id": self.project_id,
            "service_type_id": service_type_id,
            "starts_at": starts_at,
            "room_id": self.room_id,
            "product_line_ids": [self.projector_id],
            "description": "The picture flickers after ten minutes.",
        } | kw
        return pb.BookVisitRequest(**values)


@pytest.fixture
async def acme(bookings: Bookings) -> Integrator:
    integrator = Integrator(bookings)
    await integrator.london()
    return integrator
