"""The client's project pages: the list (one project goes straight to it), the
status board, the proposal with accept-by-signature, and the signed PDF.

Every call is made as the portal principal (the contact, or a read-only
viewer for staff viewing as a client); projects answers NOT_FOUND for what
they may not see, which becomes the ordinary not-found page."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from starlette.responses import Response

from gateway.api.projects import (
    Budget,
    ClientNote,
    Project,
    StatusBoard,
    fetch_board,
    fetch_project,
    list_projects_page,
)
from gateway.api.proposal_shapes import Proposal, proposal_out
from gateway.api.proposals import (
    accept,
    fetch_proposals,
    proposal_of,
    signed_pdf,
)
from gateway.backends import RemoteError
from gateway.brand import letterhead_for
from gateway.deps import BackendsDep, ClientPage, ProposalInUrl
from gateway.pages import project_views as views
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from gateway.problems import Problem, ProblemError, problem_type
from gateway.sessions import SignedIn
from services.chassis.auth import Principal
from services.chassis.errors import unavailable

router = APIRouter(include_in_schema=False)
LIST_SIZE = 50
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def not_found(what: str = "page") -> ProblemError:
    return ProblemError(
        Problem(
            type=problem_type("not-found"),
            title="Not found",
            status=404,
            detail=unavailable(what),
            code="not_found",
        )
    )


def page_id(value: str, what: str) -> str:
    """A UUID from the URL, or the not-found page (never a validation error)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise not_found(what) from None


def portal_of(signed_in: SignedIn) -> Principal:
    principal = signed_in.portal
    assert principal is not None  # ClientPage guarantees it
    return principal


async def list_projects(backends: BackendsDep, principal: Principal) -> tuple[list[Project], bool]:
    """The client's projects (newest first) and whether there are more: the
    API's list, its first page."""
    page = await list_projects_page(
        backends, principal, common_pb2.PageRequest(page_size=LIST_SIZE)
    )
    return page.projects, bool(page.next_page_token)


def project_items(found: list[Project]) -> list[dict]:
    return [
        {
            "project": p,
            "stage_label": views.stage_label(p.stage),
            "steps": views.stage_track(p.stage, ()),
        }
        for p in found
    ]


@router.get("/projects")
async def projects_page(request: Request, signed_in: ClientPage, backends: BackendsDep) -> Response:
    found, more = await list_projects(backends, portal_of(signed_in))
    if len(found) == 1 and not more:
        return see_other(request, f"/projects/{found[0].id}")
    return render(
        request,
        "projects.html",
        signed_in=signed_in,
        surface="portal",
        projects=project_items(found),
        more=more,
    )


@router.get("/projects/{project_id}")
async def board_page(request: Request, project_id: str, signed_in: ClientPage) -> Response:
    # The backends from the request, not a dependency: the client's hottest page.
    backends = request.state.backends
    board = await fetch_board(backends, portal_of(signed_in), page_id(project_id, "project"))
    return render_board(request, signed_in, board)


@dataclass(frozen=True)
class BoardView:
    """What `_board.html` shows, from one GetStatusBoard answer."""

    project: Project
    steps: list[views.StageStep]
    current_stage: str
    forecast: str
    waiting: list[dict]
    notes: list[ClientNote]
    budget: Budget
    next_payment: dict | None = None
    on_its_way: tuple[str, ...] = ()
    forecast_moved: str = ""  # "moved from 12 Mar 2027 by change order CO-003"


def next_payment_view(board: StatusBoard) -> dict | None:
    """ "£4,000.00 at install", or, once invoiced, "£2,000.00 due 12 Dec 2026"
    (or what a bank debit holds for verification) with the invoice's link;
    the words are projects', the figures payments' (through projects)."""
    n = board.next_payment
    if n is None or n.amount is None:
        return None
    href = views.safe_portal_path(f"/invoices/{n.invoice_id}") if n.invoice_id else None
    return {
        "label": n.label,
        "amount": n.amount.formatted,
        "when": n.when,
        "href": href,
        "number": n.invoice_number,
        "held": n.held_for_verification is not None,
    }


def on_its_way_lines(board: StatusBoard) -> tuple[str, ...]:
    """A bank debit clearing is neither waiting on the client nor paid."""
    return tuple(
        f"{w.amount.formatted if w.amount else ''} on {w.invoice_number} is processing"
        + (f", expected by {views.human_date(w.expected_by)}" if w.expected_by else "")
        for w in board.on_its_way
    )


def board_view(board: StatusBoard) -> BoardView:
    """The client's board as their page shows it; the console's preview shows
    the same, from the board projects answers `as_client`."""
    project = board.project
    notes = board.recent_notes  # moves' and stages' client notes, newest first (projects)
    steps = views.stage_track(project.stage, board.stages)
    return BoardView(
        project=project,
        # A note already in "Latest from the team" is not repeated on the track.
        steps=views.without_repeated_notes(steps, [n.note for n in notes]),
        current_stage=views.stage_label(project.stage),
        forecast=views.human_date(board.forecast_handover),
        waiting=[
            {"item": w, "href": views.safe_portal_path(w.link)} for w in board.waiting_on if w.title
        ],
        notes=notes,
        budget=board.budget,
        next_payment=next_payment_view(board),
        on_its_way=on_its_way_lines(board),
        forecast_moved=(
            f"moved from {views.human_date(board.handover_moved_from)} "
            f"by change order {board.handover_moved_by}"
            if board.handover_moved_by and board.handover_moved_from
            else ""
        ),
    )


