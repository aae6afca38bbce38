"""Jobs changeorders declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

from services.changeorders import service
from services.changeorders.service.expiry import BATCH
from services.chassis.jobs import Job


def expiry(*, sessions: service.Sessions, interval: float) -> Job:
    """Marks orders past their approval deadline expired, every `interval`
    seconds. A singleton: one replica sweeps (each order is also locked and
    re-checked in its own transaction, so an overlap would change nothing)."""

    async def expire_overdue() -> bool:
        return await service.expire_due(sessions=sessions) >= BATCH

    return Job.every(interval, expire_overdue, name="expiry", singleton=True)
