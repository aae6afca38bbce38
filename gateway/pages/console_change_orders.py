"""Change orders in the console: a project's orders and a new one drafted
against the contract (every line with its key), one order's page (its
changes, the diff, the thread, the evidence chain), and the staff actions:
add or remove a change on a draft, send, revise with an answer in the
thread, withdraw. Changeorders prices every change and decides what may
happen; a refusal comes back as the flash message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from starlette.responses import Response

from gateway.api.changeorders import calls
from gateway.api.changeorders.requests import ChangeOrderIn, LineChangeIn, Revision
from gateway.api.changeorders.shapes import ChangeOrder, Comment
from gateway.api.projects import fetch_project
from gateway.backends import Backends, RemoteError
from gateway.deps import BackendsDep, ChangeOrdersDep, StaffPage
from gateway.pages.console_projects.common import act, form_request_id, staff_users
from gateway.pages.projects import page_id
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from services.chassis.money import parse_amount

router = APIRouter(include_in_schema=False)
KINDS = {
    "added": "Add an item",
    "removed": "Remove a line",
    "quantity": "Change a quantity",
    "repriced": "Change a price",
    "swapped": "Swap the product",
    "labour": "Change the labour",
}
STAGES = ("install", "commissioning", "handover", "procurement", "design")


def change_from(form: Form, currency: str) -> LineChangeIn:
    """One change as the form gives it; ValueError with a sentence when a
    number is not one. Whether it fits the contract is changeorders' call."""
    kind = form["kind"] if form["kind"] in KINDS else "added"
    target = form["target"]
    quantity = form["quantity"]
    price = form["unit_price"]
    if quantity and not (quantity.isdigit() and len(quantity) < 7):
        raise ValueError("Quantity: a whole number, like 2.")
    room_key = target.removeprefix("room:") if target.startswith("room:") else ""
    return LineChangeIn.model_construct(
        kind=kind,
        line_key="" if kind == "added" or target.startswith("room:") else target,
        room_key=room_key if kind == "added" else "",
        new_room_name=form["new_room_name"] if kind == "added" and not room_key else "",
        description=form["description"],
        quantity=int(quantity) if quantity else None,
        unit_price_minor=parse_amount(price, currency, allow_negative=True) if price else None,
        client_visible=not form.has("internal"),
        labour=form.has("labour"),
        labour_minor=parse_amount(form["labour_amount"], currency) if kind == "labour" else None,
        note=form.text("note"),
    )


def _deadline(form: Form) -> datetime:
    days = form["deadline_days"]
    return datetime.now(UTC) + timedelta(
        days=int(days) if days.isdigit() and 0 < int(days) <= 90 else 7
    )


def _days(form: Form) -> int:
    text = form["schedule_days"].strip()
    try:
        return max(-365, min(365, int(text))) if text else 0
    except ValueError:
        return 0


def order_url(order: ChangeOrder | UUID | str) -> str:
    return f"/console/change-orders/{order.id if isinstance(order, ChangeOrder) else order}"


