"""Staff drafting change orders: a new order against the project's contract
(fetched from projects the first time), and changes to a draft."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.changeorders import domain_orders
from services.changeorders.domain_changes import LineChange, check_changes
from services.changeorders.domain_contract import Contract
from services.changeorders.domain_diff import build_diff
from services.changeorders.domain_orders import Status
from services.changeorders.domain_schedule import Schedule, check_schedule, stages_as_dicts
from services.changeorders.models import ChangeOrder, ContractState, Revision
from services.changeorders.projects_client import ProjectFacts, SignedBaseline
from services.changeorders.service.audit import record
from services.changeorders.service.common import (
    EDITOR_ROLES,
    OrderView,
    ProjectsReader,
    Sessions,
    actor_of,
    current_revision,
    ensure_contract,
    keep_audience,
    load_contract,
    load_order,
    now_utc,
    order_view,
)
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork, next_number
from services.chassis.errors import InvalidTransition
from services.chassis.idempotency import fingerprint, refuse_reuse
from services.chassis.validation import check_request_id, parse_uuid

# What UpdateChangeOrder's mask may name.
UPDATABLE = (
    "title",
    "reason",
    "changes",
    "schedule_impact_days",
    "shift_from_stage",
    "approval_deadline",
)


def content_facts(revision: Revision) -> dict[str, Any]:
    """A draft's content, as its audit entry keeps it."""
    return {
        "title": revision.title,
        "reason": revision.reason,
        "changes": revision.changes,
        "schedule_days": revision.schedule_days,
        "shift_from": revision.shift_from,
        "approval_deadline": _iso(revision.approval_deadline),
        "impact_minor": revision.impact_minor,
        "baseline_version": revision.baseline_version,
    }


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def price(order: ChangeOrder, revision: Revision, contract: ContractState) -> None:
    """Set the revision's lines against the contract as it stands now, checked,
    and its impact computed from them: staff never type an amount."""
    baseline = Contract.from_dict(contract.current)
    checked = check_changes(baseline, [LineChange.from_dict(c) for c in revision.changes])
    _, diff = build_diff(
        baseline,
        checked,
        key_prefix=order.reference,
        signed_total_minor=contract.signed_total_minor,
    )
    revision.changes = [c.as_dict() for c in checked]
    revision.baseline = contract.current
    revision.baseline_version = contract.version
    revision.impact_minor = diff.impact_minor
    revision.tax_impact_minor = diff.tax_impact_minor


@dataclass(frozen=True)
class Content:
    """A new order's first revision, as asked for (checked, not yet priced)."""

    title: str
    reason: str
    changes: tuple[LineChange, ...]
    schedule: Schedule
    deadline: datetime | None


def new_revision(
    order: ChangeOrder,
    *,
    number: int,
    title: str,
    reason: str,
    changes: Sequence[LineChange],
    schedule: Schedule,
    deadline: datetime | None,
    facts: ProjectFacts,
    created_by: str,
    request_id: str | None = None,
) -> Revision:
    return Revision(
        id=uuid.uuid4(),
        tenant_id=order.tenant_id,
        change_order_id=order.id,
        revision=number,
        status=Status.DRAFT,
        request_id=request_id,
        title=title,
        reason=reason,
        changes=[c.as_dict() for c in changes],
        stages=stages_as_dicts(facts.stages),
        schedule_days=schedule.days,
        shift_from=schedule.shift_from,
        approval_deadline=deadline,
        consent_text=domain_orders.CONSENT_TEXT,
        created_by=created_by,
    )


async def current_contract(
    *, sessions: Sessions, projects: ProjectsReader, principal: Principal, project_id: str
) -> Contract:
    """What a new order would be drafted against: the contract we keep once
    the first order exists, else the accepted proposal as projects has it.
    Reading it stores nothing."""
    principal.require_staff()
    tenant_id = principal.require_reader()
    pid = parse_uuid(project_id, field="project_id")
    async with UnitOfWork(sessions, tenant_id) as uow:
        known = await load_contract(uow, pid)
        if known is not None:
            return Contract.from_dict(known.current)
    facts = await projects.project(tenant_id, str(pid))
    if not facts.accepted_proposal_id:
        raise InvalidTransition(
            "change orders start once the project's proposal has been accepted",
            field="project_id",
        )
    return (await projects.signed_baseline(tenant_id, facts.accepted_proposal_id)).contract


