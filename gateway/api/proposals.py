"""Proposals: staff draft, edit and send them; a client approver accepts the sent
one with an e-signature; the signed copy downloads as a PDF.

Projects decides everything: a client is answered NOT_FOUND for a draft or
another customer's proposal, PERMISSION_DENIED when they may not accept
(viewer, read-only portal), FAILED_PRECONDITION for a superseded version or a
content hash that is not the one sent. The gateway adds who signed from where
(the connection's address and User-Agent), the signer's email and customer
from their session, and the integrator's letterhead from the tenant it resolved
(`chassis.letterhead`, with the uploaded logo: `gateway.brand`), so the signed
copy names both parties. The shapes live in `proposal_shapes`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from portal.common.v1 import common_pb2
from portal.projects.v1 import projects_pb2

from gateway.api.proposal_shapes import (
    Acceptance,
    NewProposal,
    Proposal,
    ProposalChange,
    Proposals,
    proposal_out,
    status_name,
)
from gateway.api.translate import masked
from gateway.brand import letterhead_for
from gateway.deps import (
    BackendsDep,
    CallerDep,
    OptionalSessionDep,
    RequestIdDep,
    StaffDep,
    TenantDep,
)
from gateway.problems import problem_responses
from services.chassis.auth import Principal

__all__ = ["Proposal", "proposal_out", "router", "status_name"]

router = APIRouter(tags=["proposals"], responses=problem_responses(401, 403, 409))
P = projects_pb2
_UA_MAX = 512


# -- calls (the pages use these too) ----------------------------------------------------


async def fetch_proposals(
    backends: BackendsDep, principal: Principal, project_id: UUID | str
) -> list[projects_pb2.Proposal]:
    """Newest version first; a client never gets a draft (projects decides)."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.ListProposals,
        P.ListProposalsRequest(project_id=str(project_id)),
        principal=principal,
    )
    return sorted(answer.proposals, key=lambda p: -p.version)


async def fetch_proposal(
    backends: BackendsDep, principal: Principal, proposal_id: UUID | str
) -> projects_pb2.Proposal:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.GetProposal,
        P.GetProposalRequest(proposal_id=str(proposal_id)),
        principal=principal,
    )
    return answer.proposal


async def proposals_of(
    backends: BackendsDep, principal: Principal, project_id: UUID | str
) -> Proposals:
    return Proposals(
        proposals=[proposal_out(p) for p in await fetch_proposals(backends, principal, project_id)]
    )


async def proposal_of(
    backends: BackendsDep, principal: Principal, proposal_id: UUID | str
) -> Proposal:
    """The API's proposal, rooms and sums included; the proposal pages render it."""
    return proposal_out(await fetch_proposal(backends, principal, proposal_id))


async def accept(
    backends: BackendsDep,
    principal: Principal,
    request: Request,
    *,
    request_id: str,
    proposal_id: str,
    signer_name: str,
    consent: bool,
    content_sha256: str,
    letterhead: common_pb2.Letterhead,
    signer_email: str,
    client_name: str,
) -> projects_pb2.Proposal:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.AcceptProposal,
        P.AcceptProposalRequest(
            request_id=request_id,
            proposal_id=proposal_id,
            signer_name=signer_name,
            consent=consent,
            content_sha256=content_sha256,
            ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", "")[:_UA_MAX],
            letterhead=letterhead,
            signer_email=signer_email,
            client_name=client_name,
        ),
        principal=principal,
    )
    return answer.proposal


async def draft(
    backends: BackendsDep,
    principal: Principal,
    project_id: UUID | str,
    *,
    request_id: str,
    title: str,
    introduction: str,
    labour_minor: int,
    discount_minor: int,
    tax_rate_bps: int,
) -> Proposal:
    """CreateProposal: a draft from the project's rooms and lines as they are now."""
    projects = backends.projects
    answer = await projects.call(
        projects.stub.CreateProposal,
        P.CreateProposalRequest(
            request_id=request_id,
            project_id=str(project_id),
            title=title,
            introduction=introduction,
            labour_minor=labour_minor,
            discount_minor=discount_minor,
            tax_rate_bps=tax_rate_bps,
        ),
        principal=principal,
    )
    return proposal_out(answer.proposal)


