"""Change orders: staff draft, send, revise and withdraw them; the client's
approver approves one with an e-signature (after a step-up when the session
is old) or pushes back on the whole order or on lines; the certificate of an
approved order downloads as a PDF. Changeorders decides who sees and changes
what: a client is answered NOT_FOUND for a draft or another customer's order.
Shapes in `shapes`, `requests` and `history`; the calls the pages share in
`calls`; this module holds the routes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from gateway.api.changeorders import calls
from gateway.api.changeorders.history import AuditTrail, RevisionComparison
from gateway.api.changeorders.requests import (
    Approval,
    ChangeOrderChange,
    ChangeOrderIn,
    PushBack,
    Revision,
    Withdrawal,
)
from gateway.api.changeorders.shapes import ChangeOrder, ChangeOrderPage, Contract
from gateway.api.proposals import content_disposition
from gateway.brand import letterhead_for
from gateway.deps import (
    BackendsDep,
    CallerDep,
    ChangeOrdersDep,
    PageDep,
    RequestIdDep,
    StaffDep,
    StepUpDep,
    TenantDep,
)
from gateway.problems import problem_responses

__all__ = ["calls", "router"]

router = APIRouter(tags=["change orders"], responses=problem_responses(401, 403, 404, 409))
Revision_ = Annotated[int, Query(ge=0, le=10_000, description="0: the latest you may see.")]


@router.get("/projects/{project_id}/change-orders", summary="A project's change orders")
async def list_change_orders(
    project_id: UUID, caller: CallerDep, remote: ChangeOrdersDep, page: PageDep
) -> ChangeOrderPage:
    return await calls.list_change_orders(remote, caller, project_id, page)


@router.get(
    "/projects/{project_id}/contract",
    summary="The contract a new change order would change, line by line with keys (staff)",
)
async def get_contract(project_id: UUID, staff: StaffDep, remote: ChangeOrdersDep) -> Contract:
    return await calls.fetch_contract(remote, staff, project_id)


@router.post(
    "/projects/{project_id}/change-orders",
    status_code=status.HTTP_201_CREATED,
    summary="Draft a change order against the project's contract (staff)",
    responses=problem_responses(422),
)
async def create_change_order(
    project_id: UUID,
    body: ChangeOrderIn,
    staff: StaffDep,
    remote: ChangeOrdersDep,
    request_id: RequestIdDep,
    request: Request,
    response: Response,
) -> ChangeOrder:
    created = await calls.create_change_order(
        remote, staff, project_id, body, request_id=request_id
    )
    response.headers["Location"] = request.app.url_path_for(
        "get_change_order", change_order_id=str(created.id)
    )
    return created


@router.get(
    "/change-orders/{change_order_id}",
    summary="A change order with its diff, schedule, thread and revisions",
)
async def get_change_order(
    change_order_id: UUID, caller: CallerDep, remote: ChangeOrdersDep, revision: Revision_ = 0
) -> ChangeOrder:
    # A client reading it is the client viewing it: the first read is recorded.
    return await calls.fetch_change_order(
        remote, caller, change_order_id, revision=revision, mark_viewed=caller.kind == "client"
    )


@router.patch(
    "/change-orders/{change_order_id}",
    summary="Change a draft (staff; only the fields sent change)",
    responses=problem_responses(422),
)
async def update_change_order(
    change_order_id: UUID, body: ChangeOrderChange, staff: StaffDep, remote: ChangeOrdersDep
) -> ChangeOrder:
    changes = body.model_dump(exclude_unset=True)
    return await calls.update_change_order(remote, staff, change_order_id, changes)


@router.post(
    "/change-orders/{change_order_id}/send",
    summary="Send a draft to the client: freezes and hashes what they will sign (staff)",
)
async def send_change_order(
    change_order_id: UUID, staff: StaffDep, remote: ChangeOrdersDep
) -> ChangeOrder:
    return await calls.send_change_order(remote, staff, change_order_id)


@router.post(
    "/change-orders/{change_order_id}/revise",
    status_code=status.HTTP_201_CREATED,
    summary="A new revision (a draft) replacing the current one; the thread is kept (staff)",
    responses=problem_responses(422),
)
async def revise_change_order(
    change_order_id: UUID,
    body: Revision,
    staff: StaffDep,
    remote: ChangeOrdersDep,
    request_id: RequestIdDep,
) -> ChangeOrder:
    return await calls.revise_change_order(
        remote, staff, change_order_id, body, request_id=request_id
    )


@router.post("/change-orders/{change_order_id}/withdraw", summary="Withdraw an order (staff)")
async def withdraw_change_order(
    change_order_id: UUID, body: Withdrawal, staff: StaffDep, remote: ChangeOrdersDep
) -> ChangeOrder:
    return await calls.withdraw_change_order(remote, staff, change_order_id, body.reason)


@router.post(
    "/change-orders/{change_order_id}/approve",
    summary="Approve the revision shown with an e-signature (client approver; step-up when asked)",
    responses=problem_responses(422),
)
async def approve_change_order(
    change_order_id: UUID,
    body: Approval,
    signer: StepUpDep,
    remote: ChangeOrdersDep,
    request_id: RequestIdDep,
    request: Request,
    backends: BackendsDep,
    tenant: TenantDep,
) -> ChangeOrder:
    signer.require_fresh()
    return await calls.approve_change_order(
        remote,
        signer.principal,
        request,
        change_order_id,
        body,
        request_id=request_id,
        signer_email=signer.session.email,
        client_name=signer.session.customer_name,
        auth_method=signer.auth_method,
        letterhead=await letterhead_for(backends, tenant),
    )


@router.post(
    "/change-orders/{change_order_id}/push-back",
    summary="Push back on the order or on lines, with comments (client approver)",
    responses=problem_responses(422),
)
async def push_back_change_order(
    change_order_id: UUID,
    body: PushBack,
    signer: StepUpDep,
    remote: ChangeOrdersDep,
    request_id: RequestIdDep,
) -> ChangeOrder:
    return await calls.push_back_change_order(
        remote,
        signer.principal,
        change_order_id,
        body,
        request_id=request_id,
        author_name=signer.session.full_name,
    )


@router.get(
    "/change-orders/{change_order_id}/compare",
    summary="What changed between two revisions",
)
async def compare_revisions(
    change_order_id: UUID,
    caller: CallerDep,
    remote: ChangeOrdersDep,
    from_revision: Annotated[int, Query(alias="from", ge=1, le=10_000)],
    to_revision: Annotated[int, Query(alias="to", ge=0, le=10_000)] = 0,
) -> RevisionComparison:
    return await calls.compare_revisions(
        remote, caller, change_order_id, from_revision, to_revision
    )


@router.get(
    "/change-orders/{change_order_id}/audit",
    summary="The evidence pack's hash-chained log, and whether it holds (staff)",
)
async def audit_trail(
    change_order_id: UUID, staff: StaffDep, remote: ChangeOrdersDep
) -> AuditTrail:
    return await calls.audit_trail(remote, staff, change_order_id)


@router.get(
    "/change-orders/{change_order_id}/certificate.pdf",
    summary="An approved order's certificate as a PDF",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The certificate, as an attachment.",
        }
    },
)
async def certificate(
    change_order_id: UUID,
    caller: CallerDep,
    remote: ChangeOrdersDep,
    backends: BackendsDep,
    tenant: TenantDep,
) -> Response:
    pdf, filename = await calls.certificate_pdf(
        remote, caller, change_order_id, await letterhead_for(backends, tenant)
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(filename)},
    )
