"""Server-side sessions: open, resolve, list, revoke, and staff viewing as a client."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from portal.identity.v1 import events_pb2
from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import (
    InvalidArgument,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from services.chassis.validation import parse_uuid
from services.identity import domain_access, domain_credentials, domain_sessions
from services.identity.models import Contact, Customer, Session, StaffUser
from services.identity.service.common import (
    ClientInfo,
    Sessions,
    access_closed_message,
    actor_label,
    audit,
    end_sessions,
    now_utc,
    require_person,
    subject_uuid,
    tenant_name,
)


@dataclass(frozen=True)
class SessionView:
    """A session as the gateway needs it: who, as what, and what they may do."""

    id: str
    kind: str  # staff | client
    subject_id: str
    email: str
    full_name: str
    roles: list[str]
    customer_id: str | None
    customer_name: str
    access_state: str | None
    read_only: bool
    view_as_client: bool
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    authenticated_at: datetime  # the person's latest proof: sign-in or step-up
    auth_method: str


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie; only its hash is stored
    session: SessionView


@dataclass(frozen=True)
class _Person:
    email: str
    full_name: str
    roles: list[str] = field(default_factory=list)


def open_session(
    uow: UnitOfWork,
    *,
    kind: str,
    subject_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    client: ClientInfo,
    now: datetime,
    auth_method: str,
) -> tuple[str, Session]:
    """Add a new session to the unit of work; returns (clear token, row)."""
    token = domain_credentials.token_from_bytes(
        secrets.token_bytes(domain_credentials.SESSION_TOKEN_BYTES)
    )
    row = Session(
        id=uuid.uuid4(),
        tenant_id=uuid.UUID(str(uow.tenant_id)),
        token_hash=domain_credentials.hash_secret(token),
        kind=kind,
        subject_id=subject_id,
        customer_id=customer_id,
        user_agent=domain_sessions.clean_user_agent(client.user_agent),
        ip=domain_sessions.clean_ip(client.ip),
        created_at=now,
        last_seen_at=now,
        expires_at=domain_sessions.session_expires_at(kind, now),
        authenticated_at=now,
        auth_method=auth_method,
    )
    uow.session.add(row)
    return token, row


def session_view(
    row: Session,
    *,
    email: str,
    full_name: str,
    roles: list[str],
    customer: tuple[str, str] | None,
) -> SessionView:
    """`customer`: (name, access state) of the client's customer, or of the one staff view as."""
    view_as = row.kind == "staff" and row.view_as_customer_id is not None and customer is not None
    customer_id = row.customer_id if row.kind == "client" else row.view_as_customer_id
    return SessionView(
        id=str(row.id),
        kind=row.kind,
        subject_id=str(row.subject_id),
        email=email,
        full_name=full_name,
        roles=list(roles),
        customer_id=str(customer_id) if customer is not None and customer_id else None,
        customer_name=customer[0] if customer is not None else "",
        access_state=customer[1] if customer is not None else None,
        read_only=domain_sessions.session_read_only(
            kind=row.kind, view_as=view_as, customer_state=customer[1] if customer else None
        ),
        view_as_client=view_as,
        user_agent=row.user_agent,
        ip=row.ip,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        authenticated_at=row.authenticated_at,
        auth_method=row.auth_method,
    )


async def _customer_brief(uow: UnitOfWork, customer_id: uuid.UUID | None) -> tuple[str, str] | None:
    if customer_id is None:
        return None
    row = (
        await uow.session.execute(
            select(Customer.name, Customer.access_state).where(Customer.id == customer_id)
        )
    ).one_or_none()
    return (row.name, row.access_state) if row is not None else None


async def _person(uow: UnitOfWork, row: Session) -> _Person | None:
    if row.kind == "staff":
        user = await uow.session.get(StaffUser, row.subject_id)
        return _Person(user.email, user.full_name, list(user.roles)) if user else None
    contact = await uow.session.get(Contact, row.subject_id)
    if contact is None or contact.removed_at is not None:
        return None
    return _Person(contact.email, contact.full_name, [contact.role])


async def live_view(uow: UnitOfWork, row: Session) -> SessionView:
    """The view of a session that is still allowed to be used, or Unauthenticated."""
    person = await _person(uow, row)
    if person is None:
        raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
    customer = await _customer_brief(
        uow, row.customer_id if row.kind == "client" else row.view_as_customer_id
    )
    if row.kind == "client":
        if customer is None or not domain_access.portal_open(customer[1]):
            raise Unauthenticated(access_closed_message(await tenant_name(uow)))
    elif customer is not None and not domain_access.portal_open(customer[1]):
        customer = None  # the customer was deleted while staff were viewing: back to staff view
    return session_view(
        row, email=person.email, full_name=person.full_name, roles=person.roles, customer=customer
    )


def _alive(row: Session, now: datetime) -> bool:
    reason = domain_sessions.session_end_reason(
        row.kind,
        now=now,
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
    )
    return reason is None


async def sign_out(*, sessions: Sessions, principal: Principal, token: str) -> None:
    """Ends the session of this token; unknown or already ended is fine (idempotent)."""
    tenant_id = principal.require_tenant()
    if not token:
        return
    async with UnitOfWork(sessions, tenant_id) as uow:
        conditions = [Session.token_hash == domain_credentials.hash_secret(token)]
        if principal.kind in ("staff", "client"):
            conditions.append(Session.subject_id == subject_uuid(principal))
        await end_sessions(uow, *conditions, reason="signed_out", now=now_utc())
        await uow.commit()


