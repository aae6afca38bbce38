"""The sync job's pass: post each tenant's due records to its books.

Per tenant, three steps, none holding a transaction open across the network:

1. claim: the due pending records (customers, then invoices, then
   payments), row-locked with SKIP LOCKED, each given an attempt and a lease
   (due again only after `lease_seconds`), with what each will post read
   from our tables; commit;
2. post, in that order, through the provider's SDK in a worker thread,
   refreshing the access token first when it is about to expire (the new
   tokens are sealed and stored at once: refresh tokens rotate);
3. record each outcome in its own transaction: posted with the provider's
   id, back off, wait for the record it needs, or failed.

A crash between the provider accepting a record and step 3 leaves the
record pending; when its lease runs out the next attempt looks it up by our
reference first and stores the id it finds (`accounting` module docstring).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select

from services.chassis.db import UnitOfWork
from services.chassis.telemetry import get_logger
from services.payments import domain_sync
from services.payments.accounting import (
    AuthRefused,
    Books,
    Rejected,
    SyncError,
    Tokens,
)
from services.payments.domain_sync import ConnectionState, Outcome, SyncKind, SyncState
from services.payments.models import (
    AccountingConnection,
    AccountingTenant,
    SyncRecord,
)
from services.payments.service.accounting import Accounting, open_tokens, seal_tokens
from services.payments.service.common import Sessions, now_utc
from services.payments.service.sync_docs import Known, Work, work_for

log = get_logger(__name__)
BATCH = 50


@dataclass
class Claim:
    tenant_id: str
    provider: str
    organisation_id: str
    tokens: Tokens
    works: list[Work]
    known: Known


async def sync_due(*, sessions: Sessions, accounting: Accounting) -> bool:
    """One pass over every connected tenant. True: some tenant had a full batch."""
    async with UnitOfWork(sessions, None) as uow:
        tenants = (await uow.session.execute(select(AccountingTenant.tenant_id))).scalars().all()
    more = False
    for tenant_id in tenants:
        try:
            more |= await sync_tenant(
                sessions=sessions, accounting=accounting, tenant_id=str(tenant_id)
            )
        except Exception:  # one tenant's trouble never holds the others back
            log.exception("accounting sync pass failed for a tenant", tenant_id=str(tenant_id))
    return more


async def sync_tenant(*, sessions: Sessions, accounting: Accounting, tenant_id: str) -> bool:
    claim = await _claim(sessions, accounting, tenant_id, now_utc())
    if claim is None or not claim.works:
        return False
    api = accounting.provider(claim.provider)
    opened = await _open_books(sessions, accounting, claim)
    if opened is None:
        return False
    books, refreshed = opened
    saved = books.tokens
    for index, work in enumerate(claim.works):
        try:
            outcome = await _attempt(books, work, claim.known, accounting.policy)
        except AuthRefused as exc:
            # A token refused before its time: refresh next pass; refused even
            # though it was just refreshed: the tenant must reconnect.
            if refreshed:
                await _needs_reconnect(sessions, tenant_id, exc.message)
            else:
                await _force_refresh(sessions, tenant_id)
            await _release(sessions, tenant_id, claim.works[index:], exc.message, accounting)
            return False
        if outcome.state == SyncState.POSTED:
            claim.known[(work.kind.value, work.record_id)] = outcome.external_id
        tokens = books.tokens if books.tokens != saved else None
        await _record(sessions, accounting, claim, work, outcome, tokens)
        saved = books.tokens
        log.info(
            "accounting sync attempt",
            provider=api.name,
            kind=work.kind.value,
            state=outcome.state.value,
            attempts=outcome.attempts,
        )
    return len(claim.works) == BATCH


async def _claim(
    sessions: Sessions, accounting: Accounting, tenant_id: str, now: datetime
) -> Claim | None:
    policy = accounting.policy
    async with UnitOfWork(sessions, tenant_id) as uow:
        conn = await uow.session.get(AccountingConnection, uuid.UUID(tenant_id))
        if conn is None or conn.state != ConnectionState.CONNECTED:
            return None
        if conn.provider not in accounting.providers:
            log.warning("a tenant is connected to a provider this server has no app for")
            return None
        rank = case(
            {k.value: r for k, r in domain_sync.RANK.items()}, value=SyncRecord.kind, else_=9
        )
        rows = list(
            (
                await uow.session.scalars(
                    select(SyncRecord)
                    .where(
                        SyncRecord.provider == conn.provider,
                        SyncRecord.state == SyncState.PENDING,
                        SyncRecord.next_attempt_at <= now,
                    )
                    .order_by(rank, SyncRecord.created_at, SyncRecord.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        lease = now + timedelta(seconds=policy.lease_seconds)
        works = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = lease
            works.append(await work_for(uow, row))
        needed = {n for w in works for n in w.needs}
        known = await _posted(uow, conn.provider, needed)
        claim = Claim(
            tenant_id,
            conn.provider,
            conn.organisation_id,
            open_tokens(accounting.sealing(), conn),
            works,
            known,
        )
        await uow.commit()
    return claim


async def _posted(uow: UnitOfWork, provider: str, needed: set[tuple[str, str]]) -> Known:
    if not needed:
        return {}
    rows = await uow.session.execute(
        select(SyncRecord.kind, SyncRecord.record_id, SyncRecord.external_id).where(
            SyncRecord.provider == provider,
            SyncRecord.state == SyncState.POSTED,
            SyncRecord.record_id.in_({record_id for _, record_id in needed}),
        )
    )
    return {(k, r): e for k, r, e in rows.all() if (k, r) in needed}


async def _open_books(
    sessions: Sessions, accounting: Accounting, claim: Claim
) -> tuple[Books, bool] | None:
    """The organisation's books with a fresh access token (and whether it was
    refreshed just now); None when the pass cannot go on."""
    api = accounting.provider(claim.provider)
    tokens, refreshed = claim.tokens, False
    try:
        if tokens.expiring(now_utc()):
            tokens = await asyncio.to_thread(api.refresh, tokens)
            refreshed = True
            await _save_tokens(sessions, accounting, claim, tokens)
        books = await asyncio.to_thread(api.books, tokens, claim.organisation_id)
        return books, refreshed
    except AuthRefused as exc:
        await _needs_reconnect(sessions, claim.tenant_id, exc.message)
        await _release(sessions, claim.tenant_id, claim.works, exc.message, accounting)
    except SyncError as exc:
        await _release(sessions, claim.tenant_id, claim.works, exc.message, accounting)
    return None


_POST = {
    SyncKind.CUSTOMER: "post_customer",
    SyncKind.INVOICE: "post_invoice",
    SyncKind.PAYMENT: "post_payment",
}


async def _attempt(
    books: Books, work: Work, known: Known, policy: domain_sync.RetryPolicy
) -> Outcome:
    now = now_utc()
    if work.build is None:
        return domain_sync.failed_attempt(work.attempts, work.problem, now, policy, retryable=False)
    missing = [kind for kind, record in work.needs if (kind, record) not in known]
    if missing:
        return domain_sync.waiting(
            work.attempts, f"waits for its {missing[0]} to be posted first", now, policy
        )
    post = getattr(books, _POST[work.kind])
    try:
        external = await asyncio.to_thread(post, work.build(known), key=str(work.sync_id))
    except AuthRefused:
        raise
    except Rejected as exc:
        return domain_sync.failed_attempt(work.attempts, exc.message, now, policy, retryable=False)
    except SyncError as exc:
        return domain_sync.failed_attempt(work.attempts, exc.message, now, policy, retryable=True)
    return domain_sync.posted(work.attempts, external, now_utc())


async def _record(
    sessions: Sessions,
    accounting: Accounting,
    claim: Claim,
    work: Work,
    outcome: Outcome,
    tokens: Tokens | None,
) -> None:
    async with UnitOfWork(sessions, claim.tenant_id) as uow:
        row = await uow.session.get(SyncRecord, work.sync_id, with_for_update=True)
        if row is not None and row.state == SyncState.PENDING:
            row.state = outcome.state
            row.attempts = outcome.attempts
            row.next_attempt_at = outcome.next_attempt_at
            row.last_error = outcome.last_error
            if outcome.state == SyncState.POSTED:
                row.external_id = outcome.external_id[:100]
                row.posted_at = outcome.next_attempt_at
        if tokens is not None:
            await _store_tokens(uow, accounting, claim, tokens)
        await uow.commit()


async def _release(
    sessions: Sessions, tenant_id: str, works: list[Work], reason: str, accounting: Accounting
) -> None:
    """Claimed but not tried: the attempts are given back, due again after a wait."""
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        for work in works:
            row = await uow.session.get(SyncRecord, work.sync_id, with_for_update=True)
            if row is None or row.state != SyncState.PENDING:
                continue
            outcome = domain_sync.waiting(row.attempts, reason, now, accounting.policy)
            row.attempts, row.next_attempt_at = outcome.attempts, outcome.next_attempt_at
            row.last_error = reason
        await uow.commit()


async def _save_tokens(
    sessions: Sessions, accounting: Accounting, claim: Claim, tokens: Tokens
) -> None:
    async with UnitOfWork(sessions, claim.tenant_id) as uow:
        await _store_tokens(uow, accounting, claim, tokens)
        await uow.commit()


async def _store_tokens(
    uow: UnitOfWork, accounting: Accounting, claim: Claim, tokens: Tokens
) -> None:
    conn = await uow.session.get(
        AccountingConnection, uuid.UUID(claim.tenant_id), with_for_update=True
    )
    if conn is None or conn.provider != claim.provider or conn.sealed_tokens is None:
        return  # disconnected meanwhile: keep nothing
    conn.sealed_tokens = seal_tokens(accounting.sealing(), conn.tenant_id, conn.provider, tokens)
    conn.access_expires_at = tokens.expires_at
    conn.updated_at = now_utc()


async def _force_refresh(sessions: Sessions, tenant_id: str) -> None:
    async with UnitOfWork(sessions, tenant_id) as uow:
        conn = await uow.session.get(
            AccountingConnection, uuid.UUID(tenant_id), with_for_update=True
        )
        if conn is not None:
            conn.access_expires_at = now_utc()
        await uow.commit()


async def _needs_reconnect(sessions: Sessions, tenant_id: str, reason: str) -> None:
    async with UnitOfWork(sessions, tenant_id) as uow:
        conn = await uow.session.get(
            AccountingConnection, uuid.UUID(tenant_id), with_for_update=True
        )
        if conn is not None and conn.state == ConnectionState.CONNECTED:
            conn.state = ConnectionState.NEEDS_RECONNECT
            conn.last_error = reason
            conn.updated_at = now_utc()
        await uow.commit()
