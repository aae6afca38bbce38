"""What the identity use cases share: the clock, who may call, the audit log,
and ending sessions and links."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.identity.v1 import events_pb2
from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import PermissionDenied
from services.identity import domain_credentials
from services.identity.models import (
    AuditEntry,
    Contact,
    Customer,
    LoginToken,
    Session,
    StaffUser,
    Tenant,
)
from services.identity.passwords import Passwords

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class ClientInfo:
    """Where a front-door request came from (the gateway passes it on)."""

    ip: str = ""
    user_agent: str = ""


def now_utc() -> datetime:
    return datetime.now(UTC)


def staff_by_email(email: str) -> Select[tuple[StaffUser]]:
    """The tenant's staff user with this (lowercased) address, by its index."""
    return select(StaffUser).where(StaffUser.email_key == email).limit(1)


def contact_by_email(email: str) -> Select[tuple[Contact, Customer]]:
    """The tenant's live contact with this (lowercased) address and its
    customer, by the one-live-address index."""
    return (
        select(Contact, Customer)
        .join(Customer, Customer.id == Contact.customer_id)
        .where(Contact.email_key == email, Contact.removed_at.is_(None))
        .limit(1)
    )


def require_front_door(principal: Principal) -> str:
    """Anonymous flows (sign-in, links, session lookup) come from the gateway only."""
    if principal.kind not in ("service", "platform"):
        raise PermissionDenied("only the portal's gateway can do this")
    return principal.require_tenant()


def require_person(principal: Principal) -> str:
    """A signed-in staff user or client contact; returns the tenant."""
    if principal.kind not in ("staff", "client"):
        raise PermissionDenied("this is for a signed-in person")
    return principal.require_tenant()


async def initial_password_hash(
    principal: Principal, passwords: Passwords, password: str, *, email: str, field: str
) -> str:
    """A password set for someone at creation: only the platform may (onboarding, seed)."""
    if principal.kind != "platform":
        raise PermissionDenied(
            "only the platform sets an initial password; people set their own with an "
            "invite or a reset link",
        )
    domain_credentials.check_password_policy(password, email=email, field=field)
    return await passwords.hash(password)


def subject_uuid(principal: Principal) -> uuid.UUID:
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise PermissionDenied("the caller is not a known person") from None


async def actor_name(uow: UnitOfWork, principal: Principal) -> str:
    """A person's name for messages and events ("Olivia Grant"), or the caller's kind."""
    if principal.kind in ("staff", "client"):
        model: type[StaffUser] | type[Contact] = StaffUser if principal.kind == "staff" else Contact
        try:
            person: StaffUser | Contact | None = await uow.session.get(
                model, uuid.UUID(principal.subject)
            )
        except ValueError:
            person = None
        if person is not None:
            return person.full_name
    return (
        principal.kind if principal.kind == "platform" else f"{principal.kind} {principal.subject}"
    )


async def actor_label(uow: UnitOfWork, principal: Principal) -> str:
    """Who did it, for the audit log: name and identity of the caller."""
    name = await actor_name(uow, principal)
    if principal.kind in ("staff", "client"):
        return f"{name} ({principal.kind} {principal.subject})"
    return name


def audit(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    target: str,
    detail: str = "",
    at: datetime,
) -> None:
    uow.session.add(
        AuditEntry(
            tenant_id=uuid.UUID(str(uow.tenant_id)),
            actor=actor[:300],
            action=action,
            target=target[:200],
            detail=detail,
            at=at,
        )
    )


async def tenant_name(uow: UnitOfWork) -> str:
    tenant = await uow.session.get(Tenant, uuid.UUID(str(uow.tenant_id)))
    return tenant.display_name if tenant is not None else "the team"


def access_closed_message(display_name: str) -> str:
    return f"Your access to this portal has been closed. Contact {display_name}."


async def end_sessions(
    uow: UnitOfWork,
    *conditions: ColumnElement[bool],
    reason: str,
    now: datetime,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke every live session matching `conditions` (except `keep`) at once.

    Publishes SessionEnded when any ended: gateways cache a session for a few
    seconds and drop it when they hear this."""
    stmt = (
        update(Session)
        .where(Session.revoked_at.is_(None), *conditions)
        .values(revoked_at=now, revoked_reason=reason)
        .returning(Session.id)
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(Session.id != keep)
    ended = [str(sid) for sid in (await uow.session.scalars(stmt)).all()]
    if ended:
        uow.publish(
            events_pb2.SessionEnded(session_ids=ended, reason=reason),
            aggregate_type="session",
            aggregate_id=ended[0],
            occurred_at=now,
        )
    return len(ended)


def person_sessions(kind: str, subject_id: uuid.UUID) -> ColumnElement[bool]:
    """The sessions of one person (staff user or contact)."""
    return (Session.kind == kind) & (Session.subject_id == subject_id)


async def end_view_as(uow: UnitOfWork, customer_id: uuid.UUID) -> None:
    """Staff viewing a customer's portal are switched back to their own view."""
    await uow.session.execute(
        update(Session)
        .where(Session.view_as_customer_id == customer_id)
        .values(view_as_customer_id=None)
        .execution_options(synchronize_session=False)
    )


async def void_login_tokens(
    uow: UnitOfWork,
    subject_ids: Iterable[uuid.UUID],
    *,
    now: datetime,
    purposes: Iterable[str] | None = None,
) -> None:
    """Unused one-time links of these people stop working."""
    ids = list(subject_ids)
    if not ids:
        return
    stmt = (
        update(LoginToken)
        .where(
            LoginToken.subject_id.in_(ids),
            LoginToken.used_at.is_(None),
            LoginToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if purposes is not None:
        stmt = stmt.where(LoginToken.purpose.in_(list(purposes)))
    await uow.session.execute(stmt)


async def tenant_ids(sessions: Sessions) -> list[str]:
    """Every tenant (the registry has no row-level security), for jobs across tenants."""
    async with UnitOfWork(sessions, None) as uow:
        return [str(t) for t in await uow.session.scalars(select(Tenant.id).order_by(Tenant.id))]
