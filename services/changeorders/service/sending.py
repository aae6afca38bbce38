"""Staff moving an order along: send it (its content frozen and hashed),
revise it (a new draft revision, the current one superseded, the thread
kept), withdraw it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from portal.changeorders.v1 import events_pb2
from sqlalchemy import select

from services.changeorders import domain_orders, domain_revising
from services.changeorders.domain_changes import LineChange
from services.changeorders.domain_orders import Status
from services.changeorders.domain_schedule import stages_as_dicts
from services.changeorders.models import ChangeOrder, Comment, ContractState, Revision
from services.changeorders.projects_client import ProjectFacts
from services.changeorders.service.audit import record, record_and_publish
from services.changeorders.service.common import (
    EDITOR_ROLES,
    OrderView,
    ProjectsReader,
    Sessions,
    actor_of,
    clear_deadline,
    current_revision,
    keep_audience,
    load_contract,
    load_order,
    now_utc,
    order_view,
    set_status,
    signed_content,
    timestamp,
    watch_deadline,
)
from services.changeorders.service.drafting import content_facts, new_revision, price
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.money import money
from services.chassis.validation import check_request_id, multiline_text

COMMENT_MAX = 2_000


async def _project_of(sessions: Sessions, principal: Principal, change_order_id: str) -> str:
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return str((await load_order(uow, principal, change_order_id)).project_id)


async def _contract(uow: UnitOfWork, order: ChangeOrder) -> ContractState:
    contract = await load_contract(uow, order.project_id, lock=True)
    assert contract is not None  # an order exists only against a contract
    return contract


async def send_change_order(
    *, sessions: Sessions, projects: ProjectsReader, principal: Principal, change_order_id: str
) -> OrderView:
    """Freeze what the client will see (priced against the contract as it
    stands, with today's stage dates), hash it, and start the deadline."""
    tenant_id = principal.require_editor(*EDITOR_ROLES)
    facts = await projects.project(
        tenant_id, await _project_of(sessions, principal, change_order_id)
    )
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id, lock=True)
        revision = await current_revision(uow, order)
        deadline = domain_orders.plan_send(
            status=revision.status,
            number=order.reference,
            revision=revision.revision,
            deadline=revision.approval_deadline,
            now=now,
        )
        contract = await _contract(uow, order)
        _freeze(order, revision, contract, facts, deadline=deadline, now=now)
        await keep_audience(uow, facts)
        await watch_deadline(uow, revision)
        await record_and_publish(
            uow,
            order,
            action="sent",
            actor=actor_of(principal),
            revision=revision.revision,
            at=now,
            facts=domain_orders.sent_facts(
                content_facts(revision),
                content_sha256=revision.content_sha256 or "",
                consent_text=revision.consent_text,
            ),
            event=_sent_event(order, revision, contract),
        )
        await uow.flush()
        view = await order_view(uow, principal, order)
        await uow.commit()
    return view


def _freeze(
    order: ChangeOrder,
    revision: Revision,
    contract: ContractState,
    facts: ProjectFacts,
    *,
    deadline: datetime,
    now: datetime,
) -> None:
    """The revision re-priced on the contract as it stands (a draft made
    before another approval is rebased) with today's stage dates, and what the
    client will sign frozen and hashed."""
    revision.approval_deadline = deadline
    price(order, revision, contract)
    revision.stages = stages_as_dicts(facts.stages)
    content = signed_content(order, revision, contract, revision.consent_text)
    revision.content_json = content.canonical_json()
    revision.content_sha256 = content.sha256()
    revision.sent_at = now
    set_status(order, revision, Status.SENT, now)


def _sent_event(
    order: ChangeOrder, revision: Revision, contract: ContractState
) -> events_pb2.ChangeOrderSent:
    return events_pb2.ChangeOrderSent(
        change_order_id=str(order.id),
        project_id=str(order.project_id),
        customer_id=str(order.customer_id),
        number=order.reference,
        revision=revision.revision,
        title=revision.title,
        price_impact=money(revision.impact_minor, contract.currency),
        approval_deadline=timestamp(revision.approval_deadline),
        project_reference=contract.project_reference,
        project_name=contract.project_name,
        schedule_impact_days=revision.schedule_days,
    )


