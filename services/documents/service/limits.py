"""Each tenant's upload limit: its own choice, under the deployment's ceiling."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.documents import domain
from services.documents.models import TenantSetting
from services.documents.service.common import Sessions, Vault


async def tenant_upload_limit(uow: UnitOfWork, vault: Vault) -> int:
    """Within the caller's tenant unit of work (RLS scopes the row)."""
    own = await uow.session.scalar(select(TenantSetting.max_upload_bytes))
    return min(own, vault.max_upload_bytes) if own else vault.max_upload_bytes


async def get_upload_limit(*, sessions: Sessions, vault: Vault, principal: Principal) -> int:
    """Staff, and a client's approver (who may attach photos to a visit)."""
    if principal.is_client:
        principal.require_approver("attach photos")
    else:
        principal.require_staff()
    async with UnitOfWork(sessions, principal.require_tenant()) as uow:
        return await tenant_upload_limit(uow, vault)


async def set_upload_limit(
    *, sessions: Sessions, vault: Vault, principal: Principal, max_upload_bytes: int
) -> int:
    tenant_id = principal.require_editor("owner", "admin")
    limit = domain.check_upload_limit(max_upload_bytes, vault.max_upload_bytes)
    async with UnitOfWork(sessions, tenant_id) as uow:
        await uow.session.execute(
            insert(TenantSetting)
            .values(tenant_id=uuid.UUID(tenant_id), max_upload_bytes=limit)
            .on_conflict_do_update(
                index_elements=[TenantSetting.tenant_id], set_={"max_upload_bytes": limit}
            )
        )
        await uow.commit()
    return limit
