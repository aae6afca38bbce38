"""Rooms and their product lines. Reading is for staff and clients (projects
hands a client only what is ticked client-visible); changing is staff only.

PATCH sends only the fields in the body, as UpdateRoom / UpdateProductLine's
field mask: the service changes those under its lock, in one call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status
from portal.projects.v1 import projects_pb2
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import Line, MinorUnits, Text
from gateway.api.translate import MoneyOut, masked, money_out
from gateway.deps import BackendsDep, CallerDep, RequestIdDep, StaffDep
from gateway.problems import problem_responses
from services.chassis.auth import Principal

router = APIRouter(tags=["rooms"], responses=problem_responses(401, 403, 409))
P = projects_pb2


class ProductLine(BaseModel):
    id: str
    room_id: str
    manufacturer: str
    model: str
    description: str
    quantity: int
    unit_price: MoneyOut | None
    line_total: MoneyOut | None
    client_visible: bool
    position: int


class Room(BaseModel):
    id: str
    name: str
    client_visible: bool
    position: int
    lines: list[ProductLine]
    total: MoneyOut | None


class Rooms(BaseModel):
    rooms: list[Room]


class NewRoom(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(max_length=200)
    client_visible: bool = Field(True, description="Whether the client sees the room.")


class RoomChange(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(None, max_length=200)
    client_visible: bool | None = None
    position: int | None = Field(
        None, ge=0, le=10_000, description="Order among the project's rooms; 0 keeps it."
    )


class NewLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manufacturer: Line = Field("", max_length=200)
    model: Line = Field("", max_length=200)
    description: Text = Field("", max_length=2000)
    quantity: int = Field(1, ge=1, le=100_000)
    unit_price_minor: MinorUnits = Field(description="In the project's currency's minor units.")
    client_visible: bool = Field(True, description="Whether the client sees the line itemised.")


class LineChange(BaseModel):
    """Only the fields sent change; `room_id` moves the line to another room
    of the same project."""

    model_config = ConfigDict(extra="forbid")

    manufacturer: Line | None = Field(None, max_length=200)
    model: Line | None = Field(None, max_length=200)
    description: Text | None = Field(None, max_length=2000)
    quantity: int | None = Field(None, ge=1, le=100_000)
    unit_price_minor: MinorUnits | None = None
    client_visible: bool | None = None
    room_id: UUID | None = None


def line_out(line: projects_pb2.ProductLine) -> ProductLine:
    return ProductLine(
        id=line.id,
        room_id=line.room_id,
        manufacturer=line.manufacturer,
        model=line.model,
        description=line.description,
        quantity=line.quantity,
        unit_price=money_out(line, "unit_price"),
        line_total=money_out(line, "line_total"),
        client_visible=line.client_visible,
        position=line.position,
    )


def room_out(room: projects_pb2.Room) -> Room:
    return Room(
        id=room.id,
        name=room.name,
        client_visible=room.client_visible,
        position=room.position,
        lines=[line_out(x) for x in room.lines],
        total=money_out(room, "total"),
    )


async def fetch_rooms(
    backends: BackendsDep, principal: Principal, project_id: UUID | str
) -> list[projects_pb2.Room]:
    """The project's rooms, as projects shows them to the caller (a client gets
    only what is client-visible: projects decides, the gateway renders)."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListRooms,
        P.ListRoomsRequest(project_id=str(project_id)),
        principal=principal,
    )
    return list(answer.rooms)


async def change_room(
    backends: BackendsDep, principal: Principal, room_id: UUID | str, changes: Mapping[str, Any]
) -> Room:
    """UpdateRoom with `changes` as its field mask (the API and the console forms)."""
    projects = backends.projects
    request = masked(P.UpdateRoomRequest(room_id=str(room_id)), changes)
    answer = await projects.call(projects.stub.UpdateRoom, request, principal=principal)
    return room_out(answer.room)


