"""Rooms and product lines in the console; each must belong to the project in the URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
from gateway.backends import Backends
from gateway.deps import BackendsDep, StaffPage
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


def _line_fields(form: Form, currency: str) -> dict[str, Any]:
    """The line form's fields for AddProductLine / UpdateProductLine; ValueError
    with a sentence for the person if the quantity or price is not one."""
    quantity = form.whole_number("quantity", default=1, what="quantity")
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


# -- the forms on a room or a line ----------------------------------------------------------

Item = projects_pb2.Room | projects_pb2.ProductLine
Finder = Callable[[Backends, SignedIn, str, str], Awaitable[Any]]
# The call to make, the anchor to go back to, and what to say once it is done;
# ValueError with a sentence for the person when the form does not make sense.
Outcome = tuple[Awaitable[Any], str, str]
Action = Callable[["Acting", Any], Outcome]


@dataclass(frozen=True)
class Acting:
    """What an action needs besides its room or line: through what, as whom,
    the form, and the tenant's currency for prices."""

    backends: Backends
    person: Principal
    form: Form
    currency: str


def _room_anchor(item: Item) -> str:
    return f"room-{item.id}" if isinstance(item, projects_pb2.Room) else f"room-{item.room_id}"


def _form_on(find: Finder, action: Action) -> Callable[..., Awaitable[Response]]:
    """Read the form, find the room or line in this project, make the call, go
    back to its room saying what happened (or why not)."""

    async def submit(
        request: Request, project_id: str, item_id: str, signed_in: StaffPage, backends: BackendsDep
    ) -> Response:
        form = await signed_in_form(request, signed_in)
        project_id = page_id(project_id, "project")
        item = await find(backends, signed_in, project_id, item_id)
        acting = Acting(backends, signed_in.person, form, request.state.tenant.currency or "USD")
        try:
            call, anchor, done = action(acting, item)
        except ValueError as exc:
            back = project_url(project_id, _room_anchor(item))
            return see_other(request, back, flash=str(exc), kind="error")
        return await act(request, call, then=project_url(project_id, anchor), done=done)

    return submit


def _now_shown(item: Item) -> str:
    return "hidden from the client" if item.client_visible else "shown to the client"


def _edit_room(a: Acting, room: projects_pb2.Room) -> Outcome:
    position = a.form.whole_number("position", default=0, what="position")  # empty: keep its place
    changes: dict[str, Any] = {"client_visible": a.form.has("client_visible"), "position": position}
    if a.form["name"]:
        changes["name"] = a.form["name"]
    return (
        change_room(a.backends, a.person, room.id, changes),
        f"room-{room.id}",
        "The room is saved.",
    )


def _show_or_hide_room(a: Acting, room: projects_pb2.Room) -> Outcome:
    call = change_room(a.backends, a.person, room.id, {"client_visible": not room.client_visible})
    return call, f"room-{room.id}", f"{room.name} is {_now_shown(room)}."


def _delete_room(a: Acting, room: projects_pb2.Room) -> Outcome:
    return remove_room(a.backends, a.person, room.id), "rooms", f"{room.name} is deleted."


def _add_line(a: Acting, room: projects_pb2.Room) -> Outcome:
    fields = _line_fields(a.form, a.currency)
    request_id = form_request_id(a.form)
    call = add_product_line(a.backends, a.person, room.id, request_id=request_id, **fields)
    return call, f"room-{room.id}", f"The line is added to {room.name}."


def _edit_line(a: Acting, line: projects_pb2.ProductLine) -> Outcome:
    changes = {**_line_fields(a.form, a.currency), "room_id": a.form["room_id"]}
    # An empty room_id keeps its room.
    return (
        change_line(a.backends, a.person, line.id, changes),
        f"room-{line.room_id}",
        "The line is saved.",
    )


def _show_or_hide_line(a: Acting, line: projects_pb2.ProductLine) -> Outcome:
    call = change_line(a.backends, a.person, line.id, {"client_visible": not line.client_visible})
    return call, f"room-{line.room_id}", f"The line is {_now_shown(line)}."


def _remove_line(a: Acting, line: projects_pb2.ProductLine) -> Outcome:
    call = remove_product_line(a.backends, a.person, line.id)
    return call, f"room-{line.room_id}", "The line is removed."


FORMS = [
    ("rooms/{item_id}", _room_of, _edit_room),
    ("rooms/{item_id}/visibility", _room_of, _show_or_hide_room),
    ("rooms/{item_id}/delete", _room_of, _delete_room),
    ("rooms/{item_id}/lines", _room_of, _add_line),
    ("lines/{item_id}", _line_of, _edit_line),
    ("lines/{item_id}/visibility", _line_of, _show_or_hide_line),
    ("lines/{item_id}/remove", _line_of, _remove_line),
]
for path, find, action in FORMS:
    router.add_api_route(
        f"/console/projects/{{project_id}}/{path}", _form_on(find, action), methods=["POST"]
    )
