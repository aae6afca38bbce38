"""Customers and their contacts: create, read, rename, add and remove contacts.
Their access to the portal changes in customer_access.py."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from portal.identity.v1 import events_pb2
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import AlreadyExists, NotFound
from services.chassis.validation import parse_uuid, require_text
from services.identity import domain, domain_access, domain_updates
from services.identity.models import Contact, Customer, Session
from services.identity.passwords import Passwords
from services.identity.service.common import (
    Sessions,
    actor_label,
    audit,
    end_sessions,
    initial_password_hash,
    now_utc,
    void_login_tokens,
)


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
        principal.require_editor("project_manager")
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


async def customer_for_change(uow: UnitOfWork, customer_id: str) -> Customer:
    customer = await uow.session.get(
        Customer, parse_uuid(customer_id, field="customer_id"), with_for_update=True
    )
    if customer is None or customer.access_state == "purged":
        raise NotFound("no such customer", field="customer_id")
    return customer


async def update_customer(
    *, sessions: Sessions, principal: Principal, customer_id: str, changes: Mapping[str, str]
) -> Customer:
    """Changes only the fields in `changes` (the request's field mask), under the
    customer's row lock."""
    principal.require_editor("project_manager")
    values = domain_updates.check_customer_changes(changes)
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        customer = await customer_for_change(uow, customer_id)
        domain_access.require_accepts_changes(
            customer.access_state, what="renaming", allow_archived=True
        )
        for key, value in values.items():
            setattr(customer, key, value)
        if values:
            publish_customer_changed(uow, customer.id)
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
        principal.require_editor("project_manager")
    new = await _new_contact(principal, passwords, uuid.UUID(tenant_id), contact, "contact.")
    async with UnitOfWork(sessions, tenant_id) as uow:
        if request_id:
            existing = await uow.session.scalar(
                select(Contact).where(Contact.request_id == request_id)
            )
            if existing is not None:
                return existing  # a retried add answers with what it made
        customer = await customer_for_change(uow, customer_id)
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
        publish_customer_changed(uow, customer.id)
        await uow.commit()
    return new


async def remove_contact(*, sessions: Sessions, principal: Principal, contact_id: str) -> None:
    """Soft-removes a contact; their sessions and links stop working at once."""
    principal.require_editor("project_manager")
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
        publish_customer_changed(uow, contact.customer_id)
        await uow.commit()


def publish_customer_changed(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """In the change's transaction: whoever keeps a copy of the customer's
    contacts (notifications) drops it, so a removed contact is not mailed."""
    uow.publish(
        events_pb2.CustomerChanged(customer_id=str(customer_id)),
        aggregate_type="customer",
        aggregate_id=str(customer_id),
    )
