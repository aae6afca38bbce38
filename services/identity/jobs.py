"""Jobs identity declares; the chassis runs them (roles "all" and "jobs")."""

from __future__ import annotations

from services.chassis.jobs import Job
from services.chassis.telemetry import get_logger
from services.identity import service
from services.identity.service.common import Sessions

log = get_logger(__name__)


def housekeeping(*, sessions: Sessions, interval: float) -> Job:
    """Purge customers past their 30 days and prune old records, every `interval` seconds.

    A singleton: one replica at a time does the sweep (the purge also locks rows
    with SKIP LOCKED and pruning is idempotent, so an overlap would be harmless,
    only wasted work).
    """

    async def purge_and_prune() -> None:
        purged = await service.housekeeping(sessions=sessions)
        if purged:
            log.info("purged deleted customers", purged=purged)

    return Job.every(interval, purge_and_prune, name="housekeeping", singleton=True)
