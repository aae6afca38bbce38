"""What bookings asks projects, with the caller's own principal: the project
as they may see it (its site address) and its rooms and products as projects
shows them to that caller. Projects alone decides what a client sees; we keep
no copy of rooms (projects publishes no room events) and snapshot the chosen
room and products onto the work order, so the visit's record stays as booked."""

from __future__ import annotations

from dataclasses import dataclass

from portal.projects.v1 import projects_pb2, projects_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.grpc_client import Caller
from services.chassis.runtime import Remote


@dataclass(frozen=True)
class Product:
    line_id: str
    manufacturer: str
    model: str


@dataclass(frozen=True)
class Room:
    room_id: str
    name: str
    products: tuple[Product, ...]


class ProjectsClient:
    def __init__(self, projects: Remote) -> None:
        self._stub = projects_pb2_grpc.ProjectsServiceStub(projects.channel)
        # Refusals come back as projects' DomainError: NOT_FOUND stays NOT_FOUND.
        self._call = Caller(projects.signer, domain_errors=True)

    async def site_address(self, principal: Principal, project_id: str) -> str:
        answer = await self._call(
            self._stub.GetProject, projects_pb2.GetProjectRequest(project_id=project_id), principal
        )
        return str(answer.project.site_address)

    async def rooms(self, principal: Principal, project_id: str) -> list[Room]:
        answer = await self._call(
            self._stub.ListRooms, projects_pb2.ListRoomsRequest(project_id=project_id), principal
        )
        return [
            Room(
                room_id=r.id,
                name=r.name,
                products=tuple(Product(x.id, x.manufacturer, x.model) for x in r.lines),
            )
            for r in answer.rooms
        ]
