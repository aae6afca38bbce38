"""ChangeOrdersService over gRPC: translate, call the service layer, translate back."""

from __future__ import annotations

from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.common.v1 import common_pb2

from services.changeorders import service
from services.changeorders.grpc_api.convert import (
    baseline_pb,
    change_order_pb,
    comparison_pb,
    line_changes,
    moment,
    summary_pb,
    totals_pb,
    ts,
)
from services.changeorders.payments_client import PaymentsClient
from services.chassis import fieldmask
from services.chassis.admission import Admission
from services.chassis.auth import current_principal
from services.chassis.esign import canonical_json

__all__ = ["ChangeOrdersServicer"]


# A revision still to be decided: the diff shows what approving it would bill.
UNDECIDED = frozenset(
    {
        pb.CHANGE_ORDER_STATUS_DRAFT,
        pb.CHANGE_ORDER_STATUS_SENT,
        pb.CHANGE_ORDER_STATUS_VIEWED,
        pb.CHANGE_ORDER_STATUS_PUSHED_BACK,
    }
)


class ChangeOrdersServicer(changeorders_pb2_grpc.ChangeOrdersServiceServicer):
    def __init__(
        self,
        sessions: service.Sessions,
        projects: service.ProjectsReader,
        payments: PaymentsClient | None = None,
        approvals: Admission | None = None,
    ) -> None:
        self._sessions = sessions
        self._projects = projects
        self._payments = payments
        # Approvals beyond what the cores can take are refused before they start.
        self._approvals = approvals or Admission(
            in_flight=8, waiting=64, wait_seconds=2.0, needs_seconds=2.5
        )

    async def ListChangeOrders(self, request, context):
        summaries, token = await service.list_change_orders(
            sessions=self._sessions,
            principal=current_principal(),
            project_id=request.project_id,
            page_size=request.page.page_size,
            page_token=request.page.page_token,
        )
        return pb.ListChangeOrdersResponse(
            change_orders=[summary_pb(s) for s in summaries],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def GetContract(self, request, context):
        contract = await service.current_contract(
            sessions=self._sessions,
            projects=self._projects,
            principal=current_principal(),
            project_id=request.project_id,
        )
        return pb.GetContractResponse(
            rooms=baseline_pb(contract),
            totals=totals_pb(contract.totals(), contract.currency),
            tax_rate_bps=contract.tax_rate_bps,
        )

    async def GetChangeOrder(self, request, context):
        view = await service.get_change_order(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
            revision=request.revision,
            mark_viewed=request.mark_viewed,
        )
        order = change_order_pb(view)
        if self._payments is not None and order.status in UNDECIDED:
            effect = await self._payments.payment_effect(
                current_principal(),
                project_id=order.project_id,
                price_impact=order.diff.price_impact,
                tax_impact=order.diff.tax_impact,
            )
            if effect is not None:
                order.payment_effect.CopyFrom(effect)
        return pb.GetChangeOrderResponse(change_order=order)

    async def CreateChangeOrder(self, request, context):
        view = await service.create_change_order(
            sessions=self._sessions,
            projects=self._projects,
            principal=current_principal(),
            request_id=request.request_id,
            project_id=request.project_id,
            title=request.title,
            reason=request.reason,
            changes=line_changes(list(request.changes)),
            schedule_days=request.schedule_impact_days,
            shift_from=request.shift_from_stage,
            approval_deadline=moment(
                request.approval_deadline, request.HasField("approval_deadline")
            ),
        )
        return pb.CreateChangeOrderResponse(change_order=change_order_pb(view))

    async def UpdateChangeOrder(self, request, context):
        changes = fieldmask.changes(request, allowed=service.UPDATABLE)
        if "changes" in changes:
            changes["changes"] = line_changes(changes["changes"])
        if "approval_deadline" in changes:
            changes["approval_deadline"] = moment(
                request.approval_deadline, request.HasField("approval_deadline")
            )
        view = await service.update_change_order(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
            changes=changes,
        )
        return pb.UpdateChangeOrderResponse(change_order=change_order_pb(view))

    async def SendChangeOrder(self, request, context):
        view = await service.send_change_order(
            sessions=self._sessions,
            projects=self._projects,
            principal=current_principal(),
            change_order_id=request.change_order_id,
        )
        return pb.SendChangeOrderResponse(change_order=change_order_pb(view))

    async def ReviseChangeOrder(self, request, context):
        view = await service.revise_change_order(
            sessions=self._sessions,
            projects=self._projects,
            principal=current_principal(),
            request_id=request.request_id,
            change_order_id=request.change_order_id,
            title=request.title,
            reason=request.reason,
            changes=line_changes(list(request.changes)),
            schedule_days=(
                request.schedule_impact_days if request.HasField("schedule_impact_days") else None
            ),
            shift_from=request.shift_from_stage,
            approval_deadline=moment(
                request.approval_deadline, request.HasField("approval_deadline")
            ),
            comment=request.comment,
        )
        return pb.ReviseChangeOrderResponse(change_order=change_order_pb(view))

    async def WithdrawChangeOrder(self, request, context):
        view = await service.withdraw_change_order(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
            reason=request.reason,
        )
        return pb.WithdrawChangeOrderResponse(change_order=change_order_pb(view))

    async def ApproveChangeOrder(self, request, context):
        async with self._approvals.admit("approvals", time_left=context.time_remaining()):
            view = await service.approve_change_order(
                sessions=self._sessions,
                principal=current_principal(),
                request_id=request.request_id,
                change_order_id=request.change_order_id,
                revision=request.revision,
                signer_name=request.signer_name,
                consent=request.consent,
                content_sha256=request.content_sha256,
                ip=request.ip,
                user_agent=request.user_agent,
                signer_email=request.signer_email,
                client_name=request.client_name,
                consented_at=moment(request.consented_at, request.HasField("consented_at")),
                auth_method=request.auth_method,
                letterhead=request.letterhead,
            )
        return pb.ApproveChangeOrderResponse(change_order=change_order_pb(view))

    async def PushBackChangeOrder(self, request, context):
        view = await service.push_back_change_order(
            sessions=self._sessions,
            principal=current_principal(),
            request_id=request.request_id,
            change_order_id=request.change_order_id,
            revision=request.revision,
            comment=request.comment,
            line_comments=[(c.line_key, c.comment) for c in request.line_comments],
            author_name=request.author_name,
        )
        return pb.PushBackChangeOrderResponse(change_order=change_order_pb(view))

    async def CompareRevisions(self, request, context):
        comparison = await service.compare_revisions(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
            from_revision=request.from_revision,
            to_revision=request.to_revision,
        )
        return comparison_pb(comparison)

    async def GetAuditTrail(self, request, context):
        trail = await service.get_audit_trail(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
        )
        return pb.GetAuditTrailResponse(
            entries=[
                pb.AuditEntry(
                    seq=e.seq,
                    action=e.action,
                    actor=e.actor,
                    revision=e.revision,
                    occurred_at=ts(e.occurred_at),
                    facts_json=canonical_json(dict(e.facts)),
                    prev_sha256=e.prev_sha256,
                    sha256=e.sha256,
                )
                for e in trail.entries
            ],
            intact=trail.verdict.intact,
            first_broken_seq=trail.verdict.broken_at or 0,
            problem=trail.verdict.problem,
        )

    async def GetCertificatePdf(self, request, context):
        certificate = await service.get_certificate_pdf(
            sessions=self._sessions,
            principal=current_principal(),
            change_order_id=request.change_order_id,
            letterhead=request.letterhead if request.HasField("letterhead") else None,
        )
        return pb.GetCertificatePdfResponse(pdf=certificate.pdf, filename=certificate.filename)
