"""Rooms and their product lines. Every change locks the project row first, so
positions are assigned one at a time and a proposal snapshot (which takes the
same lock) never sees half an edit."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, func, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import check_request_id, parse_uuid
from services.projects import domain_money, domain_rooms
from services.projects.models import ProductLine, Project, Room
from services.projects.service.common import (
    EDITOR_ROLE,
    Sessions,
    client_view,
    load_project,
)


@dataclass(frozen=True)
class LineView:
    line: ProductLine
    currency: str

    @property
    def line_total_minor(self) -> int:
        return domain_money.line_total(self.line.quantity, self.line.unit_price_minor)


@dataclass(frozen=True)
class RoomView:
    room: Room
    lines: tuple[LineView, ...]
    currency: str
    # Every line of the room, itemised to this caller or not: the room costs
    # what it costs (the proposal shows a client the difference as other items).
    total_minor: int


async def load_rooms(
    uow: UnitOfWork, project_id: uuid.UUID
) -> list[tuple[Room, list[ProductLine]]]:
    """The project's rooms in order, each with its lines in order."""
    rooms = list(
        await uow.session.scalars(
            select(Room)
            .where(Room.project_id == project_id)
            .order_by(Room.position, Room.created_at, Room.id)
        )
    )
    lines: dict[uuid.UUID, list[ProductLine]] = defaultdict(list)
    for line in await uow.session.scalars(
        select(ProductLine)
        .where(ProductLine.project_id == project_id)
        .order_by(ProductLine.position, ProductLine.created_at, ProductLine.id)
    ):
        lines[line.room_id].append(line)
    return [(room, lines[room.id]) for room in rooms]


def room_view(room: Room, lines: list[ProductLine], currency: str, *, for_client: bool) -> RoomView:
    views = tuple(LineView(line, currency) for line in lines)
    total = sum(v.line_total_minor for v in views)
    if for_client:
        views = tuple(v for v in views if v.line.client_visible)
    return RoomView(room, views, currency, total)


async def list_rooms(
    *, sessions: Sessions, principal: Principal, project_id: str
) -> list[RoomView]:
    """Staff see every room and line; a client only those ticked client-visible
    (a hidden room hides its lines whatever their own flag)."""
    for_client = client_view(principal)
    async with UnitOfWork(sessions, principal.require_reader()) as uow:
        project = await load_project(uow, principal, project_id)
        rows = await load_rooms(uow, project.id)
    return [
        room_view(room, lines, project.currency, for_client=for_client)
        for room, lines in rows
        if room.client_visible or not for_client
    ]


async def _room_for_change(
    uow: UnitOfWork, principal: Principal, room_id: str
) -> tuple[Project, Room]:
    rid = parse_uuid(room_id, field="room_id")
    project_id = await uow.session.scalar(select(Room.project_id).where(Room.id == rid))
    if project_id is None:
        raise NotFound("no such room", field="room_id")
    project = await load_project(uow, principal, project_id, lock=True, field="room_id")
    room = await uow.session.scalar(select(Room).where(Room.id == rid))
    if room is None:  # deleted while we waited for the lock
        raise NotFound("no such room", field="room_id")
    return project, room


async def _room_view(uow: UnitOfWork, project: Project, room: Room) -> RoomView:
    lines = list(
        await uow.session.scalars(
            select(ProductLine)
            .where(ProductLine.room_id == room.id)
            .order_by(ProductLine.position, ProductLine.created_at, ProductLine.id)
        )
    )
    return room_view(room, lines, project.currency, for_client=False)


async def create_room(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    project_id: str,
    name: str,
    client_visible: bool,
) -> RoomView:
    tenant_id = principal.require_editor(EDITOR_ROLE)
    name = domain_rooms.check_room_name(name)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        project = await load_project(uow, principal, project_id, lock=True)
        digest = fingerprint(
            "CreateRoom", project_id=project.id, name=name, client_visible=client_visible
        )
        room = await uow.session.scalar(select(Room).where(Room.request_id == request_id))
        if room is not None:
            refuse_reuse(stored=room.request_sha256, given=digest)
        else:
            last = await uow.session.scalar(
                select(func.max(Room.position)).where(Room.project_id == project.id)
            )
            room = Room(
                tenant_id=project.tenant_id,
                project_id=project.id,
                request_id=request_id,
                request_sha256=digest,
                name=name,
                client_visible=client_visible,
                position=(last or 0) + 1,
            )
            uow.session.add(room)
            await uow.flush()
        view = await _room_view(uow, project, room)
        await uow.commit()
    return view


