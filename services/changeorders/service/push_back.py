"""The client's push-back: comments on the order or on lines they were shown;
staff revise from there. The rules and what it writes are `domain_push_back.py`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from portal.changeorders.v1 import events_pb2

from services.changeorders import domain_push_back
from services.changeorders.domain_orders import Status
from services.changeorders.models import ChangeOrder, Comment, Revision
from services.changeorders.service.audit import record_and_publish
from services.changeorders.service.common import (
    OrderView,
    Sessions,
    actor_of,
    clear_deadline,
    load_order,
    now_utc,
    order_view,
    set_status,
)
from services.changeorders.service.decisions import decided_revision
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.validation import check_request_id


async def push_back_change_order(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    change_order_id: str,
    revision: int,
    comment: str,
    line_comments: Sequence[tuple[str, str]],
    author_name: str = "",
) -> OrderView:
    """The approver says what they would like changed, on the order or on
    lines they were shown; staff revise from there."""
    tenant_id = principal.require_approver("push back on a change order")
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(
            uow, principal, change_order_id, lock=True, write=True, check_sent=False
        )
        shown, revisions = await decided_revision(uow, principal, order, revision)
        now = now_utc()
        plan = domain_push_back.plan_push_back(
            _waiting(order, shown),
            request_id=request_id,
            comment=comment,
            line_comments=line_comments,
            author_name=author_name,
            now=now,
        )
        if plan is None:  # a retry
            return await order_view(uow, principal, order, shown.revision, revisions=revisions)
        _push_back(
            uow, order, shown, plan, request_id=request_id, author_id=principal.subject, now=now
        )
        await clear_deadline(uow, shown)
        await record_and_publish(
            uow,
            order,
            action="pushed_back",
            actor=actor_of(principal),
            revision=shown.revision,
            at=now,
            facts=plan.facts,
            event=_pushed_back_event(order, shown, plan, author_id=principal.subject),
        )
        await uow.flush()
        view = await order_view(uow, principal, order, shown.revision, revisions=revisions)
        await uow.commit()
    return view


def _waiting(order: ChangeOrder, shown: Revision) -> domain_push_back.Waiting:
    return domain_push_back.Waiting(
        number=order.reference,
        revision=shown.revision,
        current_revision=order.current_revision,
        status=shown.status,
        deadline=shown.approval_deadline,
        decided_by_request=shown.decision_request_id or "",
        content_json=shown.content_json or "",
    )


def _push_back(
    uow: UnitOfWork,
    order: ChangeOrder,
    shown: Revision,
    plan: domain_push_back.PushBackPlan,
    *,
    request_id: str,
    author_id: str,
    now: datetime,
) -> None:
    """The client's comments join the thread, on the revision they read, and
    the revision is decided (by this request, for its retries)."""
    for said in plan.comments:
        uow.session.add(
            Comment(
                tenant_id=order.tenant_id,
                change_order_id=order.id,
                revision=shown.revision,
                line_key=said.line_key,
                line_description=said.line_description,
                author_kind="client",
                author_id=author_id,
                author_name=plan.author_name,
                body=said.body,
                created_at=now,
            )
        )
    shown.decided_at, shown.decision_request_id = now, request_id
    set_status(order, shown, Status.PUSHED_BACK, now)


def _pushed_back_event(
    order: ChangeOrder, shown: Revision, plan: domain_push_back.PushBackPlan, *, author_id: str
) -> events_pb2.ChangeOrderPushedBack:
    return events_pb2.ChangeOrderPushedBack(
        change_order_id=str(order.id),
        project_id=str(order.project_id),
        customer_id=str(order.customer_id),
        number=order.reference,
        revision=shown.revision,
        comment=plan.decision.comment,
        line_keys=plan.line_keys,
        author_contact_id=author_id,
        author_name=plan.author_name,
        project_reference=plan.project_reference,
    )
