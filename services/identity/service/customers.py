"""Customers, their contacts, and their access to the portal (active, archived,
deleted, purged)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from portal.identity.v1 import identity_pb2 as pb
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, NotFound, PermissionDenied
from services.chassis.validation import parse_uuid, require_text
from services.identity import domain, domain_access
from services.identity.domain_access import AccessChange
from services.identity.models import (
    Contact,
    Customer,
    LinkRequest,
    LoginFailure,
    LoginToken,
    Session,
)
from services.identity.passwords import Passwords
from services.identity.service.common import (
    Sessions,
    actor_label,
    actor_name,
    audit,
    end_sessions,
    end_view_as,
    initial_password_hash,
    now_utc,
    tenant_ids,
    void_login_tokens,
)

SYSTEM_ACTOR = "system (scheduled purge)"
# Throttling records and ended sessions/links are kept this long, then pruned.
KEEP_THROTTLE_RECORDS = timedelta(days=1)
KEEP_ENDED = timedelta(days=30)
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


@dataclass(frozen=True)
class NewContact:
    email: str
    full_name: str
    role: str
    initial_password: str = ""  # platform callers only


async def _new_contact(
    principal: Principal,
    passwords: Passwords,
    tenant_id: uuid.UUID,
    new: NewContact,
    prefix: str,
) -> Contact:
    email = domain.normalize_email(new.email, field=f"{prefix}email")
    contact = Contact(
        tenant_id=tenant_id,
        email=email,
        full_name=require_text(new.full_name, field=f"{prefix}full_name"),
        role=domain.validate_roles([new.role], domain.CONTACT_ROLES, field=f"{prefix}role")[0],
    )
    if new.initial_password:
        contact.password_hash = await initial_password_hash(
            principal,
            passwords,
            new.initial_password,
            email=email,
            field=f"{prefix}initial_password",
        )
        contact.password_changed_at = now_utc()
    return contact


async def create_customer(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    name: str,
    contacts: list[NewContact],
    passwords: Passwords,
) -> Customer:
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":
        principal.require_staff("project_manager")
        principal.require_writable()
    tid = uuid.UUID(tenant_id)
    request_id = request_id or str(uuid.uuid4())
    # Checked and hashed before the transaction: argon2 holds no connection.
    new_contacts = [
        await _new_contact(principal, passwords, tid, c, f"contacts[{i}].")
        for i, c in enumerate(contacts)
    ]
    async with UnitOfWork(sessions, tenant_id) as uow:
        existing = await uow.session.scalar(
            select(Customer).where(Customer.request_id == request_id)
        )
        if existing is not None:
            return existing  # a retried create answers with what it made
        customer = Customer(
            tenant_id=tid,
            request_id=request_id,
            name=require_text(name, field="name"),
            access_state="active",
        )
        customer.contacts.extend(new_contacts)
        uow.session.add(customer)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists("a contact with one of these emails exists") from None
        # Load what the database filled in (defaults, the contacts) while
        # the session is open: the caller reads them after it closes.
        await uow.session.refresh(customer)
        await uow.commit()
    return customer


async def get_customer(*, sessions: Sessions, principal: Principal, customer_id: str) -> Customer:
    tenant_id = principal.require_tenant()
    cid = parse_uuid(customer_id, field="customer_id")
    # A client sees only their own customer record.
    if principal.is_client and principal.customer_id != str(cid):
        raise NotFound("no such customer")
    async with UnitOfWork(sessions, tenant_id) as uow:
        customer = await uow.session.get(Customer, cid)
    if customer is None:
        raise NotFound("no such customer")
    return customer


async def list_customers(
    *, sessions: Sessions, principal: Principal, include_deleted: bool
) -> list[Customer]:
    """Active and archived customers (and deleted ones if asked); never purged ones."""
    principal.require_staff()
    states = ["active", "archived", *(["deleted"] if include_deleted else [])]
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return list(
            await uow.session.scalars(
                select(Customer)
                .where(Customer.access_state.in_(states))
                .order_by(func.lower(Customer.name), Customer.id)
            )
        )


async def _customer_for_change(uow: UnitOfWork, customer_id: str) -> Customer:
    customer = await uow.session.get(
        Customer, parse_uuid(customer_id, field="customer_id"), with_for_update=True
    )
    if customer is None or customer.access_state == "purged":
        raise NotFound("no such customer", field="customer_id")
    return customer


async def update_customer(
    *, sessions: Sessions, principal: Principal, customer_id: str, name: str
) -> Customer:
    principal.require_staff("project_manager")
    principal.require_writable()
    new_name = require_text(name, field="name")
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        customer = await _customer_for_change(uow, customer_id)
        domain_access.require_accepts_changes(
            customer.access_state, what="renaming", allow_archived=True
        )
        customer.name = new_name
        await uow.commit()
    return customer


async def add_contact(
    *,
    sessions: Sessions,
    principal: Principal,
    request_id: str,
    customer_id: str,
    contact: NewContact,
    passwords: Passwords,
) -> Contact:
    tenant_id = principal.require_tenant()
    if principal.kind != "platform":
        principal.require_staff("project_manager")
        principal.require_writable()
    new = await _new_contact(principal, passwords, uuid.UUID(tenant_id), contact, "contact.")
    async with UnitOfWork(sessions, tenant_id) as uow:
        if request_id:
            existing = await uow.session.scalar(
                select(Contact).where(Contact.request_id == request_id)
            )
            if existing is not None:
                return existing  # a retried add answers with what it made
        customer = await _customer_for_change(uow, customer_id)
        domain_access.require_accepts_changes(
            customer.access_state, what="adding a contact", allow_archived=True
        )
        new.request_id = request_id or None
        new.customer_id = customer.id
        uow.session.add(new)
        try:
            await uow.flush()
        except IntegrityError:
            raise AlreadyExists(
                f"a contact with {new.email} exists", field="contact.email"
            ) from None
        await uow.commit()
    return new


async def remove_contact(*, sessions: Sessions, principal: Principal, contact_id: str) -> None:
    """Soft-removes a contact; their sessions and links stop working at once."""
    principal.require_staff("project_manager")
    principal.require_writable()
    cid = parse_uuid(contact_id, field="contact_id")
    now = now_utc()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        contact = await uow.session.get(Contact, cid, with_for_update=True)
        if contact is None:
            raise NotFound("no such contact", field="contact_id")
        if contact.removed_at is not None:
            return  # already removed: a retry changes nothing
        contact.removed_at = now
        await end_sessions(
            uow,
            Session.kind == "client",
            Session.subject_id == cid,
            reason="contact_removed",
            now=now,
        )
        await void_login_tokens(uow, [cid], now=now)
        audit(
            uow,
            actor=await actor_label(uow, principal),
            action="contact.removed",
            target=f"contact:{cid}",
            detail=f"removed {contact.full_name} <{contact.email}>",
            at=now,
        )
        await uow.commit()


def _access_event(
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
    principal.require_staff("project_manager")
    principal.require_writable()
    now = now_utc()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        customer = await _customer_for_change(uow, customer_id)
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
            _access_event(customer, change, changed_by=await actor_name(uow, principal)),
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
        _access_event(customer, change, changed_by=SYSTEM_ACTOR),
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