async def update_room(
    *, sessions: Sessions, principal: Principal, room_id: str, changes: Mapping[str, Any]
) -> RoomView:
    """Changes only the fields in `changes` (from the request's field mask);
    a position (1-based among the project's rooms) moves the room, 0 keeps its place."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    async with UnitOfWork(sessions, tenant_id) as uow:
        project, room = await _room_for_change(uow, principal, room_id)
        if "name" in changes:
            room.name = domain_rooms.check_room_name(changes["name"])
        if "client_visible" in changes:
            room.client_visible = changes["client_visible"]
        if changes.get("position"):
            rooms = [r for r, _ in await load_rooms(uow, project.id)]
            moved = domain_rooms.move_to(rooms, room, changes["position"])
            for place, each in enumerate(moved, start=1):
                each.position = place
        view = await _room_view(uow, project, room)
        await uow.commit()
    return view


async def delete_room(*, sessions: Sessions, principal: Principal, room_id: str) -> None:
    """The room and its lines go; proposals keep their own copies."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    async with UnitOfWork(sessions, tenant_id) as uow:
        _, room = await _room_for_change(uow, principal, room_id)
        await uow.session.execute(delete(ProductLine).where(ProductLine.room_id == room.id))
        await uow.session.delete(room)
        await uow.commit()


async def _next_line_position(uow: UnitOfWork, room_id: uuid.UUID) -> int:
    last = await uow.session.scalar(
        select(func.max(ProductLine.position)).where(ProductLine.room_id == room_id)
    )
    return (last or 0) + 1


async def add_product_line(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    room_id: str,
    manufacturer: str,
    model: str,
    description: str,
    quantity: int,
    unit_price_minor: int,
    client_visible: bool,
) -> LineView:
    tenant_id = principal.require_editor(EDITOR_ROLE)
    data = domain_rooms.check_line(
        manufacturer=manufacturer,
        model=model,
        description=description,
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        client_visible=client_visible,
    )
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        project, room = await _room_for_change(uow, principal, room_id)
        digest = fingerprint("AddProductLine", room_id=room.id, **asdict(data))
        line = await uow.session.scalar(
            select(ProductLine).where(ProductLine.request_id == request_id)
        )
        if line is not None:
            refuse_reuse(stored=line.request_sha256, given=digest)
        else:
            line = ProductLine(
                tenant_id=project.tenant_id,
                project_id=project.id,
                room_id=room.id,
                request_id=request_id,
                request_sha256=digest,
                manufacturer=data.manufacturer,
                model=data.model,
                description=data.description,
                quantity=data.quantity,
                unit_price_minor=data.unit_price_minor,
                client_visible=data.client_visible,
                position=await _next_line_position(uow, room.id),
            )
            uow.session.add(line)
        await uow.commit()
    return LineView(line, project.currency)


async def _line_for_change(
    uow: UnitOfWork, principal: Principal, line_id: str
) -> tuple[Project, ProductLine]:
    lid = parse_uuid(line_id, field="line_id")
    project_id = await uow.session.scalar(
        select(ProductLine.project_id).where(ProductLine.id == lid)
    )
    if project_id is None:
        raise NotFound("no such product line", field="line_id")
    project = await load_project(uow, principal, project_id, lock=True, field="line_id")
    line = await uow.session.scalar(select(ProductLine).where(ProductLine.id == lid))
    if line is None:
        raise NotFound("no such product line", field="line_id")
    return project, line


def _line_input(line: ProductLine) -> domain_rooms.LineInput:
    return domain_rooms.LineInput(
        manufacturer=line.manufacturer,
        model=line.model,
        description=line.description,
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        client_visible=line.client_visible,
    )


async def update_product_line(
    *, sessions: Sessions, principal: Principal, line_id: str, changes: Mapping[str, Any]
) -> LineView:
    """Changes only the fields in `changes` (from the request's field mask); a
    room_id moves the line to the end of another room of the same project (empty:
    it stays). Sent proposals keep the line as it was."""
    tenant_id = principal.require_editor(EDITOR_ROLE)
    async with UnitOfWork(sessions, tenant_id) as uow:
        project, line = await _line_for_change(uow, principal, line_id)
        data = domain_rooms.change_line(_line_input(line), changes)
        if changes.get("room_id"):
            await _move_line(uow, project, line, changes["room_id"])
        line.manufacturer, line.model = data.manufacturer, data.model
        line.description, line.quantity = data.description, data.quantity
        line.unit_price_minor, line.client_visible = data.unit_price_minor, data.client_visible
        await uow.commit()
    return LineView(line, project.currency)


async def _move_line(uow: UnitOfWork, project: Project, line: ProductLine, room_id: str) -> None:
    target = await uow.session.scalar(
        select(Room).where(
            Room.id == parse_uuid(room_id, field="room_id"), Room.project_id == project.id
        )
    )
    if target is None:
        raise NotFound("no such room in this project", field="room_id")
    if target.id != line.room_id:
        # Counted before the move (an autoflush would count the line itself).
        line.position = await _next_line_position(uow, target.id)
        line.room_id = target.id


async def remove_product_line(*, sessions: Sessions, principal: Principal, line_id: str) -> None:
    tenant_id = principal.require_editor(EDITOR_ROLE)
    async with UnitOfWork(sessions, tenant_id) as uow:
        _, line = await _line_for_change(uow, principal, line_id)
        await uow.session.delete(line)
        await uow.commit()
