"""One call function per change-order operation, returning the API's model:
the JSON routes and the pages both call these. Changeorders decides who may
do what; these only translate."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import Request
from google.protobuf.timestamp_pb2 import Timestamp
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.common.v1 import common_pb2

from gateway.api.changeorders.history import (
    AuditTrail,
    RevisionComparison,
    audit_out,
    comparison_out,
)
from gateway.api.changeorders.requests import (
    Approval,
    ChangeOrderIn,
    LineChangeIn,
    PushBack,
    Revision,
)
from gateway.api.changeorders.shapes import (
    ChangeOrder,
    ChangeOrderPage,
    Contract,
    change_order_out,
    contract_out,
)
from gateway.api.translate import masked
from gateway.backends import ChangeOrdersRemote
from services.chassis import enums
from services.chassis.auth import Principal

_UA_MAX = 512


def _timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def line_change(x: LineChangeIn) -> pb.LineChange:
    return pb.LineChange(
        kind=enums.value(pb.LineChangeKind, x.kind),
        line_key=x.line_key,
        room_key=x.room_key,
        new_room_name=x.new_room_name,
        description=x.description,
        quantity=x.quantity,
        unit_price_minor=x.unit_price_minor,
        client_visible=x.client_visible,
        labour=x.labour,
        labour_minor=x.labour_minor,
        note=x.note,
    )


async def list_change_orders(
    remote: ChangeOrdersRemote, principal: Principal, project_id: UUID, page: common_pb2.PageRequest
) -> ChangeOrderPage:
    answer = await remote.call(
        remote.stub.ListChangeOrders,
        pb.ListChangeOrdersRequest(project_id=str(project_id), page=page),
        principal=principal,
    )
    return ChangeOrderPage(
        change_orders=[change_order_out(c) for c in answer.change_orders],
        next_page_token=answer.page.next_page_token,
    )


async def fetch_contract(
    remote: ChangeOrdersRemote, principal: Principal, project_id: UUID
) -> Contract:
    answer = await remote.call(
        remote.stub.GetContract,
        pb.GetContractRequest(project_id=str(project_id)),
        principal=principal,
    )
    return contract_out(answer)


async def fetch_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    *,
    revision: int = 0,
    mark_viewed: bool = False,
) -> ChangeOrder:
    """A client opening the order (mark_viewed) records its first view."""
    answer = await remote.call(
        remote.stub.GetChangeOrder,
        pb.GetChangeOrderRequest(
            change_order_id=str(change_order_id), revision=revision, mark_viewed=mark_viewed
        ),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def create_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    project_id: UUID,
    body: ChangeOrderIn,
    *,
    request_id: str,
) -> ChangeOrder:
    answer = await remote.call(
        remote.stub.CreateChangeOrder,
        pb.CreateChangeOrderRequest(
            request_id=request_id,
            project_id=str(project_id),
            title=body.title,
            reason=body.reason,
            changes=[line_change(x) for x in body.changes],
            schedule_impact_days=body.schedule_impact_days,
            shift_from_stage=body.shift_from_stage,
            approval_deadline=_timestamp(body.approval_deadline),
        ),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def update_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    changes: Mapping[str, Any],
) -> ChangeOrder:
    """UpdateChangeOrder with exactly the fields in `changes` in its mask."""
    request = pb.UpdateChangeOrderRequest(change_order_id=str(change_order_id))
    plain = {k: v for k, v in changes.items() if k not in ("changes", "approval_deadline")}
    request = masked(request, plain)
    if "changes" in changes:
        request.changes.extend(line_change(LineChangeIn(**x)) for x in changes["changes"] or [])
        request.update_mask.paths.append("changes")
    if "approval_deadline" in changes:
        if (stamp := _timestamp(changes["approval_deadline"])) is not None:
            request.approval_deadline.CopyFrom(stamp)
        request.update_mask.paths.append("approval_deadline")
    answer = await remote.call(remote.stub.UpdateChangeOrder, request, principal=principal)
    return change_order_out(answer.change_order)


async def send_change_order(
    remote: ChangeOrdersRemote, principal: Principal, change_order_id: UUID
) -> ChangeOrder:
    answer = await remote.call(
        remote.stub.SendChangeOrder,
        pb.SendChangeOrderRequest(change_order_id=str(change_order_id)),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def revise_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    body: Revision,
    *,
    request_id: str,
) -> ChangeOrder:
    request = pb.ReviseChangeOrderRequest(
        request_id=request_id,
        change_order_id=str(change_order_id),
        title=body.title,
        reason=body.reason,
        changes=[line_change(x) for x in body.changes],
        schedule_impact_days=body.schedule_impact_days,
        shift_from_stage=body.shift_from_stage,
        approval_deadline=_timestamp(body.approval_deadline),
        comment=body.comment,
    )
    answer = await remote.call(remote.stub.ReviseChangeOrder, request, principal=principal)
    return change_order_out(answer.change_order)


async def withdraw_change_order(
    remote: ChangeOrdersRemote, principal: Principal, change_order_id: UUID, reason: str
) -> ChangeOrder:
    answer = await remote.call(
        remote.stub.WithdrawChangeOrder,
        pb.WithdrawChangeOrderRequest(change_order_id=str(change_order_id), reason=reason),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def approve_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    request: Request,
    change_order_id: UUID,
    body: Approval,
    *,
    request_id: str,
    signer_email: str,
    client_name: str,
    auth_method: str,
    letterhead: common_pb2.Letterhead,
) -> ChangeOrder:
    """The e-signature, with where it came from and how the signer proved
    who they are, as evidence; changeorders refuses all but the approver.
    `letterhead`: for the certificate changeorders files in documents."""
    answer = await remote.call(
        remote.stub.ApproveChangeOrder,
        pb.ApproveChangeOrderRequest(
            request_id=request_id,
            change_order_id=str(change_order_id),
            revision=body.revision,
            signer_name=body.signer_name,
            consent=body.consent,
            content_sha256=body.content_sha256,
            ip=request.client.host if request.client else "",
            user_agent=request.headers.get("user-agent", "")[:_UA_MAX],
            signer_email=signer_email,
            client_name=client_name,
            consented_at=_timestamp(body.consented_at),
            auth_method=auth_method,
            letterhead=letterhead,
        ),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def push_back_change_order(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    body: PushBack,
    *,
    request_id: str,
    author_name: str,
) -> ChangeOrder:
    answer = await remote.call(
        remote.stub.PushBackChangeOrder,
        pb.PushBackChangeOrderRequest(
            request_id=request_id,
            change_order_id=str(change_order_id),
            revision=body.revision,
            comment=body.comment,
            line_comments=[
                pb.LineComment(line_key=x.line_key, comment=x.comment) for x in body.line_comments
            ],
            author_name=author_name,
        ),
        principal=principal,
    )
    return change_order_out(answer.change_order)


async def compare_revisions(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    from_revision: int,
    to_revision: int,
) -> RevisionComparison:
    answer = await remote.call(
        remote.stub.CompareRevisions,
        pb.CompareRevisionsRequest(
            change_order_id=str(change_order_id),
            from_revision=from_revision,
            to_revision=to_revision,
        ),
        principal=principal,
    )
    return comparison_out(answer)


async def audit_trail(
    remote: ChangeOrdersRemote, principal: Principal, change_order_id: UUID
) -> AuditTrail:
    answer = await remote.call(
        remote.stub.GetAuditTrail,
        pb.GetAuditTrailRequest(change_order_id=str(change_order_id)),
        principal=principal,
    )
    return audit_out(answer)


async def certificate_pdf(
    remote: ChangeOrdersRemote,
    principal: Principal,
    change_order_id: UUID,
    letterhead: common_pb2.Letterhead,
) -> tuple[bytes, str]:
    answer = await remote.call(
        remote.stub.GetCertificatePdf,
        pb.GetCertificatePdfRequest(change_order_id=str(change_order_id), letterhead=letterhead),
        principal=principal,
    )
    return answer.pdf, answer.filename
