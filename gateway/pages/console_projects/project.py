"""One project in the console: its page, details, stage moves, stage dates and notes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import grpc
from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.customers import fetch_customer
from gateway.api.people import CustomerOut
from gateway.api.projects import (
    STAGE_NAMES,
    StageInfo,
    StageMove,
    change_project,
    change_stage,
    fetch_board,
    fetch_stage_history,
)
from gateway.api.projects import move_stage as move_to_stage
from gateway.api.proposals import fetch_proposals
from gateway.api.rooms import fetch_rooms
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, StaffPage
from gateway.pages import project_views as views
from gateway.pages import projects as client_pages
from gateway.pages.console_projects.common import (
    act,
    amount_text,
    form_request_id,
    project_url,
    staff_users,
)
from gateway.pages.projects import not_found, page_id
from gateway.pages.rendering import (
    Form,
    looks_like_email,
    render,
    see_other,
    signed_in_form,
)
from gateway.sessions import SignedIn

router = APIRouter(include_in_schema=False)


async def _customer_or_none(
    backends: BackendsDep, signed_in: SignedIn, customer_id: str
) -> CustomerOut | None:
    try:
        return await fetch_customer(backends, signed_in.person, customer_id)
    except RemoteError:
        return None  # the page still works without the contacts' names


async def _client_board(
    backends: BackendsDep, signed_in: SignedIn, project_id: str
) -> tuple[client_pages.BoardView | None, str]:
    """The client's board as projects answers it for them (`as_client`), for the
    preview, or why there is none to show (their portal is closed)."""
    try:
        board = await fetch_board(backends, signed_in.person, project_id, as_client=True)
    except RemoteError as exc:
        if exc.code != grpc.StatusCode.PERMISSION_DENIED:
            raise
        return None, "The client's portal is closed, so they see nothing of this project."
    return client_pages.board_view(board), ""


async def _history(backends: BackendsDep, signed_in: SignedIn, project_id: str) -> list[StageMove]:
    """Newest move first."""
    history = await fetch_stage_history(backends, signed_in.person, project_id)
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(history.changes, key=lambda c: c.changed_at or never, reverse=True)


@router.get("/console/projects/{project_id}")
async def project_page(
    request: Request, project_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    project_id = page_id(project_id, "project")
    staff = signed_in.person
    board = await fetch_board(backends, staff, project_id)
    customer, users, history, rooms, proposals, preview = await asyncio.gather(
        _customer_or_none(backends, signed_in, board.project.customer_id),
        staff_users(backends, signed_in),
        _history(backends, signed_in, project_id),
        fetch_rooms(backends, staff, project_id),
        fetch_proposals(backends, staff, project_id),
        _client_board(backends, signed_in, project_id),
    )
    project = board.project
    stages: dict[str, StageInfo] = {s.stage: s for s in board.stages}
    staff_names = {u.id: u.full_name for u in users}
    choices, move_default = views.move_choices(project.stage)
    return render(
        request,
        "console/project.html",
        signed_in=signed_in,
        surface="console",
        project=project,
        customer=customer,
        users=users,
        staff_names=staff_names,
        steps=views.stage_track(project.stage, board.stages),
        stage_forms=[{"name": name, "info": stages.get(name)} for name in STAGE_NAMES],
        move_choices=choices,
        move_default=move_default,
        current_stage=views.stage_label(project.stage),
        # What the client sees, rendered by the client's own board template.
        board=preview[0],
        no_preview=preview[1],
        history=history,
        rooms=rooms,
        proposals=proposals,
        currency=request.state.tenant.currency or "USD",
        amount_text=amount_text,
        # One id per create form, rendered with it: a double-click creates one thing.
        request_ids={
            key: str(uuid.uuid4()) for key in ["stage", "room", "proposal", *(r.id for r in rooms)]
        },
    )


@router.post("/console/projects/{project_id}/details")
async def update_details(
    request: Request, project_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = project_url(project_id, "details")
    name, email, user_id = form["pm_name"], form["pm_email"], form["pm_user_id"]
    if user_id and not (name and email):
        # Picking a colleague fills in what was left blank.
        users = {u.id: u for u in await staff_users(backends, signed_in)}
        if user_id in users:
            name, email = name or users[user_id].full_name, email or users[user_id].email
    if email and not looks_like_email(email):
        return see_other(
            request,
            back,
            flash="Enter the project manager's email, like name@example.com.",
            kind="error",
        )
    # The form holds every detail, so every detail is in the mask.
    call = change_project(
        backends,
        signed_in.person,
        project_id,
        {
            "name": form["name"],
            "site_address": form["site_address"],
            "project_manager_id": user_id,
            "project_manager_name": name,
            "project_manager_email": email,
            "visible_contact_ids": [c for c in form.getlist("visible_contact_ids") if c],
            "service_contract": form.has("service_contract"),
        },
    )
    return await act(request, call, then=back, done="The project's details are saved.")


@router.post("/console/projects/{project_id}/stage")
async def move_stage(
    request: Request, project_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = project_url(project_id, "stages")
    if form["stage"] not in STAGE_NAMES:
        return see_other(request, back, flash="Choose the stage to move to.", kind="error")
    call = move_to_stage(
        backends,
        signed_in.person,
        project_id,
        request_id=form_request_id(form),
        stage=form["stage"],
        reason=form.text("reason"),
        client_note=form.text("client_note"),
    )
    label = views.STAGE_LABELS[form["stage"]]
    return await act(request, call, then=back, done=f"The project is now in {label}.")


def _day(form: Form, name: str) -> str:
    """An <input type=date> value, "YYYY-MM-DD" or empty; ValueError if neither."""
    value = form[name]
    if value:
        date.fromisoformat(value)
    return value


@router.post("/console/projects/{project_id}/stages/{stage}")
async def update_stage(
    request: Request, project_id: str, stage: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = project_url(project_id, f"stage-{stage}")
    if stage not in STAGE_NAMES:
        raise not_found("stage")
    try:
        dates = {
            n: _day(form, n)
            for n in ("planned_start", "planned_finish", "actual_start", "actual_finish")
        }
    except ValueError:
        return see_other(request, back, flash="Enter dates as YYYY-MM-DD.", kind="error")
    changes = {**dates, "client_note": form.text("client_note")}
    call = change_stage(backends, signed_in.person, project_id, stage, changes)
    label = views.STAGE_LABELS[stage]
    return await act(request, call, then=back, done=f"{label}: dates and note saved.")
