"""What staff can read back: the tenant's queued and sent mail."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.chassis.auth import Principal
from services.chassis.db import UnitOfWork
from services.notifications.models import Email
from services.notifications.service.common import Sessions


async def list_emails(*, sessions: Sessions, principal: Principal, page_size: int) -> list[Email]:
    principal.require_staff()
    tenant_id = uuid.UUID(principal.require_tenant())
    async with UnitOfWork(sessions, str(tenant_id)) as uow:
        return list(
            await uow.session.scalars(
                select(Email)
                .where(Email.tenant_id == tenant_id)
                .order_by(Email.created_at.desc())
                .limit(min(page_size or 50, 200))
            )
        )