async def send(backends: BackendsDep, principal: Principal, proposal_id: UUID | str) -> Proposal:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.SendProposal,
        P.SendProposalRequest(proposal_id=str(proposal_id)),
        principal=principal,
    )
    return proposal_out(answer.proposal)


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII-safe name and the exact one (RFC 6266 / 5987)."""
    name = filename.strip().replace("/", "_").replace("\\", "_") or "proposal.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    plain = _UNSAFE_FILENAME.sub("_", name).strip("._") or "proposal.pdf"
    if not plain.lower().endswith(".pdf"):
        plain += ".pdf"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


async def signed_pdf(
    backends: BackendsDep,
    principal: Principal,
    proposal_id: str,
    letterhead: common_pb2.Letterhead,
) -> Response:
    projects = backends.projects
    answer = await projects.call(
        projects.stub.GetSignedProposalPdf,
        P.GetSignedProposalPdfRequest(proposal_id=proposal_id, letterhead=letterhead),
        principal=principal,
    )
    return Response(
        content=answer.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(answer.filename)},
    )


# -- routes -----------------------------------------------------------------------------


@router.get("/projects/{project_id}/proposals", summary="A project's proposals, newest first")
async def list_proposals(project_id: UUID, caller: CallerDep, backends: BackendsDep) -> Proposals:
    return await proposals_of(backends, caller, project_id)


@router.post(
    "/projects/{project_id}/proposals",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a proposal from the project's rooms and lines",
)
async def create_proposal(
    project_id: UUID,
    body: NewProposal,
    staff: StaffDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> Proposal:
    created = await draft(
        backends,
        staff,
        project_id,
        request_id=request_id,
        title=body.title,
        introduction=body.introduction,
        labour_minor=body.labour_minor,
        discount_minor=body.discount_minor,
        tax_rate_bps=body.tax_rate_bps,
    )
    response.headers["Location"] = request.app.url_path_for("get_proposal", proposal_id=created.id)
    return created


@router.get("/proposals/{proposal_id}", summary="Get a proposal")
async def get_proposal(proposal_id: UUID, caller: CallerDep, backends: BackendsDep) -> Proposal:
    return await proposal_of(backends, caller, proposal_id)


async def change_proposal(
    backends: BackendsDep,
    principal: Principal,
    proposal_id: UUID | str,
    changes: Mapping[str, Any],
    *,
    refresh_lines: bool = False,
) -> Proposal:
    """UpdateProposal with the terms in `changes` as its field mask (the API and
    the console's draft form); refresh_lines re-copies the rooms and lines."""
    projects = backends.projects
    request = P.UpdateProposalRequest(proposal_id=str(proposal_id), refresh_lines=refresh_lines)
    answer = await projects.call(
        projects.stub.UpdateProposal, masked(request, changes), principal=principal
    )
    return proposal_out(answer.proposal)


@router.patch("/proposals/{proposal_id}", summary="Change a draft proposal")
async def update_proposal(
    proposal_id: UUID, body: ProposalChange, staff: StaffDep, backends: BackendsDep
) -> Proposal:
    changes = body.model_dump(exclude_unset=True, exclude={"refresh_lines"})
    return await change_proposal(
        backends, staff, proposal_id, changes, refresh_lines=body.refresh_lines
    )


@router.post(
    "/proposals/{proposal_id}/send",
    summary="Send a draft to the client: freezes it, hashes it, supersedes earlier versions",
)
async def send_proposal(proposal_id: UUID, staff: StaffDep, backends: BackendsDep) -> Proposal:
    return await send(backends, staff, proposal_id)


@router.post(
    "/proposals/{proposal_id}/accept",
    summary="Accept a sent proposal with an e-signature (client approver)",
    responses=problem_responses(422),
)
async def accept_proposal(
    proposal_id: UUID,
    body: Acceptance,
    caller: CallerDep,
    backends: BackendsDep,
    request_id: RequestIdDep,
    request: Request,
    tenant: TenantDep,
    signed_in: OptionalSessionDep,
) -> Proposal:
    # Only a client's session may sign (projects refuses anyone else), so the
    # session is there to name the signer's email and customer when it matters.
    session = signed_in.session if signed_in is not None else None
    accepted = await accept(
        backends,
        caller,
        request,
        request_id=request_id,
        proposal_id=str(proposal_id),
        signer_name=body.signer_name,
        consent=body.consent,
        content_sha256=body.content_sha256,
        letterhead=await letterhead_for(backends, tenant),
        signer_email=session.email if session else "",
        client_name=session.customer_name if session else "",
    )
    return proposal_out(accepted)


@router.get(
    "/proposals/{proposal_id}/pdf",
    summary="The signed proposal as a PDF",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The signed PDF, as an attachment.",
        }
    },
)
async def proposal_pdf(
    proposal_id: UUID, caller: CallerDep, backends: BackendsDep, tenant: TenantDep
) -> Response:
    return await signed_pdf(
        backends, caller, str(proposal_id), await letterhead_for(backends, tenant)
    )
