"""The scheduled job's use case: purge what is due and prune old records, tenant by tenant."""

from __future__ import annotations

from datetime import datetime

from services.chassis.telemetry import get_logger
from services.identity.service.common import Sessions, now_utc, tenant_ids
from services.identity.service.customer_retention import prune, purge_tenant

log = get_logger(__name__)


async def housekeeping(*, sessions: Sessions, now: datetime | None = None) -> int:
    """Runs across every tenant (each in its own transaction, scoped to that tenant);
    a failing tenant is logged and does not stop the others. Returns customers purged."""
    now = now or now_utc()
    purged = 0
    for tenant_id in await tenant_ids(sessions):
        try:
            purged += await purge_tenant(sessions=sessions, tenant_id=tenant_id, now=now)
            await prune(sessions=sessions, tenant_id=tenant_id, now=now)
        except Exception:
            log.exception("identity housekeeping failed for a tenant", tenant_id=tenant_id)
    return purged
