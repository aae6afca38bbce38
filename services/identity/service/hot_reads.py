"""The two reads behind every authenticated request: a session cookie and an
API token. One query each on the chassis's lean `ReadUnit` (SQLAlchemy Core,
no ORM session), under the tenant's row-level security like every other read;
the minute-grained last-seen / last-used write rides in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, select, update

from services.chassis.auth import Principal
from services.chassis.db import ReadUnit
from services.chassis.errors import Unauthenticated
from services.identity import domain, domain_access, domain_credentials, domain_sessions
from services.identity.models import ApiToken, Contact, Customer, Session, StaffUser, Tenant
from services.identity.service.common import (
    Sessions,
    access_closed_message,
    now_utc,
    require_front_door,
)
from services.identity.service.sessions import SessionView, session_view

_customer_of_session = case(
    (Session.kind == "client", Session.customer_id), else_=Session.view_as_customer_id
)

# The session, its person (staff user or live contact) and the customer it is
# for (the client's own, or the one staff view as): one round trip, not three.
_RESOLVE = (
    select(
        Session.id,
        Session.kind,
        Session.subject_id,
        Session.customer_id,
        Session.view_as_customer_id,
        Session.user_agent,
        Session.ip,
        Session.created_at,
        Session.last_seen_at,
        Session.expires_at,
        Session.revoked_at,
        Session.authenticated_at,
        Session.auth_method,
        StaffUser.email.label("staff_email"),
        StaffUser.full_name.label("staff_name"),
        StaffUser.roles.label("staff_roles"),
        Contact.email.label("contact_email"),
        Contact.full_name.label("contact_name"),
        Contact.role.label("contact_role"),
        Contact.removed_at.label("contact_removed_at"),
        Customer.name.label("customer_name"),
        Customer.access_state.label("customer_state"),
    )
    .select_from(Session)
    .outerjoin(StaffUser, and_(Session.kind == "staff", StaffUser.id == Session.subject_id))
    .outerjoin(Contact, and_(Session.kind == "client", Contact.id == Session.subject_id))
    .outerjoin(Customer, Customer.id == _customer_of_session)
)


def _person(row) -> tuple[str, str, list[str]] | None:
    if row.kind == "staff":
        if row.staff_email is None:
            return None
        return row.staff_email, row.staff_name, list(row.staff_roles)
    if row.contact_email is None or row.contact_removed_at is not None:
        return None
    return row.contact_email, row.contact_name, [row.contact_role]


async def resolve_session(*, sessions: Sessions, principal: Principal, token: str) -> SessionView:
    tenant_id = require_front_door(principal)
    if not token:
        raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
    now = now_utc()
    async with ReadUnit(sessions, tenant_id) as read:
        # Row-level security: another tenant's token is simply not there.
        row = (
            await read.execute(
                _RESOLVE.where(Session.token_hash == domain_credentials.hash_secret(token))
            )
        ).one_or_none()
        if row is None or not _alive(row, now):
            raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
        person = _person(row)
        if person is None:
            raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
        customer = None if row.customer_state is None else (row.customer_name, row.customer_state)
        if row.kind == "client":
            if customer is None or not domain_access.portal_open(customer[1]):
                name = (
                    await read.execute(
                        select(Tenant.display_name).where(Tenant.id == uuid.UUID(tenant_id))
                    )
                ).scalar_one_or_none()
                raise Unauthenticated(access_closed_message(name or "the team"))
        elif customer is not None and not domain_access.portal_open(customer[1]):
            customer = None  # the customer was deleted while staff were viewing: back to staff view
        view = session_view(
            row, email=person[0], full_name=person[1], roles=person[2], customer=customer
        )
        if domain_sessions.should_touch(row.last_seen_at, now):
            await read.execute(update(Session).where(Session.id == row.id).values(last_seen_at=now))
            read.commit()
    return view


def _alive(row, now: datetime) -> bool:
    reason = domain_sessions.session_end_reason(
        row.kind,
        now=now,
        expires_at=row.expires_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
    )
    return reason is None


@dataclass(frozen=True)
class TokenOwner:
    """Who an API token speaks for, as AuthenticateApiToken answers."""

    token_id: uuid.UUID
    user: StaffUser  # transient: not attached to any ORM session


_AUTHENTICATE = select(
    ApiToken.id,
    ApiToken.last_used_at,
    StaffUser.id.label("user_id"),
    StaffUser.email,
    StaffUser.full_name,
    StaffUser.roles,
).join(StaffUser, StaffUser.id == ApiToken.user_id)


async def authenticate_api_token(
    *, sessions: Sessions, principal: Principal, secret: str
) -> TokenOwner:
    tenant_id = principal.require_tenant()
    now = now_utc()
    async with ReadUnit(sessions, tenant_id) as read:
        row = (
            await read.execute(
                _AUTHENTICATE.where(
                    ApiToken.token_hash == domain.hash_api_token(secret),
                    ApiToken.revoked_at.is_(None),
                )
            )
        ).one_or_none()
        if row is None:
            raise Unauthenticated("the API token is not valid for this integrator")
        # Last-used is a minute-grained fact: an API call must not be a write.
        if row.last_used_at is None or domain_sessions.should_touch(row.last_used_at, now):
            await read.execute(
                update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now)
            )
            read.commit()
    user = StaffUser(id=row.user_id, email=row.email, full_name=row.full_name, roles=row.roles)
    return TokenOwner(token_id=row.id, user=user)
