"""One-time links, spent: what a link is for (without spending it) and
redeeming it once for a session (and, for invites and resets, a password)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import Unauthenticated
from services.identity import domain_access, domain_credentials, domain_sessions
from services.identity.models import Contact, Customer, LoginToken, StaffUser
from services.identity.passwords import Passwords
from services.identity.service.common import (
    ClientInfo,
    Sessions,
    access_closed_message,
    end_sessions,
    now_utc,
    person_sessions,
    require_front_door,
    tenant_name,
    void_login_tokens,
)
from services.identity.service.sessions import OpenedSession
from services.identity.service.sign_in import start_session


@dataclass(frozen=True)
class LinkInfo:
    purpose: str
    email: str
    full_name: str
    expires_at: datetime
    kind: str  # "staff" or "client": the Continue page words an invite for each


@dataclass(frozen=True)
class _Holder:
    """The person a link is for, as they are now."""

    kind: str
    id: uuid.UUID
    email: str
    full_name: str
    customer_id: uuid.UUID | None
    totp_enabled: bool = False


def _usable(row: LoginToken | None, now: datetime) -> LoginToken:
    if row is None or not domain_sessions.login_token_usable(
        used_at=row.used_at, revoked_at=row.revoked_at, expires_at=row.expires_at, now=now
    ):
        raise Unauthenticated(domain_sessions.LINK_SPENT_MESSAGE)
    return row


async def _holder(uow: UnitOfWork, subject_kind: str, subject_id: uuid.UUID) -> _Holder:
    """Who the link is for, if they may still come in."""
    if subject_kind == "staff":
        user = await uow.session.get(StaffUser, subject_id)
        if user is None:
            raise Unauthenticated(domain_sessions.LINK_SPENT_MESSAGE)
        return _Holder("staff", user.id, user.email, user.full_name, None, user.totp_enabled)
    contact = await uow.session.get(Contact, subject_id)
    if contact is None or contact.removed_at is not None:
        raise Unauthenticated(domain_sessions.LINK_SPENT_MESSAGE)
    state = await uow.session.scalar(
        select(Customer.access_state).where(Customer.id == contact.customer_id)
    )
    if state is None or not domain_access.portal_open(state):
        raise Unauthenticated(access_closed_message(await tenant_name(uow)))
    return _Holder("client", contact.id, contact.email, contact.full_name, contact.customer_id)


async def inspect_login_token(*, sessions: Sessions, principal: Principal, token: str) -> LinkInfo:
    """What a link is for, without spending it (a GET never spends: mail scanners fetch)."""
    tenant_id = require_front_door(principal)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = _usable(
            await uow.session.scalar(
                select(LoginToken).where(
                    LoginToken.token_hash == domain_credentials.hash_secret(token)
                )
            )
            if token
            else None,
            now,
        )
        holder = await _holder(uow, row.subject_kind, row.subject_id)
    return LinkInfo(row.purpose, holder.email, holder.full_name, row.expires_at, holder.kind)


async def redeem_login_token(
    *,
    sessions: Sessions,
    passwords: Passwords,
    principal: Principal,
    token: str,
    new_password: str,
    client: ClientInfo,
) -> OpenedSession | None:
    """Spends the link once (a double POST opens one session) and opens a session.

    Invites and resets set the password first; a reset ends every other
    session of the person. Staff with two-step verification get their new
    password but no session (domain_sessions.plan_redemption and link_opens_session).
    """
    tenant_id = require_front_door(principal)
    if not token:
        raise Unauthenticated(domain_sessions.LINK_SPENT_MESSAGE)
    token_hash = domain_credentials.hash_secret(token)
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = _usable(
            await uow.session.scalar(select(LoginToken).where(LoginToken.token_hash == token_hash)),
            now,
        )
        holder = await _holder(uow, row.subject_kind, row.subject_id)
        purpose = row.purpose
    plan = domain_sessions.plan_redemption(purpose, new_password=new_password, email=holder.email)
    # Hashed outside any transaction: it is slow on purpose.
    new_hash = await passwords.hash(new_password) if plan.sets_password else None
    async with UnitOfWork(sessions, tenant_id) as uow:
        await _spend(uow, token_hash, now)
        # Access may have changed while the password was hashed: check again.
        holder = await _holder(uow, holder.kind, holder.id)
        await _apply_redemption(uow, holder, plan, new_hash, now)
        if not domain_sessions.link_opens_session(totp_enabled=holder.totp_enabled):
            await uow.commit()
            return None
        opened = await start_session(
            uow,
            kind=holder.kind,
            person_id=holder.id,
            customer_id=holder.customer_id,
            client=client,
            now=now,
            auth_method=purpose,  # magic_link, invite or password_reset: the emailed link
        )
        await uow.commit()
    return opened


async def _spend(uow: UnitOfWork, token_hash: str, now: datetime) -> None:
    """Marks the link used, unless a concurrent redemption got there first."""
    spent = await uow.session.scalar(
        update(LoginToken)
        .where(
            LoginToken.token_hash == token_hash,
            LoginToken.used_at.is_(None),
            LoginToken.revoked_at.is_(None),
            LoginToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginToken.id)
        .execution_options(synchronize_session=False)
    )
    if spent is None:
        raise Unauthenticated(domain_sessions.LINK_SPENT_MESSAGE)


async def _apply_redemption(
    uow: UnitOfWork,
    holder: _Holder,
    plan: domain_sessions.RedemptionPlan,
    new_hash: str | None,
    now: datetime,
) -> None:
    if new_hash is not None:
        model = StaffUser if holder.kind == "staff" else Contact
        await uow.session.execute(
            update(model)
            .where(model.id == holder.id)
            .values(password_hash=new_hash, password_changed_at=now)
            .execution_options(synchronize_session=False)
        )
    if plan.ends_other_sessions:
        await end_sessions(
            uow, person_sessions(holder.kind, holder.id), reason="password_reset", now=now
        )
        await void_login_tokens(uow, [holder.id], now=now, purposes=["password_reset"])
