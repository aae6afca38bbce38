"""What changeorders asks payments: the effect a price impact would have on
the payment milestones still to come, for the diff. Asked as the caller (a
client sees their own project's plan only); an answer that does not come is
no effect shown, never a diff refused."""

from __future__ import annotations

import grpc
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.common.v1 import common_pb2
from portal.payments.v1 import payments_pb2, payments_pb2_grpc

from services.chassis.auth import Principal
from services.chassis.errors import DomainError
from services.chassis.runtime import Remote
from services.chassis.telemetry import get_logger

log = get_logger(__name__)


class PaymentsClient:
    def __init__(self, payments: Remote) -> None:
        self._stub = payments_pb2_grpc.PaymentsServiceStub(payments.channel)
        self._call = payments.call

    async def payment_effect(
        self,
        principal: Principal,
        *,
        project_id: str,
        price_impact: common_pb2.Money,
        tax_impact: common_pb2.Money,
    ) -> pb.PaymentEffect | None:
        try:
            answer = await self._call(
                self._stub.PreviewVariation,
                payments_pb2.PreviewVariationRequest(
                    project_id=project_id, price_impact=price_impact, tax_impact=tax_impact
                ),
                principal,
            )
        except (grpc.aio.AioRpcError, DomainError) as exc:
            log.info("no payment effect for the diff", project_id=project_id, error=str(exc))
            return None
        return pb.PaymentEffect(
            variation_rule=answer.variation_rule,
            milestones=[
                pb.MilestoneEffect(label=m.label, trigger=m.trigger, before=m.before, after=m.after)
                for m in answer.milestones
            ],
            on_approval=answer.on_approval,
        )
