"""Proposals in the console: draft, edit, send, and a proposal's own page."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from portal.projects.v1 import projects_pb2
from starlette.responses import Response

from gateway.api.projects import fetch_board
from gateway.api.proposals import change_proposal, draft, fetch_proposal, send
from gateway.backends import RemoteError
from gateway.deps import BackendsDep, StaffPage
from gateway.pages.console_projects.common import (
    act,
    amount_text,
    form_request_id,
    project_url,
)
from gateway.pages.projects import not_found, page_id
from gateway.pages.rendering import (
    Form,
    refusal,
    render,
    see_other,
    signed_in_form,
)
from gateway.sessions import SignedIn
from services.chassis.money import parse_amount, parse_percent_bps

router = APIRouter(include_in_schema=False)


def _proposal_numbers(form: Form, currency: str) -> dict[str, int]:
    return {
        "labour_minor": parse_amount(form["labour"], currency),
        "discount_minor": parse_amount(form["discount"], currency),
        "tax_rate_bps": parse_percent_bps(form["tax_rate"]),
    }


@router.post("/console/projects/{project_id}/proposals")
async def create_proposal(
    request: Request, project_id: str, signed_in: StaffPage, backends: BackendsDep
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    back = project_url(project_id, "proposals")
    if not form["title"]:
        return see_other(request, back, flash="Give the proposal a title.", kind="error")
    try:
        numbers = _proposal_numbers(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    try:
        proposal = await draft(
            backends,
            signed_in.person,
            project_id,
            request_id=form_request_id(form),
            title=form["title"],
            introduction=form.text("introduction"),
            **numbers,
        )
    except RemoteError as exc:
        return see_other(request, back, flash=refusal(exc).message, kind="error")
    return see_other(
        request,
        f"/console/projects/{project_id}/proposals/{proposal.id}",
        flash=f"Version {proposal.version} is drafted from the rooms and lines. "
        "Check it, then send it.",
    )


async def _proposal_of(
    backends: BackendsDep, signed_in: SignedIn, project_id: str, proposal_id: str
) -> projects_pb2.Proposal:
    proposal = await fetch_proposal(backends, signed_in.person, page_id(proposal_id, "proposal"))
    if proposal.project_id != project_id:
        raise not_found("proposal")
    return proposal


@router.get("/console/projects/{project_id}/proposals/{proposal_id}")
async def proposal_page(
    request: Request,
    project_id: str,
    proposal_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    project_id = page_id(project_id, "project")
    board, proposal = await asyncio.gather(
        fetch_board(backends, signed_in.person, project_id),
        _proposal_of(backends, signed_in, project_id, proposal_id),
    )
    return render(
        request,
        "console/proposal.html",
        signed_in=signed_in,
        surface="console",
        project=board.project,
        proposal=proposal,
        amount_text=amount_text,
    )


@router.post("/console/projects/{project_id}/proposals/{proposal_id}")
async def edit_proposal(
    request: Request,
    project_id: str,
    proposal_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    proposal = await _proposal_of(backends, signed_in, project_id, proposal_id)
    back = f"/console/projects/{project_id}/proposals/{proposal.id}"
    try:
        numbers = _proposal_numbers(form, request.state.tenant.currency or "USD")
    except ValueError as exc:
        return see_other(request, back, flash=str(exc), kind="error")
    changes = {"introduction": form.text("introduction"), **numbers}
    if form["title"]:  # an emptied title keeps the one it had
        changes["title"] = form["title"]
    call = change_proposal(
        backends,
        signed_in.person,
        proposal.id,
        changes,
        refresh_lines=form.has("refresh_lines"),
    )
    return await act(request, call, then=back, done="The draft is saved.")


@router.post("/console/projects/{project_id}/proposals/{proposal_id}/send")
async def send_proposal(
    request: Request,
    project_id: str,
    proposal_id: str,
    signed_in: StaffPage,
    backends: BackendsDep,
) -> Response:
    await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    proposal = await _proposal_of(backends, signed_in, project_id, proposal_id)
    call = send(backends, signed_in.person, proposal.id)
    back = f"/console/projects/{project_id}/proposals/{proposal.id}"
    return await act(
        request,
        call,
        then=back,
        done=f"Version {proposal.version} is sent. The client can now read and accept it.",
    )
