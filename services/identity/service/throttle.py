"""The front door's counters: sign-in attempts and link requests, each counted
and recorded atomically (see domain_throttle for the rules).

Atomic because a count read in one transaction and a row written in another
can be raced: forty concurrent guesses all read "no failures yet" and all get
their password checked. Here the count and the new row happen under a
PostgreSQL transaction-level advisory lock per account and per client
address, taken before the count is read and held until commit, so the next
request for the same key reads a count that includes this one. Advisory, not
a row lock, because an unknown address has no row to lock, and it must be
throttled exactly like a real one.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, text

from services.chassis.db import UnitOfWork
from services.chassis.errors import RateLimited
from services.identity import domain_throttle
from services.identity.models import LinkRequest, LoginFailure

MAX_THROTTLE_ROWS = 200


def email_key(email: str) -> str:
    """How throttling and look-ups see an address: trimmed, lowercased."""
    return email.strip().lower()


def _lock_id(tenant_id: str, name: str) -> int:
    """A stable signed 64-bit advisory-lock key for one counter of one tenant."""
    digest = hashlib.sha256(f"identity:{tenant_id}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_counters(uow: UnitOfWork, *names: str) -> None:
    """Serialise this transaction with every other one counting the same keys,
    until it commits. Always in ascending key order, so two transactions that
    both lock an address and an account never wait for each other in a circle."""
    tenant = str(uow.tenant_id)
    for key in sorted({_lock_id(tenant, name) for name in names}):
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def _times(uow: UnitOfWork, column: ColumnElement, where: ColumnElement[bool]) -> list:
    return list(
        await uow.session.scalars(
            select(column).where(where).order_by(column.desc()).limit(MAX_THROTTLE_ROWS)
        )
    )


async def reserve_sign_in_attempt(
    uow: UnitOfWork, *, email: str, ip: str, now: datetime
) -> uuid.UUID:
    """Counts this attempt before its password is checked, or refuses it
    (RESOURCE_EXHAUSTED with when to try again). The caller commits, then
    checks the password, then settles the attempt."""
    await lock_counters(uow, f"sign_in:email:{email}", *([f"sign_in:ip:{ip}"] if ip else []))
    since = now - domain_throttle.SIGN_IN_WINDOW
    decision = domain_throttle.sign_in_throttle(
        email_failures=await _times(
            uow, LoginFailure.at, (LoginFailure.email == email) & (LoginFailure.at > since)
        ),
        ip_failures=(
            await _times(uow, LoginFailure.at, (LoginFailure.ip == ip) & (LoginFailure.at > since))
            if ip
            else []
        ),
        now=now,
    )
    if not decision.allowed:
        raise RateLimited(decision.message, retry_after=decision.retry_after)
    attempt = LoginFailure(
        id=uuid.uuid4(), tenant_id=uuid.UUID(str(uow.tenant_id)), email=email, ip=ip, at=now
    )
    uow.session.add(attempt)
    return attempt.id


async def settle_attempt(uow: UnitOfWork, attempt_id: uuid.UUID, *, secret_right: bool) -> None:
    """The answer is known: the reservation stays a failure, or is released."""
    if not domain_throttle.attempt_counts(secret_right=secret_right):
        await uow.session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


async def record_link_request(
    uow: UnitOfWork, *, purpose: str, email: str, ip: str, now: datetime
) -> LinkRequest:
    """Counts this request against the hourly caps and records it, or refuses
    it (RESOURCE_EXHAUSTED saying when links will be sent again). The same
    statements run whether or not anyone has the address."""
    await lock_counters(uow, f"link:email:{email}", *([f"link:ip:{ip}"] if ip else []))
    since = now - domain_throttle.LINK_WINDOW
    decision = domain_throttle.link_request_throttle(
        email_requests=await _times(
            uow, LinkRequest.at, (LinkRequest.email == email) & (LinkRequest.at > since)
        ),
        ip_requests=(
            await _times(uow, LinkRequest.at, (LinkRequest.ip == ip) & (LinkRequest.at > since))
            if ip
            else []
        ),
        now=now,
    )
    if not decision.allowed:
        raise RateLimited(decision.message, retry_after=decision.retry_after)
    row = LinkRequest(
        id=uuid.uuid4(),
        tenant_id=uuid.UUID(str(uow.tenant_id)),
        purpose=purpose,
        email=email,
        ip=ip,
        at=now,
    )
    uow.session.add(row)
    return row
