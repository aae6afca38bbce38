"""Jobs payments declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

from services.chassis.jobs import Job
from services.payments import service
from services.payments.service import Accounting
from services.payments.service.accounting import SYNC_CHANNEL
from services.payments.service.common import Sessions


def accounting_sync(*, sessions: Sessions, accounting: Accounting, interval: float) -> list[Job]:
    """Post due sync records, woken when one is queued or retried, else every
    `interval` seconds (backoffs come due without a NOTIFY).

    A singleton: the provider's refresh tokens rotate on every refresh, so two
    replicas refreshing one connection at once would leave one of them with a
    spent token; one pass at a time keeps each connection's tokens in one hand.
    None without a configured provider."""
    if not accounting.providers:
        return []

    async def sync_due() -> bool:
        return await service.sync_due(sessions=sessions, accounting=accounting)

    return [
        Job.on_notify(
            SYNC_CHANNEL,
            sync_due,
            fallback_seconds=interval,
            name="accounting-sync",
            singleton=True,
        )
    ]
