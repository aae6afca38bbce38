"""Step-up: before a signature, the person proves again who they are on the
session they are using — their password, or a six-digit code emailed to them
(what a client who signs in by magic link has). The session then remembers
when and how (`authenticated_at`, `auth_method`); the gateway asks for it when
that proof is older than the tenant's limit."""

from __future__ import annotations

import secrets
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from portal.identity.v1 import events_pb2
from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, Unauthenticated
from services.identity import domain_credentials, domain_sessions
from services.identity.models import Contact, Session, StaffUser
from services.identity.passwords import Passwords
from services.identity.service.common import Sessions, now_utc, subject_uuid
from services.identity.service.sessions import SessionView, live_view


async def _own_session(uow: UnitOfWork, principal: Principal, token: str, now: datetime) -> Session:
    """The caller's own live session of this token, locked."""
    row = await uow.session.scalar(
        select(Session)
        .where(
            Session.token_hash == domain_credentials.hash_secret(token),
            Session.subject_id == subject_uuid(principal),
            Session.revoked_at.is_(None),
            Session.expires_at > now,
        )
        .with_for_update()
    )
    if row is None:
        raise Unauthenticated(domain_sessions.SESSION_EXPIRED_MESSAGE)
    return row


async def request_step_up_code(*, sessions: Sessions, principal: Principal, token: str) -> datetime:
    """A new code for this session (the last one stops working), emailed by
    notifications from the event; only its hash is kept."""
    tenant_id = principal.require_tenant()
    now = now_utc()
    code = f"{secrets.randbelow(10**6):06d}"
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _own_session(uow, principal, token, now)
        row.step_up_code_hash = domain_sessions.step_up_code_hash(code)
        row.step_up_code_expires_at = expires = now + domain_sessions.STEP_UP_CODE_TTL
        row.step_up_attempts = 0
        view = await live_view(uow, row)
        stamp = Timestamp()
        stamp.FromDatetime(expires)
        uow.publish(
            events_pb2.StepUpCodeRequested(
                email=view.email, full_name=view.full_name, code=code, expires_at=stamp
            ),
            aggregate_type="session",
            aggregate_id=str(row.id),
        )
        await uow.commit()
    return expires


async def step_up(
    *,
    sessions: Sessions,
    passwords: Passwords,
    principal: Principal,
    token: str,
    password: str,
    code: str,
) -> SessionView:
    tenant_id = principal.require_tenant()
    if bool(password) == bool(code.strip()):
        raise InvalidArgument("Enter your password or the emailed code.", field="password")
    now = now_utc()
    password_ok: bool | None = None
    if password:
        async with UnitOfWork(sessions, tenant_id) as uow:
            row = await _own_session(uow, principal, token, now)
            model = StaffUser if row.kind == "staff" else Contact
            stored = await uow.session.scalar(
                select(model.password_hash).where(model.id == row.subject_id)
            )
        # Outside any transaction: slow on purpose; no password spends the same time.
        password_ok = (await passwords.verify(stored, password)).ok
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _own_session(uow, principal, token, now)
        check = domain_sessions.check_step_up(
            password_ok=password_ok,
            code=code,
            stored_code_hash=row.step_up_code_hash,
            code_expires_at=row.step_up_code_expires_at,
            attempts=row.step_up_attempts,
            now=now,
        )
        if not check.proven:
            row.step_up_attempts += 1
            await uow.commit()
            raise Unauthenticated(check.message)
        row.authenticated_at, row.auth_method = now, check.method
        row.step_up_code_hash, row.step_up_code_expires_at, row.step_up_attempts = None, None, 0
        # Every gateway replica forgets its cached answer for this session.
        uow.publish(
            events_pb2.SessionChanged(session_id=str(row.id)),
            aggregate_type="session",
            aggregate_id=str(row.id),
            occurred_at=now,
        )
        view = await live_view(uow, row)
        await uow.commit()
    return view