async def revise_change_order(
    *,
    sessions: Sessions,
    projects: ProjectsReader,
    principal: Principal,
    request_id: str,
    change_order_id: str,
    title: str = "",
    reason: str = "",
    changes: Sequence[LineChange] = (),
    schedule_days: int | None = None,
    shift_from: str = "",
    approval_deadline: datetime | None = None,
    comment: str = "",
) -> OrderView:
    """Revision n+1, a draft, with the given content (anything left out is
    the current revision's) against the contract as it stands; the current
    revision is superseded and can no longer be approved."""
    tenant_id = principal.require_editor(*EDITOR_ROLES)
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    answer = domain_revising.check_answer(comment)
    asked = domain_revising.Asked(
        title, reason, tuple(changes), schedule_days, shift_from, approval_deadline
    )
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        if (earlier := await _revised_by(uow, principal, request_id)) is not None:
            return earlier  # a retry: the revision it made
    facts = await projects.project(
        tenant_id, await _project_of(sessions, principal, change_order_id)
    )
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id, lock=True)
        # The same request at the same moment waited for the lock: it is done.
        if (earlier := await _revised_by(uow, principal, request_id)) is not None:
            return earlier
        old = await current_revision(uow, order)
        plan = domain_revising.plan_revision(_current(order, old), asked, answer=answer, now=now)
        contract = await _contract(uow, order)
        revision = await _supersede(
            uow, order, old, plan, contract, facts, by=principal.subject, request_id=request_id
        )
        await record_and_publish(
            uow,
            order,
            action="revised",
            actor=actor_of(principal),
            revision=revision.revision,
            at=now,
            facts=plan.facts(content_facts(revision)),
            event=events_pb2.ChangeOrderRevised(
                change_order_id=str(order.id),
                project_id=str(order.project_id),
                customer_id=str(order.customer_id),
                number=order.reference,
                revision=revision.revision,
                previous_revision=old.revision,
                project_reference=contract.project_reference,
            ),
        )
        await uow.flush()
        view = await order_view(uow, principal, order)
        await uow.commit()
    return view


def _current(order: ChangeOrder, revision: Revision) -> domain_revising.Current:
    return domain_revising.Current(
        number=order.reference,
        revision=revision.revision,
        status=revision.status,
        title=revision.title,
        reason=revision.reason,
        changes=revision.changes,
        schedule_days=revision.schedule_days,
        shift_from=revision.shift_from,
        deadline=revision.approval_deadline,
    )


async def _supersede(
    uow: UnitOfWork,
    order: ChangeOrder,
    old: Revision,
    plan: domain_revising.RevisionPlan,
    contract: ContractState,
    facts: ProjectFacts,
    *,
    by: str,
    request_id: str,
) -> Revision:
    """The plan's revision, priced on the contract as it stands, becomes the
    order's current one, a draft; `old` stops waiting for the client; staff's
    answer joins the thread on the new one."""
    now = plan.at
    revision = new_revision(
        order,
        number=plan.revision,
        title=plan.title,
        reason=plan.reason,
        changes=plan.changes,
        schedule=plan.schedule,
        deadline=plan.deadline,
        facts=facts,
        created_by=by,
        request_id=request_id,
    )
    price(order, revision, contract)
    set_status(order, old, Status.SUPERSEDED, now)
    await clear_deadline(uow, old)
    order.current_revision, order.status = revision.revision, Status.DRAFT
    uow.session.add(revision)
    if plan.answer:
        uow.session.add(
            Comment(
                tenant_id=order.tenant_id,
                change_order_id=order.id,
                revision=revision.revision,
                author_kind="staff",
                author_id=by,
                body=plan.answer,
                created_at=now,
            )
        )
    return revision


async def _revised_by(uow: UnitOfWork, principal: Principal, request_id: str) -> OrderView | None:
    earlier = await uow.session.scalar(select(Revision).where(Revision.request_id == request_id))
    if earlier is None:
        return None
    order = await load_order(uow, principal, str(earlier.change_order_id))
    return await order_view(uow, principal, order)


async def withdraw_change_order(
    *, sessions: Sessions, principal: Principal, change_order_id: str, reason: str
) -> OrderView:
    tenant_id = principal.require_editor(*EDITOR_ROLES)
    why = multiline_text(reason, field="reason", max_len=COMMENT_MAX)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id, lock=True)
        revision = await current_revision(uow, order)
        if revision.status == Status.WITHDRAWN:
            return await order_view(uow, principal, order)  # already done: a retry
        domain_orders.check_withdraw(status=revision.status, number=order.reference)
        revision.withdrawn_reason, revision.decided_at = why, now
        set_status(order, revision, Status.WITHDRAWN, now)
        await clear_deadline(uow, revision)
        await record(
            uow,
            order,
            action="withdrawn",
            actor=actor_of(principal),
            revision=revision.revision,
            at=now,
            facts={"reason": why},
        )
        ever_sent = await uow.session.scalar(
            select(Revision.id).where(
                Revision.change_order_id == order.id, Revision.sent_at.is_not(None)
            )
        )
        if ever_sent is not None:  # the client knew of it
            contract = await load_contract(uow, order.project_id)
            uow.publish(
                events_pb2.ChangeOrderWithdrawn(
                    change_order_id=str(order.id),
                    project_id=str(order.project_id),
                    customer_id=str(order.customer_id),
                    number=order.reference,
                    revision=revision.revision,
                    reason=why,
                    project_reference=contract.project_reference if contract else "",
                ),
                aggregate_type="change_order",
                aggregate_id=str(order.id),
                occurred_at=now,
            )
        await uow.flush()
        view = await order_view(uow, principal, order)
        await uow.commit()
    return view