def render_board(request: Request, signed_in: SignedIn, board: StatusBoard) -> Response:
    """The status board page, from the board projects answered (by id, or on the landing)."""
    project, tenant = board.project, request.state.tenant
    return render(
        request,
        "board.html",
        signed_in=signed_in,
        surface="portal",
        project=project,
        board=board_view(board),
        contact=views.project_contact(
            project,
            team_name=tenant.display_name,
            support_email=tenant.branding.support_email,
            client_name=signed_in.session.full_name,
        ),
    )


# -- the proposal ---------------------------------------------------------------------------


async def _proposal_page(
    request: Request,
    signed_in: SignedIn,
    backends: BackendsDep,
    project_id: str,
    proposal: Proposal | None,
    *,
    others: list[Proposal] | None = None,
    status: int = 200,
    form: Form | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    principal = portal_of(signed_in)
    project = await fetch_project(backends, principal, project_id)
    return render(
        request,
        "proposal.html",
        signed_in=signed_in,
        surface="portal",
        status=status,
        project=project,
        proposal=proposal,
        others=others or [],
        signing=views.signing_state(proposal, principal) if proposal else "closed",
        form=form,
        request_id=(form.get("request_id") if form else "") or str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


async def proposal_in_project(
    backends: BackendsDep, principal: Principal, project_id: str, proposal_id: str
) -> Proposal:
    """The proposal, only if it belongs to the project in the URL."""
    proposal = await proposal_of(backends, principal, page_id(proposal_id, "proposal"))
    if proposal.project_id != project_id:
        raise not_found("proposal")
    return proposal


@router.get("/projects/{project_id}/proposal")
async def current_proposal_page(
    request: Request, project_id: str, signed_in: ClientPage, backends: BackendsDep
) -> Response:
    project_id = page_id(project_id, "project")
    proposals = await fetch_proposals(backends, portal_of(signed_in), project_id)
    chosen = views.current_proposal(proposals)
    others = [proposal_out(p) for p in proposals if chosen is not None and p.id != chosen.id]
    shown = None
    if chosen is not None:  # the list leaves out the rooms; GetProposal has them
        shown = await proposal_of(backends, portal_of(signed_in), chosen.id)
    return await _proposal_page(request, signed_in, backends, project_id, shown, others=others)


@router.get("/projects/{project_id}/proposal/{proposal_id}")
async def proposal_page(
    request: Request, proposal: ProposalInUrl, signed_in: ClientPage, backends: BackendsDep
) -> Response:
    return await _proposal_page(request, signed_in, backends, proposal.project_id, proposal)


def _signature_errors(form: Form) -> dict[str, str]:
    errors = {}
    if not form["signer_name"]:
        errors["signer_name"] = "Type your full name to sign."
    if not form.has("consent"):
        errors["consent"] = "Tick the box to confirm you agree to the statement above."
    return errors


@router.post("/projects/{project_id}/proposal/{proposal_id}/accept")
async def accept_proposal(
    request: Request,
    project_id: str,
    proposal_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    project_id = page_id(project_id, "project")
    principal = portal_of(signed_in)
    proposal = await proposal_in_project(backends, principal, project_id, proposal_id)
    errors = _signature_errors(form)
    if errors:
        return await _proposal_page(
            request, signed_in, backends, project_id, proposal, status=422, form=form, errors=errors
        )
    content_hash = form["content_sha256"].lower()
    try:
        await accept(
            backends,
            principal,
            request,
            request_id=form["request_id"] or str(uuid.uuid4()),
            proposal_id=proposal.id,
            signer_name=form["signer_name"],
            consent=True,
            # What the page showed; projects refuses it if it is not what was sent.
            content_sha256=content_hash if _SHA256.match(content_hash) else "",
            letterhead=await letterhead_for(backends, request.state.tenant),
            signer_email=signed_in.session.email,
            client_name=signed_in.session.customer_name,
        )
    except RemoteError as exc:
        why = refusal(exc)
        fresh = await proposal_of(backends, principal, proposal.id)
        return await _proposal_page(
            request,
            signed_in,
            backends,
            project_id,
            fresh,
            status=why.status,
            form=form,
            error=why.message,
            errors=why.fields,
        )
    if backends.payments is not None:  # Accept & pay: on to the deposit, if the plan asks one
        return see_other(
            request,
            f"/projects/{project_id}/deposit",
            flash="Thank you. The proposal is signed and accepted.",
        )
    return see_other(
        request,
        f"/projects/{project_id}/proposal/{proposal.id}",
        flash="Thank you. The proposal is signed and accepted; your signed copy is ready below.",
    )


@router.get("/projects/{project_id}/proposal/{proposal_id}/pdf")
async def proposal_pdf(
    request: Request, proposal: ProposalInUrl, signed_in: ClientPage, backends: BackendsDep
) -> Response:
    letterhead = await letterhead_for(backends, request.state.tenant)
    return await signed_pdf(backends, portal_of(signed_in), proposal.id, letterhead)
