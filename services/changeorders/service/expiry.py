"""Orders past their approval deadline become expired (the expiry job)."""

from __future__ import annotations

from datetime import datetime

from portal.changeorders.v1 import events_pb2
from sqlalchemy import delete, select

from services.changeorders.domain_orders import Status, is_overdue
from services.changeorders.models import ApprovalDeadline, ChangeOrder, Revision
from services.changeorders.service.audit import record
from services.changeorders.service.common import (
    Sessions,
    load_contract,
    now_utc,
    set_status,
    timestamp,
)
from services.chassis.db import UnitOfWork
from services.chassis.telemetry import get_logger

log = get_logger(__name__)
BATCH = 100
ACTOR = "service:changeorders"


async def expire_due(*, sessions: Sessions, now: datetime | None = None) -> int:
    """One pass: each order whose current revision waits past its deadline is
    expired in its own transaction, scoped to its tenant. Returns how many
    were due (a full batch means: run again)."""
    now = now or now_utc()
    async with UnitOfWork(sessions, None) as uow:  # approval_deadline has no RLS
        due = (
            await uow.session.execute(
                select(ApprovalDeadline.revision_id, ApprovalDeadline.tenant_id)
                .where(ApprovalDeadline.due_at <= now)
                .order_by(ApprovalDeadline.due_at)
                .limit(BATCH)
            )
        ).all()
    for revision_id, tenant_id in due:
        try:
            await _expire(sessions, str(tenant_id), revision_id, now)
        except Exception:
            log.exception("a change order could not be expired", revision_id=str(revision_id))
    return len(due)


async def _expire(sessions: Sessions, tenant_id: str, revision_id, now: datetime) -> None:
    async with UnitOfWork(sessions, tenant_id) as uow:
        order_id = await uow.session.scalar(
            select(Revision.change_order_id).where(Revision.id == revision_id)
        )
        order = await uow.session.scalar(
            select(ChangeOrder).where(ChangeOrder.id == order_id).with_for_update()
        )
        revision = await uow.session.scalar(
            select(Revision).where(Revision.id == revision_id).with_for_update()
        )
        await uow.session.execute(
            delete(ApprovalDeadline).where(ApprovalDeadline.revision_id == revision_id)
        )
        # Decided or replaced meanwhile: nothing to expire, the row just goes.
        if (
            order is None
            or revision is None
            or not is_overdue(revision.status, revision.approval_deadline, now)
        ):
            await uow.commit()
            return
        revision.decided_at = now
        set_status(order, revision, Status.EXPIRED, now)
        await record(
            uow,
            order,
            action="expired",
            actor=ACTOR,
            revision=revision.revision,
            at=now,
            facts={"approval_deadline": revision.approval_deadline.isoformat()},
        )
        contract = await load_contract(uow, order.project_id)
        uow.publish(
            events_pb2.ChangeOrderExpired(
                change_order_id=str(order.id),
                project_id=str(order.project_id),
                customer_id=str(order.customer_id),
                number=order.reference,
                revision=revision.revision,
                approval_deadline=timestamp(revision.approval_deadline),
                project_reference=contract.project_reference if contract else "",
            ),
            aggregate_type="change_order",
            aggregate_id=str(order.id),
            occurred_at=now,
        )
        await uow.commit()
