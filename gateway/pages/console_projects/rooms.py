"""Rooms and product lines in the console; each must belong to the project in the URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from portal.projects.v1 import projects_pb2
from starlette.responses import Response

from gateway.api.rooms import (
    add_product_line,
    change_line,
    change_room,
    fetch_rooms,
    make_room,
    remove_product_line,
    remove_room,
)
from gateway.backends import Backends, BackendsDep
from gateway.pages.access import StaffPage
from gateway.pages.console_projects.common import (
    act,
    form_request_id,
    project_url,
)
from gateway.pages.projects import not_found, page_id
from gateway.pages.rendering import (
    Form,
    see_other,
    signed_in_form,
)
from gateway.sessions import SignedIn
from services.chassis.auth import Principal
from services.chassis.money import parse_amount

router = APIRouter(include_in_schema=False)


async def _room_of(
    backends: BackendsDep, signed_in: SignedIn, project_id: str, room_id: str
) -> projects_pb2.Room:
    for room in await fetch_rooms(backends, signed_in.person, project_id):
        if room.id == room_id:
            return room
    raise not_found("room")


async def _line_of(
    backends: BackendsDep, signed_in: SignedIn, project_id: str, line_id: str
) -> projects_pb2.ProductLine:
    for room in await fetch_rooms(backends, signed_in.person, project_id):
        for line in room.lines:
            if line.id == line_id:
                return line
    raise not_found("line")


@router.post("/console/projects/{project_id}/rooms")
async def add_room(
    request: Request, project_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = project_url(project_id, "rooms")
    if not form["name"]:
        return see_other(request, back, flash="Enter the room's name.", kind="error")
    call = make_room(
        backends,
        signed_in.person,
        project_id,
        request_id=form_request_id(form),
        name=form["name"],
        client_visible=form.has("client_visible"),
    )
    return await act(request, call, then=back, done=f"{form['name']} is added.")


@router.post("/console/projects/{project_id}/rooms/{room_id}")
async def edit_room(
    request: Request, project_id: str, room_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    room = await _room_of(backends, signed_in, project_id, room_id)
    back = project_url(project_id, f"room-{room.id}")
    try:
        position = int(form["position"] or 0)  # empty: keep its place
    except ValueError:
        return see_other(request, back, flash="The position is a whole number.", kind="error")
    changes: dict[str, Any] = {"client_visible": form.has("client_visible"), "position": position}
    if form["name"]:
        changes["name"] = form["name"]
    call = change_room(backends, signed_in.person, room.id, changes)
    return await act(request, call, then=back, done="The room is saved.")


def _line_fields(form: Form, currency: str) -> dict[str, Any]:
    """The line form's fields for AddProductLine / UpdateProductLine; ValueError
    with a sentence for the person if the quantity or price is not one."""
    try:
        quantity = int(form["quantity"] or "1")
    except ValueError:
        raise ValueError("The quantity is a whole number, like 2.") from None
    if quantity < 1:
        raise ValueError("The quantity is at least 1.")
    if not (form["description"] or form["model"]):
        raise ValueError("Describe the product: a model or a description.")
    return {
        "manufacturer": form["manufacturer"],
        "model": form["model"],
        "description": form["description"],
        "quantity": quantity,
        "unit_price_minor": parse_amount(form["unit_price"], currency),
        "client_visible": form.has("client_visible"),
    }


@router.post("/console/projects/{project_id}/rooms/{room_id}/lines")
async def add_line(
    request: Request, project_id: str, room_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    room = await _room_of(backends, signed_in, project_id, room_id)
    back = project_url(project_id, f"room-{room.id}")
    try:
        fields = _line_fields(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    call = add_product_line(
        backends, signed_in.person, room.id, request_id=form_request_id(form), **fields
    )
    return await act(request, call, then=back, done=f"The line is added to {room.name}.")


@router.post("/console/projects/{project_id}/lines/{line_id}")
async def edit_line(
    request: Request, project_id: str, line_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    line = await _line_of(backends, signed_in, project_id, line_id)
    back = project_url(project_id, f"room-{line.room_id}")
    try:
        fields = _line_fields(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    changes = {**fields, "room_id": form["room_id"]}  # an empty room_id keeps its room
    call = change_line(backends, signed_in.person, line.id, changes)
    return await act(request, call, then=back, done="The line is saved.")


# -- the buttons: a form with only its CSRF token, acting on one room or line --------------

Item = projects_pb2.Room | projects_pb2.ProductLine
Finder = Callable[[Backends, SignedIn, str, str], Awaitable[Any]]
# The call to make, the anchor to go back to, and what to say once it is done.
Action = Callable[[Backends, Principal, Any], tuple[Awaitable[Any], str, str]]


def _button(find: Finder, action: Action) -> Callable[..., Awaitable[Response]]:
    async def press(
        request: Request, project_id: str, item_id: str, signed_in: StaffPage, backends: BackendsDep
    ) -> Response:
        await signed_in_form(request, signed_in)
        project_id = page_id(project_id, "project")
        item = await find(backends, signed_in, project_id, item_id)
        call, anchor, done = action(backends, signed_in.person, item)
        return await act(request, call, then=project_url(project_id, anchor), done=done)

    return press


def _now_shown(item: Item) -> str:
    return "hidden from the client" if item.client_visible else "shown to the client"


def _show_or_hide_room(
    backends: Backends, person: Principal, room: projects_pb2.Room
) -> tuple[Awaitable[Any], str, str]:
    call = change_room(backends, person, room.id, {"client_visible": not room.client_visible})
    return call, f"room-{room.id}", f"{room.name} is {_now_shown(room)}."


def _delete_room(
    backends: Backends, person: Principal, room: projects_pb2.Room
) -> tuple[Awaitable[Any], str, str]:
    return remove_room(backends, person, room.id), "rooms", f"{room.name} is deleted."


def _show_or_hide_line(
    backends: Backends, person: Principal, line: projects_pb2.ProductLine
) -> tuple[Awaitable[Any], str, str]:
    call = change_line(backends, person, line.id, {"client_visible": not line.client_visible})
    return call, f"room-{line.room_id}", f"The line is {_now_shown(line)}."


def _remove_line(
    backends: Backends, person: Principal, line: projects_pb2.ProductLine
) -> tuple[Awaitable[Any], str, str]:
    call = remove_product_line(backends, person, line.id)
    return call, f"room-{line.room_id}", "The line is removed."


BUTTONS = [
    ("rooms/{item_id}/visibility", _room_of, _show_or_hide_room),
    ("rooms/{item_id}/delete", _room_of, _delete_room),
    ("lines/{item_id}/visibility", _line_of, _show_or_hide_line),
    ("lines/{item_id}/remove", _line_of, _remove_line),
]
for path, find, action in BUTTONS:
    router.add_api_route(
        f"/console/projects/{{project_id}}/{path}", _button(find, action), methods=["POST"]
    )
