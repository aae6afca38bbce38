"""A customer's access to the portal: active <-> archived (read-only), deleted
(closed, restorable for 30 days). Each change is audited and published, so
notifications emails the contacts and every service's copy follows."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.identity import domain_access
from services.identity.domain_access import AccessChange
from services.identity.models import Customer, Session
from services.identity.service.common import (
    Sessions,
    actor_label,
    actor_name,
    audit,
    end_sessions,
    end_view_as,
    now_utc,
    void_login_tokens,
)
from services.identity.service.customers import customer_for_change

_STATE_PB = {
    "active": pb.ACCESS_STATE_ACTIVE,
    "archived": pb.ACCESS_STATE_ARCHIVED,
    "deleted": pb.ACCESS_STATE_DELETED,
    "purged": pb.ACCESS_STATE_PURGED,
}


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def access_event(
    customer: Customer, change: AccessChange, *, changed_by: str
) -> events_pb2.CustomerAccessChanged:
    return events_pb2.CustomerAccessChanged(
        customer_id=str(customer.id),
        customer_name=customer.name,
        from_state=_STATE_PB[change.from_state],
        to_state=_STATE_PB[change.to_state],
        purge_after=_ts(change.purge_after),
        contacts=[
            pb.Recipient(email=c.email, full_name=c.full_name) for c in customer.current_contacts
        ],
        changed_by=changed_by,
    )


async def _close_portal(uow: UnitOfWork, customer: Customer, *, reason: str, now: datetime) -> None:
    """Every session of the customer's contacts ends; their links stop working."""
    await end_sessions(uow, Session.customer_id == customer.id, reason=reason, now=now)
    await end_view_as(uow, customer.id)
    await void_login_tokens(uow, [c.id for c in customer.contacts], now=now)


async def change_customer_access(
    *, sessions: Sessions, principal: Principal, customer_id: str, to: str
) -> Customer:
    principal.require_editor("project_manager")
    now = now_utc()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        customer = await customer_for_change(uow, customer_id)
        change = domain_access.plan_access_change(
            customer.access_state,  # type: ignore[arg-type]
            to,
            purge_after=customer.purge_after,
            now=now,
        )
        if not change.changed:
            return customer  # already there: a retry changes nothing
        customer.access_state = change.to_state
        customer.access_changed_at = now
        customer.purge_after = change.purge_after
        if change.ends_sessions:
            await _close_portal(uow, customer, reason="customer_deleted", now=now)
        uow.publish(
            access_event(customer, change, changed_by=await actor_name(uow, principal)),
            aggregate_type="customer",
            aggregate_id=str(customer.id),
        )
        detail = f"{customer.name}: {change.from_state} -> {change.to_state}"
        if change.purge_after is not None:
            detail += f"; purged after {change.purge_after.isoformat()}"
        audit(
            uow,
            actor=await actor_label(uow, principal),
            action=change.action,
            target=f"customer:{customer.id}",
            detail=detail,
            at=now,
        )
        await uow.commit()
    return customer
