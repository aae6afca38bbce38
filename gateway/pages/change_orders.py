"""The client's change-order pages: the project's change-order history, one
order with its diff (phone: one column, changed lines first; desktop: before
and after side by side), approve with an e-signature, push back on the whole
order or on lines, and the certificate once approved.

Every call is made as the portal principal; changeorders answers NOT_FOUND
for what the client may not see (a draft, another customer's order) and
refuses a viewer, a read-only portal, a superseded revision or a passed
deadline with the sentence shown next to the form."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from portal.common.v1 import common_pb2
from portal.identity.v1 import identity_pb2 as IP
from portal.identity.v1.identity_pb2 import Tenant
from starlette.responses import Response

from gateway.api.changeorders import calls
from gateway.api.changeorders.requests import Approval, LineCommentIn, PushBack
from gateway.api.changeorders.shapes import ChangeOrder, RoomDiff
from gateway.api.projects import fetch_project
from gateway.api.proposals import content_disposition
from gateway.backends import RemoteError
from gateway.brand import letterhead_for
from gateway.deps import BackendsDep, ChangeOrdersDep, ClientPage
from gateway.pages.projects import not_found, page_id, portal_of
from gateway.pages.rendering import Form, refusal, render, see_other, signed_in_form
from gateway.sessions import SignedIn
from gateway.step_up import STEP_UP_REQUIRED, proof_is_fresh

router = APIRouter(include_in_schema=False)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Where a client may still decide: the statuses of a revision waiting on them.
WAITING = frozenset({"sent", "viewed"})
LIST_SIZE = 100


def rooms_changed_first(order: ChangeOrder) -> list[RoomDiff]:
    """Rooms with a change first, and in each the changed lines first: on a
    phone the client reads what moved before scrolling past what did not."""
    if order.diff is None:
        return []
    rooms = sorted(order.diff.rooms, key=lambda r: not r.changed)
    return [
        r.model_copy(update={"lines": sorted(r.lines, key=lambda x: x.kind == "unchanged")})
        for r in rooms
    ]


def decision_state(order: ChangeOrder, signed_in: SignedIn, tenant: Tenant) -> str:
    """What the page offers: "decide" (approve or push back), "step_up" (push
    back, or confirm it's you before signing), "viewer" (only an approver
    may), "read_only" (archived or staff viewing), "closed"."""
    if order.status not in WAITING or order.revision != order.latest_revision:
        return "closed"
    principal = portal_of(signed_in)
    if principal.read_only:
        return "read_only"
    if "approver" not in principal.roles:
        return "viewer"
    return "decide" if proof_is_fresh(signed_in.session, tenant, datetime.now(UTC)) else "step_up"


async def _order_page(
    request: Request,
    signed_in: SignedIn,
    backends: BackendsDep,
    order: ChangeOrder,
    *,
    status: int = 200,
    form: Form | None = None,
    error: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    project = await fetch_project(backends, portal_of(signed_in), str(order.project_id))
    return render(
        request,
        "change_order.html",
        signed_in=signed_in,
        surface="portal",
        status=status,
        project=project,
        order=order,
        rooms=rooms_changed_first(order),
        deciding=decision_state(order, signed_in, request.state.tenant),
        form=form,
        request_id=(form.get("request_id") if form else "") or str(uuid.uuid4()),
        error=error,
        errors=errors or {},
    )


async def order_in_project(
    remote: ChangeOrdersDep, signed_in: SignedIn, project_id: str, order_id: str
) -> ChangeOrder:
    """The order, only if it belongs to the project in the URL; opening it is
    the client viewing it (the first view is recorded)."""
    order = await calls.fetch_change_order(
        remote,
        portal_of(signed_in),
        UUID(page_id(order_id, "change order")),
        mark_viewed=not portal_of(signed_in).read_only,
    )
    if str(order.project_id) != page_id(project_id, "project"):
        raise not_found("change order")
    return order


@router.get("/projects/{project_id}/change-orders")
async def change_orders_page(
    request: Request,
    project_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    project_id = page_id(project_id, "project")
    principal = portal_of(signed_in)
    project = await fetch_project(backends, principal, project_id)
    page = await calls.list_change_orders(
        remote, principal, UUID(project_id), common_pb2.PageRequest(page_size=LIST_SIZE)
    )
    return render(
        request,
        "change_orders.html",
        signed_in=signed_in,
        surface="portal",
        project=project,
        orders=page.change_orders,
        waiting=WAITING,
    )


@router.get("/projects/{project_id}/change-orders/{order_id}")
async def change_order_page(
    request: Request,
    project_id: str,
    order_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    order = await order_in_project(remote, signed_in, project_id, order_id)
    return await _order_page(request, signed_in, backends, order)


def _revision(form: Form) -> int:
    value = form["revision"]
    return int(value) if value.isdigit() and len(value) < 6 else 0


@router.post("/projects/{project_id}/change-orders/{order_id}/approve")
async def approve(
    request: Request,
    project_id: str,
    order_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    order = await order_in_project(remote, signed_in, project_id, order_id)
    if not proof_is_fresh(signed_in.session, request.state.tenant, datetime.now(UTC)):
        return await _order_page(
            request, signed_in, backends, order, status=403, error=STEP_UP_REQUIRED
        )
    errors = {}
    if len(form["signer_name"]) < 2:
        errors["signer_name"] = "Type your full name to sign."
    if not form.has("consent"):
        errors["consent"] = "Tick the box to confirm you agree to the statement above."
    if errors:
        return await _order_page(
            request, signed_in, backends, order, status=422, form=form, errors=errors
        )
    content_hash = form["content_sha256"].lower()
    body = Approval.model_construct(
        revision=_revision(form),
        signer_name=form["signer_name"][:200],
        consent=True,
        # What the page showed; changeorders refuses it if it is not what was sent.
        content_sha256=content_hash if _SHA256.match(content_hash) else "",
        consented_at=None,
    )
    try:
        await calls.approve_change_order(
            remote,
            portal_of(signed_in),
            request,
            order.id,
            body,
            request_id=form["request_id"] or str(uuid.uuid4()),
            signer_email=signed_in.session.email,
            client_name=signed_in.session.customer_name,
            auth_method=signed_in.session.auth_method or "session",
            letterhead=await letterhead_for(backends, request.state.tenant),
        )
    except RemoteError as exc:
        return await _refused(request, signed_in, backends, remote, order, form, exc)
    return see_other(
        request,
        f"/projects/{order.project_id}/change-orders/{order.id}",
        flash="Thank you. The change is approved and signed; your signed copy is ready below.",
    )


@router.post("/projects/{project_id}/change-orders/{order_id}/push-back")
async def push_back(
    request: Request,
    project_id: str,
    order_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    form = await signed_in_form(request, signed_in)
    order = await order_in_project(remote, signed_in, project_id, order_id)
    keys = {x.line_key for r in order.diff.rooms for x in r.lines} if order.diff else set()
    line_comments = [
        LineCommentIn.model_construct(line_key=key, comment=text[:4000])
        for key in sorted(keys)
        if (text := form.text(f"line:{key}"))
    ]
    comment = form.text("comment")[:4000]
    if not comment and not line_comments:
        errors = {"comment": "Say what you would like changed, on the whole order or on a line."}
        return await _order_page(
            request, signed_in, backends, order, status=422, form=form, errors=errors
        )
    body = PushBack.model_construct(
        revision=_revision(form), comment=comment, line_comments=line_comments
    )
    try:
        await calls.push_back_change_order(
            remote,
            portal_of(signed_in),
            order.id,
            body,
            request_id=form["request_id"] or str(uuid.uuid4()),
            author_name=signed_in.session.full_name,
        )
    except RemoteError as exc:
        return await _refused(request, signed_in, backends, remote, order, form, exc)
    return see_other(
        request,
        f"/projects/{order.project_id}/change-orders/{order.id}",
        flash="Thank you. Your comments are with the team; they will send a revised change.",
    )


async def _refused(
    request: Request,
    signed_in: SignedIn,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
    order: ChangeOrder,
    form: Form,
    exc: RemoteError,
) -> Response:
    why = refusal(exc)
    fresh = await calls.fetch_change_order(remote, portal_of(signed_in), order.id)
    return await _order_page(
        request,
        signed_in,
        backends,
        fresh,
        status=why.status,
        form=form,
        error=why.message,
        errors=why.fields,
    )


@router.post("/projects/{project_id}/change-orders/{order_id}/step-up")
async def step_up(
    request: Request,
    project_id: str,
    order_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    """The password again, or the emailed code; then the signature form."""
    form = await signed_in_form(request, signed_in)
    order = await order_in_project(remote, signed_in, project_id, order_id)
    here = f"/projects/{order.project_id}/change-orders/{order.id}"
    identity = backends.identity
    try:
        if form.has("send_code"):
            await identity.call(
                identity.stub.RequestStepUpCode,
                IP.RequestStepUpCodeRequest(token=signed_in.token),
                principal=signed_in.person,
            )
            return see_other(
                request,
                here + "#confirm",
                flash=f"We have emailed a code to {signed_in.session.email}.",
            )
        await identity.call(
            identity.stub.StepUp,
            IP.StepUpRequest(
                token=signed_in.token, password=form.secret("password"), code=form["code"]
            ),
            principal=signed_in.person,
        )
    except RemoteError as exc:
        why = refusal(exc)
        return await _order_page(
            request, signed_in, backends, order, status=why.status, form=form, error=why.message
        )
    return see_other(request, here + "#approve-heading", flash="Thank you. You can sign now.")


@router.get("/projects/{project_id}/change-orders/{order_id}/certificate.pdf")
async def certificate(
    request: Request,
    project_id: str,
    order_id: str,
    signed_in: ClientPage,
    backends: BackendsDep,
    remote: ChangeOrdersDep,
) -> Response:
    order = await order_in_project(remote, signed_in, project_id, order_id)
    letterhead = await letterhead_for(backends, request.state.tenant)
    pdf, filename = await calls.certificate_pdf(remote, portal_of(signed_in), order.id, letterhead)
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(filename)},
    )