@router.get("/console/projects/{project_id}/change-orders")
async def change_orders_page(
    request: Request,
    project_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    pid = UUID(page_id(project_id, "project"))
    staff = signed_in.person
    project = await fetch_project(backends, staff, str(pid))
    orders = await calls.list_change_orders(
        remote, staff, pid, common_pb2.PageRequest(page_size=100)
    )
    try:
        contract, no_contract = await calls.fetch_contract(remote, staff, pid), ""
    except RemoteError as exc:
        contract, no_contract = None, refusal(exc).message
    return render(
        request,
        "console/change_orders.html",
        signed_in=signed_in,
        surface="console",
        project=project,
        orders=orders.change_orders,
        contract=contract,
        no_contract=no_contract,
        kinds=KINDS,
        stages=STAGES,
        request_id=str(uuid.uuid4()),
    )


@router.post("/console/projects/{project_id}/change-orders")
async def create_change_order(
    request: Request,
    project_id: str,
    signed_in: StaffPage,
    remote: ChangeOrdersDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    pid = UUID(page_id(project_id, "project"))
    back = f"/console/projects/{pid}/change-orders"
    if not form["title"] or not form.text("reason"):
        return see_other(request, back, flash="Give the change a title and a reason.", kind="error")
    try:
        change = change_from(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    body = ChangeOrderIn.model_construct(
        title=form["title"],
        reason=form.text("reason"),
        changes=[change],
        schedule_impact_days=_days(form),
        shift_from_stage=form["shift_from_stage"] if form["shift_from_stage"] in STAGES else "",
        approval_deadline=_deadline(form),
    )
    try:
        order = await calls.create_change_order(
            remote, signed_in.person, pid, body, request_id=form_request_id(form)
        )
    except RemoteError as exc:
        return see_other(request, back, flash=refusal(exc).message, kind="error")
    return see_other(
        request, order_url(order), flash=f"{order.number} is drafted. Add changes, then send it."
    )


@router.get("/console/change-orders/{order_id}")
async def change_order_page(
    request: Request,
    order_id: str,
    signed_in: StaffPage,
    remote: ChangeOrdersDep,
    backends: BackendsDep,
) -> Response:
    oid = UUID(page_id(order_id, "change order"))
    staff = signed_in.person
    order = await calls.fetch_change_order(remote, staff, oid)
    trail, names = await asyncio.gather(
        calls.audit_trail(remote, staff, oid), _staff_names(backends, signed_in, order)
    )
    return render(
        request,
        "console/change_order.html",
        signed_in=signed_in,
        surface="console",
        order=order,
        thread=[(c, author_of(c, names)) for c in order.comments],
        trail=trail,
        kinds=KINDS,
        stages=STAGES,
        request_id=str(uuid.uuid4()),
    )


def author_of(comment: Comment, staff_names: Mapping[str, str]) -> str:
    """Who wrote a comment in the thread, as staff read it: a client by the
    name they signed in with; staff by identity's name for them (changeorders
    keeps their id, identity owns what they are called); "" for a staff
    author identity does not name (the page says "A team member")."""
    if comment.author_kind == "staff":
        return staff_names.get(comment.author_id) or comment.author_name
    return comment.author_name or "The client"


async def _staff_names(
    backends: Backends, signed_in: SignedIn, order: ChangeOrder
) -> dict[str, str]:
    """Identity's names for the staff, asked only when staff answered in the thread."""
    if not any(c.author_kind == "staff" for c in order.comments):
        return {}
    try:
        users = await staff_users(backends, signed_in)
    except RemoteError:
        return {}  # the thread still reads, its staff unnamed
    return {u.id: u.full_name for u in users}


async def _changes(remote: ChangeOrdersDep, signed_in: Any, oid: UUID) -> list[dict[str, Any]]:
    order = await calls.fetch_change_order(remote, signed_in.person, oid)
    return [c.model_dump() for c in order.changes]


@router.post("/console/change-orders/{order_id}/changes")
async def add_change(
    request: Request, order_id: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    try:
        change = change_from(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, order_url(oid), flash=str(exc), kind="error")
    changes = [*await _changes(remote, signed_in, oid), change.model_dump()]
    call = calls.update_change_order(remote, signed_in.person, oid, {"changes": changes})
    return await act(request, call, then=order_url(oid), done="The change is added and priced.")


@router.post("/console/change-orders/{order_id}/changes/{index}/remove")
async def remove_change(
    request: Request, order_id: str, index: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    # The position as the page numbered it; anything else removes nothing.
    position = int(index) if index.isdigit() and len(index) < 4 else -1
    changes = await _changes(remote, signed_in, oid)
    kept = [c for i, c in enumerate(changes) if i != position]
    call = calls.update_change_order(remote, signed_in.person, oid, {"changes": kept})
    return await act(request, call, then=order_url(oid), done="The change is removed.")


@router.post("/console/change-orders/{order_id}/send")
async def send(
    request: Request, order_id: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    call = calls.send_change_order(remote, signed_in.person, oid)
    done = "Sent. The client can now read it, approve it or push back."
    return await act(request, call, then=order_url(oid), done=done)


@router.post("/console/change-orders/{order_id}/details")
async def edit_details(
    request: Request, order_id: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    """A draft's title and reason: a revision keeps the previous one's words
    until staff say why it changed (the client reads them on the order and
    on the signed certificate). changeorders refuses empty or unusable words."""
    form = await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    words = {"title": form["title"], "reason": form.text("reason")}
    call = calls.update_change_order(remote, signed_in.person, oid, words)
    return await act(request, call, then=order_url(oid), done="The title and reason are saved.")


@router.post("/console/change-orders/{order_id}/revise")
async def revise(
    request: Request, order_id: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    body = Revision.model_construct(
        title="",
        reason="",
        changes=[],
        schedule_impact_days=None,
        shift_from_stage="",
        approval_deadline=_deadline(form),
        comment=form.text("comment"),
    )
    call = calls.revise_change_order(
        remote, signed_in.person, oid, body, request_id=form_request_id(form)
    )
    done = "A new revision is drafted with the same changes: edit it, then send it."
    return await act(request, call, then=order_url(oid), done=done)


@router.post("/console/change-orders/{order_id}/withdraw")
async def withdraw(
    request: Request, order_id: str, signed_in: StaffPage, remote: ChangeOrdersDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    oid = UUID(page_id(order_id, "change order"))
    call = calls.withdraw_change_order(remote, signed_in.person, oid, form.text("reason"))
    return await act(request, call, then=order_url(oid), done="The change order is withdrawn.")