async def change_line(
    backends: BackendsDep, principal: Principal, line_id: UUID | str, changes: Mapping[str, Any]
) -> ProductLine:
    """UpdateProductLine with `changes` as its field mask (the API and the console forms)."""
    projects = backends.projects
    request = masked(P.UpdateProductLineRequest(line_id=str(line_id)), changes)
    answer = await projects.call(projects.stub.UpdateProductLine, request, principal=principal)
    return line_out(answer.line)


async def make_room(
    backends: BackendsDep,
    principal: Principal,
    project_id: UUID | str,
    *,
    request_id: str,
    name: str,
    client_visible: bool,
) -> Room:
    """CreateRoom (the API's POST and the console's "Add a room")."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.CreateRoom,
        P.CreateRoomRequest(
            request_id=request_id,
            project_id=str(project_id),
            name=name,
            client_visible=client_visible,
        ),
        principal=principal,
    )
    return room_out(answer.room)


async def remove_room(backends: BackendsDep, principal: Principal, room_id: UUID | str) -> None:
    projects = backends.projects
    await projects.call(
        projects.stub.DeleteRoom, P.DeleteRoomRequest(room_id=str(room_id)), principal=principal
    )


async def add_product_line(
    backends: BackendsDep,
    principal: Principal,
    room_id: UUID | str,
    *,
    request_id: str,
    manufacturer: str,
    model: str,
    description: str,
    quantity: int,
    unit_price_minor: int,
    client_visible: bool,
) -> ProductLine:
    """AddProductLine (the API's POST and the console's line form)."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.AddProductLine,
        P.AddProductLineRequest(
            request_id=request_id,
            room_id=str(room_id),
            manufacturer=manufacturer,
            model=model,
            description=description,
            quantity=quantity,
            unit_price_minor=unit_price_minor,
            client_visible=client_visible,
        ),
        principal=principal,
    )
    return line_out(answer.line)


async def remove_product_line(
    backends: BackendsDep, principal: Principal, line_id: UUID | str
) -> None:
    projects = backends.projects
    await projects.call(
        projects.stub.RemoveProductLine,
        P.RemoveProductLineRequest(line_id=str(line_id)),
        principal=principal,
    )


@router.get("/projects/{project_id}/rooms", summary="A project's rooms and product lines")
async def list_rooms(project_id: UUID, caller: CallerDep, backends: BackendsDep) -> Rooms:
    rooms = await fetch_rooms(backends, caller, project_id)
    return Rooms(rooms=[room_out(r) for r in rooms])


@router.post(
    "/projects/{project_id}/rooms", status_code=status.HTTP_201_CREATED, summary="Add a room"
)
async def create_room(
    project_id: UUID,
    body: NewRoom,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
) -> Room:
    return await make_room(
        backends,
        staff,
        project_id,
        request_id=request_id,
        name=body.name,
        client_visible=body.client_visible,
    )


@router.patch("/rooms/{room_id}", summary="Rename, reorder, show or hide a room")
async def update_room(
    room_id: UUID, body: RoomChange, staff: StaffDep, backends: BackendsDep
) -> Room:
    return await change_room(backends, staff, room_id, body.model_dump(exclude_unset=True))


@router.delete(
    "/rooms/{room_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a room and its lines",
)
async def delete_room(room_id: UUID, staff: StaffDep, backends: BackendsDep) -> Response:
    await remove_room(backends, staff, room_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/rooms/{room_id}/lines",
    status_code=status.HTTP_201_CREATED,
    summary="Add a product line to a room",
)
async def add_line(
    room_id: UUID,
    body: NewLine,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
) -> ProductLine:
    return await add_product_line(
        backends, staff, room_id, request_id=request_id, **body.model_dump()
    )


@router.patch("/lines/{line_id}", summary="Change, move, show or hide a product line")
async def update_line(
    line_id: UUID, body: LineChange, staff: StaffDep, backends: BackendsDep
) -> ProductLine:
    return await change_line(backends, staff, line_id, body.model_dump(exclude_unset=True))


@router.delete(
    "/lines/{line_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a product line",
)
async def remove_line(line_id: UUID, staff: StaffDep, backends: BackendsDep) -> Response:
    await remove_product_line(backends, staff, line_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
