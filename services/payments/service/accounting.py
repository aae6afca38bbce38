"""The tenant's accounting connection: the OAuth2 authorization-code flow
(start: the provider's authorize URL with a state bound to this tenant;
complete: the code exchanged once for tokens), its state, and disconnecting.

Tokens are sealed whole (chassis sealing under payments' master key), with
the tenant and provider as associated data, so a sealed value copied into
another tenant's row does not open. The SDKs block: their calls run in a
worker thread, never inside an open transaction.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.chassis.errors import InvalidArgument, Unavailable
from services.chassis.sealing import MasterKeys, open_sealed, seal
from services.payments import domain_sync
from services.payments.accounting import (
    PROVIDER_NAMES,
    AuthRefused,
    Provider,
    Rejected,
    SyncError,
    Tokens,
)
from services.payments.domain_sync import ConnectionState, RetryPolicy
from services.payments.models import AccountingConnection, AccountingTenant, SyncRecord
from services.payments.service.common import Sessions, load_settings, now_utc

ADMIN_ROLES = ("finance",)  # owner and admin pass too (chassis)
SYNC_CHANNEL = "payments_sync"  # the sync job LISTENs on it


@dataclass(frozen=True)
class Accounting:
    """What the accounting use cases and the sync job are built from."""

    providers: Mapping[str, Provider] = field(default_factory=dict)
    keys: MasterKeys | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def provider(self, name: str) -> Provider:
        found = self.providers.get(name)
        if found is None or self.keys is None:
            raise Unavailable(
                f"{PROVIDER_NAMES.get(name, name)} is not set up on this server", field="provider"
            )
        return found

    def sealing(self) -> MasterKeys:
        if self.keys is None:
            raise Unavailable("accounting connections are not set up on this server")
        return self.keys


def _aad(tenant_id: object, provider: str) -> bytes:
    return f"payments|accounting-tokens|{tenant_id}|{provider}".encode()


def seal_tokens(keys: MasterKeys, tenant_id: object, provider: str, tokens: Tokens) -> bytes:
    plain = json.dumps(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat(),
        }
    ).encode()
    return seal(keys, plain, aad=_aad(tenant_id, provider))


def open_tokens(keys: MasterKeys, row: AccountingConnection) -> Tokens:
    if row.sealed_tokens is None:
        raise Unavailable("this accounting connection holds no tokens: connect again")
    raw = json.loads(open_sealed(keys, row.sealed_tokens, aad=_aad(row.tenant_id, row.provider)))
    expires_at = datetime.fromisoformat(raw["expires_at"])
    if row.access_expires_at is not None:
        # The clear column can only bring the expiry forward (a forced refresh).
        expires_at = min(expires_at, row.access_expires_at)
    return Tokens(raw["access_token"], raw["refresh_token"], expires_at)


@dataclass(frozen=True)
class ConnectionView:
    connection: AccountingConnection | None
    available: tuple[str, ...]
    counts: dict[str, int]


async def _row(uow: UnitOfWork, *, lock: bool = False) -> AccountingConnection | None:
    tenant = uuid.UUID(str(uow.tenant_id))
    query = select(AccountingConnection).where(AccountingConnection.tenant_id == tenant)
    return await uow.session.scalar(query.with_for_update() if lock else query)


async def _view(uow: UnitOfWork, accounting: Accounting) -> ConnectionView:
    row = await _row(uow)
    counts = {"pending": 0, "posted": 0, "failed": 0}
    if row is not None and row.provider:
        sums = await uow.session.execute(
            select(SyncRecord.state, func.count())
            .where(SyncRecord.provider == row.provider)
            .group_by(SyncRecord.state)
        )
        counts |= {state: int(n) for state, n in sums.all()}
    available = tuple(p for p in ("quickbooks", "xero") if p in accounting.providers)
    return ConnectionView(row, available if accounting.keys else (), counts)


async def get_connection(
    *, sessions: Sessions, accounting: Accounting, principal: Principal
) -> ConnectionView:
    principal.require_staff()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return await _view(uow, accounting)


async def start_connection(
    *,
    sessions: Sessions,
    accounting: Accounting,
    principal: Principal,
    provider: str,
    redirect_uri: str,
) -> str:
    """The provider's authorize URL. The state in it is random and kept only
    as its digest on this tenant's row: the callback must come back to the
    same tenant, within 10 minutes, once."""
    tenant_id = principal.require_editor(*ADMIN_ROLES)
    name = domain_sync.check_provider(provider, tuple(accounting.providers))
    api = accounting.provider(name)
    uri = domain_sync.check_redirect_uri(redirect_uri)
    state = secrets.token_urlsafe(32)
    try:
        url = await asyncio.to_thread(api.authorize_url, state=state, redirect_uri=uri)
    except SyncError as exc:
        raise Unavailable(exc.message, field="provider") from None
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _row(uow, lock=True)
        if row is None:
            row = AccountingConnection(
                tenant_id=uuid.UUID(tenant_id), state=ConnectionState.DISCONNECTED
            )
            uow.session.add(row)
        # A newer attempt replaces an older one: only the latest link works.
        row.oauth_provider = name
        row.oauth_state_digest = domain_sync.state_digest(state)
        row.oauth_redirect_uri = uri
        row.oauth_expires_at = now + domain_sync.STATE_TTL
        row.updated_at = now
        await uow.commit()
    return url


async def complete_connection(
    *,
    sessions: Sessions,
    accounting: Accounting,
    principal: Principal,
    state: str,
    code: str,
    realm_id: str,
) -> ConnectionView:
    tenant_id = principal.require_editor(*ADMIN_ROLES)
    if not code:
        raise InvalidArgument(
            "the provider sent no authorization code: connect again", field="code"
        )
    now = now_utc()
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _row(uow, lock=True)
        domain_sync.check_state(
            state,
            stored_digest=row.oauth_state_digest if row else "",
            expires_at=row.oauth_expires_at if row else None,
            now=now,
        )
        assert row is not None
        name, uri = row.oauth_provider, row.oauth_redirect_uri
        # Spent before the exchange: a replayed callback finds nothing to complete.
        row.oauth_state_digest, row.oauth_expires_at = "", None
        await uow.commit()
    api = accounting.provider(name)
    keys = accounting.sealing()
    try:
        grant = await asyncio.to_thread(
            api.exchange, code=code, redirect_uri=uri, realm_id=realm_id.strip()[:100]
        )
    except (AuthRefused, Rejected) as exc:
        raise InvalidArgument(exc.message, field="code") from None
    except SyncError as exc:
        raise Unavailable(exc.message) from None
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _row(uow, lock=True)
        assert row is not None
        row.provider = name
        row.state = ConnectionState.CONNECTED
        row.organisation_id = grant.organisation_id[:100]
        row.organisation_name = grant.organisation_name[:200]
        row.sealed_tokens = seal_tokens(keys, row.tenant_id, name, grant.tokens)
        row.access_expires_at = grant.tokens.expires_at
        row.connected_at = row.updated_at = now_utc()
        row.last_error = ""
        await uow.session.execute(
            insert(AccountingTenant)
            .values(tenant_id=row.tenant_id, provider=name)
            .on_conflict_do_update(index_elements=["tenant_id"], set_={"provider": name})
        )
        settings = await load_settings(uow)
        settings.accounting_provider = name
        await wake_sync(uow)  # what waited for a connection goes now
        view = await _view(uow, accounting)
        await uow.commit()
    return view


async def disconnect(
    *, sessions: Sessions, accounting: Accounting, principal: Principal
) -> ConnectionView:
    """Forget the tokens; records keep their state and post after a reconnect."""
    tenant_id = principal.require_editor(*ADMIN_ROLES)
    async with UnitOfWork(sessions, tenant_id) as uow:
        row = await _row(uow, lock=True)
        if row is not None:
            row.state = ConnectionState.DISCONNECTED
            row.sealed_tokens = None
            row.access_expires_at = None
            row.updated_at = now_utc()
            await uow.session.execute(
                delete(AccountingTenant).where(AccountingTenant.tenant_id == row.tenant_id)
            )
            settings = await load_settings(uow)
            settings.accounting_provider = ""
        view = await _view(uow, accounting)
        await uow.commit()
    return view


async def wake_sync(uow: UnitOfWork) -> None:
    """The sync job listens on this channel; PostgreSQL delivers it at commit."""
    await uow.session.execute(text(f"NOTIFY {SYNC_CHANNEL}"))
