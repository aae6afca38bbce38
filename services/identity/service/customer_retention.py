"""What identity forgets and when: deleted customers are purged once their 30
days to restore have passed; throttling records and long-ended sessions and
links are pruned."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.identity.v1 import events_pb2
from sqlalchemy import delete, or_, select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import PermissionDenied
from services.identity import domain_access
from services.identity.models import Customer, LinkRequest, LoginFailure, LoginToken, Session
from services.identity.service.common import Sessions, audit, end_view_as, now_utc, tenant_ids
from services.identity.service.customer_access import access_event

SYSTEM_ACTOR = "system (scheduled purge)"
# Throttling records and ended sessions/links are kept this long, then pruned.
KEEP_THROTTLE_RECORDS = timedelta(days=1)
KEEP_ENDED = timedelta(days=30)


async def purge_deleted_customers(
    *, sessions: Sessions, principal: Principal, now: datetime | None
) -> int:
    """Purges customers whose 30 days to restore have passed: in the caller's tenant,
    or in every tenant for a platform caller without one."""
    if principal.kind not in ("platform", "service"):
        raise PermissionDenied("only the platform's scheduled job can purge customers")
    if principal.kind == "service":
        principal.require_tenant()  # a service acts within one tenant
    now = now or now_utc()
    tenants = [principal.tenant_id] if principal.tenant_id else await tenant_ids(sessions)
    purged = 0
    for tenant_id in tenants:
        purged += await purge_tenant(sessions=sessions, tenant_id=str(tenant_id), now=now)
    return purged


async def purge_tenant(*, sessions: Sessions, tenant_id: str, now: datetime) -> int:
    """One tenant's due customers, in one transaction; replicas skip each other's rows."""
    async with UnitOfWork(sessions, tenant_id) as uow:
        due = list(
            await uow.session.scalars(
                select(Customer)
                .where(Customer.access_state == "deleted", Customer.purge_after <= now)
                .with_for_update(skip_locked=True)
            )
        )
        for customer in due:
            await _purge(uow, customer, now)
        await uow.commit()
    return len(due)


async def _purge(uow: UnitOfWork, customer: Customer, now: datetime) -> None:
    change = domain_access.plan_purge(
        customer.access_state,  # type: ignore[arg-type]
        purge_after=customer.purge_after,
        now=now,
    )
    # Told before they are forgotten: the event carries the recipients.
    uow.publish(
        access_event(customer, change, changed_by=SYSTEM_ACTOR),
        aggregate_type="customer",
        aggregate_id=str(customer.id),
    )
    uow.publish(
        events_pb2.CustomerPurged(customer_id=str(customer.id)),
        aggregate_type="customer",
        aggregate_id=str(customer.id),
    )
    contact_ids = [c.id for c in customer.contacts]
    emails = [c.email.lower() for c in customer.contacts]
    await uow.session.execute(
        delete(Session)
        .where(or_(Session.customer_id == customer.id, Session.subject_id.in_(contact_ids)))
        .execution_options(synchronize_session=False)
    )
    await end_view_as(uow, customer.id)
    if contact_ids:
        await uow.session.execute(
            delete(LoginToken)
            .where(LoginToken.subject_id.in_(contact_ids))
            .execution_options(synchronize_session=False)
        )
        await uow.session.execute(
            delete(LoginFailure)
            .where(LoginFailure.email.in_(emails))
            .execution_options(synchronize_session=False)
        )
        await uow.session.execute(
            delete(LinkRequest)
            .where(LinkRequest.email.in_(emails))
            .execution_options(synchronize_session=False)
        )
    customer.contacts.clear()  # delete-orphan: the contact rows go
    # The row stays as a tombstone (its id may be referenced elsewhere); nothing personal.
    customer.name = ""
    customer.access_state = change.to_state
    customer.access_changed_at = now
    customer.purge_after = None
    audit(
        uow,
        actor=SYSTEM_ACTOR,
        action=change.action,
        target=f"customer:{customer.id}",
        detail=f"purged with {len(contact_ids)} contact(s)",
        at=now,
    )


async def prune(*, sessions: Sessions, tenant_id: str, now: datetime) -> None:
    """Forget what is no longer needed: old throttling records, long-ended sessions and links."""
    async with UnitOfWork(sessions, tenant_id) as uow:
        await uow.session.execute(
            delete(LoginFailure).where(LoginFailure.at < now - KEEP_THROTTLE_RECORDS)
        )
        await uow.session.execute(
            delete(LinkRequest).where(LinkRequest.at < now - KEEP_THROTTLE_RECORDS)
        )
        await uow.session.execute(
            delete(Session).where(
                or_(
                    Session.expires_at < now - KEEP_ENDED,
                    Session.revoked_at < now - KEEP_ENDED,
                    Session.last_seen_at < now - KEEP_ENDED,
                )
            )
        )
        await uow.session.execute(
            delete(LoginToken).where(LoginToken.expires_at < now - KEEP_ENDED)
        )
        await uow.commit()
