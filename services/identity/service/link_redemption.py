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
from services.identity.service.sessions import OpenedSession, live_view, open_session


@dataclass(frozen=True)
class LinkInfo:
    purpose: str
    email: str
    full_name: str
    expires_at: datetime


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
    if (
        row is None
        or row.used_at is not None
        or row.revoked_at is not None
        or now >= row.expires_at
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
    return LinkInfo(row.purpose, holder.email, holder.full_name, row.expires_at)


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
    password but no session: an emailed link alone must not get past TOTP.
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
    sets_password = domain_sessions.purpose_needs_password(purpose)
    new_hash = None
    if sets_password:
        # Checked before spending: a refused password leaves the link usable.
        domain_credentials.check_password_policy(new_password, email=holder.email)
        new_hash = await passwords.hash(new_password)

    async with UnitOfWork(sessions, tenant_id) as uow:
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
        # Access may have changed while the password was hashed: check again.
        holder = await _holder(uow, holder.kind, holder.id)
        model = StaffUser if holder.kind == "staff" else Contact
        if new_hash is not None:
            await uow.session.execute(
                update(model)
                .where(model.id == holder.id)
                .values(password_hash=new_hash, password_changed_at=now)
                .execution_options(synchronize_session=False)
            )
        if purpose == "password_reset":
            await end_sessions(
                uow, person_sessions(holder.kind, holder.id), reason="password_reset", now=now
            )
            await void_login_tokens(uow, [holder.id], now=now, purposes=["password_reset"])
        if holder.totp_enabled:
            await uow.commit()
            return None
        await uow.session.execute(
            update(model)
            .where(model.id == holder.id)
            .values(last_sign_in_at=now)
            .execution_options(synchronize_session=False)
        )
        clear, session_row = open_session(
            uow,
            kind=holder.kind,
            subject_id=holder.id,
            customer_id=holder.customer_id,
            client=client,
            now=now,
        )
        await uow.flush()
        view = await live_view(uow, session_row)
        await uow.commit()
    return OpenedSession(token=clear, session=view)