async def create_change_order(
    *,
    sessions: Sessions,
    projects: ProjectsReader,
    principal: Principal,
    request_id: str,
    project_id: str,
    title: str,
    reason: str,
    changes: Sequence[LineChange],
    schedule_days: int,
    shift_from: str,
    approval_deadline: datetime | None,
) -> OrderView:
    """A draft against the project's contract as it stands. One per request id."""
    tenant_id = principal.require_editor(*EDITOR_ROLES)
    pid = parse_uuid(project_id, field="project_id")
    request_id = check_request_id(request_id) or str(uuid.uuid4())
    title, reason = domain_orders.check_title(title), domain_orders.check_reason(reason)
    schedule = check_schedule(schedule_days, shift_from)
    now = now_utc()
    deadline = domain_orders.check_deadline(approval_deadline, now, required=False)
    request_print = fingerprint(
        "CreateChangeOrder",
        project_id=str(pid),
        title=title,
        reason=reason,
        changes=[c.as_dict() for c in changes],
        schedule=[schedule.days, schedule.shift_from],
        deadline=_iso(deadline),
    )
    content = Content(title, reason, tuple(changes), schedule, deadline)
    async with UnitOfWork(sessions, tenant_id) as uow:
        earlier = await _made_by(uow, principal, request_id, request_print)
        if earlier is not None:  # a retry: the order it made
            return earlier
        known = await load_contract(uow, pid)
    # Outside any transaction: projects' answers, before the rows are locked.
    facts = await projects.project(tenant_id, str(pid))
    signed = None
    if known is None and facts.accepted_proposal_id:
        signed = await projects.signed_baseline(tenant_id, facts.accepted_proposal_id)
    try:
        return await _create(sessions, principal, facts, signed, content, request_id, request_print)
    except IntegrityError:
        # The same request, at the same moment: the one that committed made it.
        async with UnitOfWork(sessions, tenant_id) as uow:
            earlier = await _made_by(uow, principal, request_id, request_print)
        if earlier is None:
            raise
        return earlier


async def _made_by(
    uow: UnitOfWork, principal: Principal, request_id: str, request_print: str
) -> OrderView | None:
    earlier = await uow.session.scalar(
        select(ChangeOrder).where(ChangeOrder.request_id == request_id)
    )
    if earlier is None:
        return None
    refuse_reuse(stored=earlier.request_sha256, given=request_print)
    return await order_view(uow, principal, earlier)


async def _create(
    sessions: Sessions,
    principal: Principal,
    facts: ProjectFacts,
    signed: SignedBaseline | None,
    content: Content,
    request_id: str,
    request_print: str,
) -> OrderView:
    tenant_id = principal.require_tenant()
    pid = uuid.UUID(facts.project_id)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        contract = await ensure_contract(uow, facts, signed)
        await keep_audience(uow, facts)
        number = await next_number(uow.session, tenant_id, f"change_order:{pid}")
        order = ChangeOrder(
            id=uuid.uuid4(),
            tenant_id=contract.tenant_id,
            project_id=pid,
            customer_id=contract.customer_id,
            number=number,
            reference=domain_orders.format_number(number),
            request_id=request_id,
            request_sha256=request_print,
            current_revision=1,
            status=Status.DRAFT,
            created_by=principal.subject,
        )
        revision = new_revision(
            order,
            number=1,
            title=content.title,
            reason=content.reason,
            changes=content.changes,
            schedule=content.schedule,
            deadline=content.deadline,
            facts=facts,
            created_by=principal.subject,
        )
        price(order, revision, contract)
        uow.session.add(order)
        await uow.flush()
        uow.session.add(revision)
        await record(
            uow,
            order,
            action="created",
            actor=actor_of(principal),
            revision=1,
            at=now,
            facts=content_facts(revision),
        )
        await uow.flush()
        view = await order_view(uow, principal, order)
        await uow.commit()
    return view


async def update_change_order(
    *,
    sessions: Sessions,
    principal: Principal,
    change_order_id: str,
    changes: Mapping[str, Any],
) -> OrderView:
    """A draft's content (AIP-134 mask, already read into `changes`), re-priced
    against the contract as it stands now."""
    tenant_id = principal.require_editor(*EDITOR_ROLES)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        order = await load_order(uow, principal, change_order_id, lock=True)
        revision = await current_revision(uow, order)
        domain_orders.require_draft(revision.status, order.reference, revision.revision)
        if "title" in changes:
            revision.title = domain_orders.check_title(changes["title"])
        if "reason" in changes:
            revision.reason = domain_orders.check_reason(changes["reason"])
        if "changes" in changes:
            revision.changes = [c.as_dict() for c in changes["changes"]]
        if {"schedule_impact_days", "shift_from_stage"} & changes.keys():
            schedule = check_schedule(
                changes.get("schedule_impact_days", revision.schedule_days),
                changes.get("shift_from_stage", revision.shift_from),
            )
            revision.schedule_days, revision.shift_from = schedule.days, schedule.shift_from
        if "approval_deadline" in changes:
            revision.approval_deadline = domain_orders.check_deadline(
                changes["approval_deadline"], now, required=False
            )
        contract = await load_contract(uow, order.project_id, lock=True)
        assert contract is not None
        price(order, revision, contract)
        order.updated_at = now
        await record(
            uow,
            order,
            action="updated",
            actor=actor_of(principal),
            revision=revision.revision,
            at=now,
            facts=content_facts(revision),
        )
        await uow.flush()
        view = await order_view(uow, principal, order)
        await uow.commit()
    return view
