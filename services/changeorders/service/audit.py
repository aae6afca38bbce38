"""The evidence pack's log: appending an entry in the use case's transaction
(under the order's row lock, so entries of one order are written one after
another), reading the chain, and checking it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import bindparam, select

from services.changeorders import domain_audit
from services.changeorders.models import AuditEntry, ChangeOrder, ContractState
from services.changeorders.service.common import Sessions, load_order
from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import NotFound
from services.chassis.validation import parse_uuid

# Built once: on every decision's path.
_LAST_LINK = (
    select(AuditEntry.seq, AuditEntry.sha256)
    .where(AuditEntry.change_order_id == bindparam("order"))
    .order_by(AuditEntry.seq.desc())
    .limit(1)
)


def _entry(row: AuditEntry) -> domain_audit.Entry:
    return domain_audit.Entry(
        change_order_id=str(row.change_order_id),
        seq=row.seq,
        action=row.action,
        actor=row.actor,
        revision=row.revision,
        occurred_at=row.occurred_at,
        facts=row.facts,
        prev_sha256=row.prev_sha256,
        sha256=row.sha256,
    )


async def record(
    uow: UnitOfWork,
    order: ChangeOrder,
    *,
    action: str,
    actor: str,
    revision: int,
    at: datetime,
    facts: Mapping[str, Any],
) -> None:
    """Append the next entry of the order's chain. The caller holds the order's
    row lock (or has just created it), so no other entry can slip in between."""
    # The last link's seq and hash only: the entry after it needs no more.
    last = (await uow.session.execute(_LAST_LINK, {"order": order.id})).first()
    entry = domain_audit.next_entry(
        last,
        change_order_id=str(order.id),
        action=action,
        actor=actor,
        revision=revision,
        occurred_at=at,
        facts=facts,
    )
    uow.session.add(
        AuditEntry(
            tenant_id=order.tenant_id,
            change_order_id=order.id,
            seq=entry.seq,
            action=entry.action,
            actor=entry.actor,
            revision=entry.revision,
            facts=dict(entry.facts),
            occurred_at=entry.occurred_at,
            prev_sha256=entry.prev_sha256,
            sha256=entry.sha256,
        )
    )


async def record_and_publish(
    uow: UnitOfWork,
    order: ChangeOrder,
    *,
    action: str,
    actor: str,
    revision: int,
    at: datetime,
    facts: Mapping[str, Any],
    event: Message,
) -> None:
    """What happened, twice in the use case's transaction: the audit entry
    (the evidence) and the event for the other services (the outbox)."""
    await record(uow, order, action=action, actor=actor, revision=revision, at=at, facts=facts)
    uow.publish(event, aggregate_type="change_order", aggregate_id=str(order.id), occurred_at=at)


@dataclass(frozen=True)
class Trail:
    order: ChangeOrder
    entries: tuple[domain_audit.Entry, ...]
    verdict: domain_audit.Verdict


async def trail_of(uow: UnitOfWork, order: ChangeOrder) -> Trail:
    rows = await uow.session.scalars(
        select(AuditEntry).where(AuditEntry.change_order_id == order.id).order_by(AuditEntry.seq)
    )
    entries = tuple(_entry(row) for row in rows)
    return Trail(order, entries, domain_audit.verify(str(order.id), entries))


async def get_audit_trail(
    *, sessions: Sessions, principal: Principal, change_order_id: str
) -> Trail:
    """Staff: the evidence, and whether it holds."""
    principal.require_staff()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return await trail_of(uow, await load_order(uow, principal, change_order_id))


async def verify_by_number(
    *, sessions: Sessions, tenant_id: str, project: str, number: str
) -> Trail:
    """For `portal changeorders verify CO-003 --project PRJ-0001`: the project
    by its reference or id, the order by its number ("CO-003" or "3")."""
    tenant = str(parse_uuid(tenant_id, field="tenant"))
    reference = number.strip().upper()
    if reference.isdigit():
        reference = f"CO-{int(reference):03d}"
    async with UnitOfWork(sessions, tenant) as uow:
        query = select(ChangeOrder).where(ChangeOrder.reference == reference)
        try:
            query = query.where(ChangeOrder.project_id == uuid.UUID(project))
        except ValueError:  # a reference, PRJ-0001
            query = query.join(
                ContractState, ContractState.project_id == ChangeOrder.project_id
            ).where(ContractState.project_reference == project.strip().upper())
        order = await uow.session.scalar(query)
        if order is None:
            raise NotFound(f"no change order {reference} on project {project}", field="number")
        return await trail_of(uow, order)