async def _own_sessions(uow: UnitOfWork, principal: Principal) -> list[Session]:
    return list(
        await uow.session.scalars(
            select(Session)
            .where(
                Session.kind == principal.kind,
                Session.subject_id == subject_uuid(principal),
                Session.revoked_at.is_(None),
            )
            .order_by(Session.created_at.desc(), Session.id)
        )
    )


async def list_sessions(
    *, sessions: Sessions, principal: Principal, current_session_id: str
) -> list[SessionView]:
    """The caller's own live sessions, newest first (the gateway flags the current by id)."""
    tenant_id = require_person(principal)
    domain_sessions.check_current_session(current_session_id, principal.session_id)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        rows = [r for r in await _own_sessions(uow, principal) if _alive(r, now)]
        if not rows:
            return []
        person = await _person(uow, rows[0])
        if person is None:
            return []
        views = []
        for row in rows:
            customer = await _customer_brief(
                uow, row.customer_id if row.kind == "client" else row.view_as_customer_id
            )
            views.append(
                session_view(
                    row,
                    email=person.email,
                    full_name=person.full_name,
                    roles=person.roles,
                    customer=customer,
                )
            )
    return views


async def revoke_sessions(
    *,
    sessions: Sessions,
    principal: Principal,
    current_session_id: str,
    session_id: str,
    all_but_current: bool,
) -> int:
    """Ends one of the caller's own sessions, or every one but the current."""
    tenant_id = require_person(principal)
    domain_sessions.check_current_session(current_session_id, principal.session_id)
    if bool(session_id) == bool(all_but_current):
        raise InvalidArgument("give either session_id or all_but_current", field="session_id")
    me = subject_uuid(principal)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        if session_id:
            sid = parse_uuid(session_id, field="session_id")
            row = await uow.session.get(Session, sid)
            # Someone else's session is "not found": never reveal that it exists.
            if row is None or row.subject_id != me or row.kind != principal.kind:
                raise NotFound("no such session", field="session_id")
            revoked = await end_sessions(uow, Session.id == sid, reason="revoked", now=now)
            detail = f"ended session {sid}"
        else:
            if not principal.session_id:
                raise InvalidArgument(
                    "ending the other sessions needs the current session",
                    field="current_session_id",
                )
            revoked = await end_sessions(
                uow,
                Session.kind == principal.kind,
                Session.subject_id == me,
                reason="revoked",
                now=now,
                keep=parse_uuid(principal.session_id, field="current_session_id"),
            )
            detail = f"ended {revoked} other session(s)"
        if revoked:
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="sessions.revoked",
                target=f"{principal.kind}:{me}",
                detail=detail,
                at=now,
            )
        await uow.commit()
    return revoked


async def _own_current_session(uow: UnitOfWork, principal: Principal, now: datetime) -> Session:
    if principal.kind != "staff":
        raise PermissionDenied("only the integrator's staff can view a client's portal")
    if not principal.session_id:
        raise InvalidArgument(
            "viewing as a client needs a signed-in session", field="current_session_id"
        )
    row = await uow.session.get(
        Session, parse_uuid(principal.session_id, field="current_session_id"), with_for_update=True
    )
    if row is None or row.kind != "staff" or row.subject_id != subject_uuid(principal):
        raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
    if not _alive(row, now):
        raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
    return row


def _changed(uow: UnitOfWork, row: Session, now: datetime) -> None:
    """Gateways that cached this session's answer drop it."""
    uow.publish(
        events_pb2.SessionChanged(session_id=str(row.id)),
        aggregate_type="session",
        aggregate_id=str(row.id),
        occurred_at=now,
    )


async def start_view_as_client(
    *, sessions: Sessions, principal: Principal, current_session_id: str, customer_id: str
) -> SessionView:
    """Switch the caller's own session to a customer's portal, read-only, audited."""
    tenant_id = principal.require_tenant()
    principal.require_staff("project_manager")
    domain_sessions.check_current_session(current_session_id, principal.session_id)
    cid = parse_uuid(customer_id, field="customer_id")
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _own_current_session(uow, principal, now)
        customer = await _customer_brief(uow, cid)
        if customer is None or customer[1] == "purged":
            raise NotFound("no such customer", field="customer_id")
        if not domain_access.portal_open(customer[1]):
            raise InvalidTransition(
                "this customer's portal is closed (deleted); restore them to view it"
            )
        if row.view_as_customer_id != cid:
            row.view_as_customer_id = cid
            _changed(uow, row, now)
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="view_as.started",
                target=f"customer:{cid}",
                detail=f"viewed portal as {customer[0]}",
                at=now,
            )
        view = await live_view(uow, row)
        await uow.commit()
    return view


async def stop_view_as_client(
    *, sessions: Sessions, principal: Principal, current_session_id: str
) -> SessionView:
    tenant_id = principal.require_tenant()
    domain_sessions.check_current_session(current_session_id, principal.session_id)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _own_current_session(uow, principal, now)
        if row.view_as_customer_id is not None:
            audit(
                uow,
                actor=await actor_label(uow, principal),
                action="view_as.stopped",
                target=f"customer:{row.view_as_customer_id}",
                detail="returned to the staff view",
                at=now,
            )
            row.view_as_customer_id = None
            _changed(uow, row, now)
        view = await live_view(uow, row)
        await uow.commit()
    return view
