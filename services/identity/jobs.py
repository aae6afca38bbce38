"""Background jobs identity runs beside its gRPC server."""

from __future__ import annotations

import asyncio
import contextlib

from services.chassis.telemetry import get_logger
from services.identity import service
from services.identity.service.common import Sessions

log = get_logger(__name__)


async def run_housekeeping(stop: asyncio.Event, *, sessions: Sessions, interval: float) -> None:
    """Purge customers past their 30 days and prune old records, every `interval` seconds.

    Several replicas may run it at once: the purge locks rows with SKIP LOCKED,
    and pruning deletes are idempotent.
    """
    while not stop.is_set():
        try:
            purged = await service.housekeeping(sessions=sessions)
            if purged:
                log.info("purged deleted customers", purged=purged)
        except Exception:
            log.exception("identity housekeeping failed; retrying at the next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
