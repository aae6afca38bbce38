"""Bounded concurrency for one costly use case (a change-order approval): at
most `in_flight` run, at most `waiting` wait (each up to `wait_seconds`), and
the rest are refused at once with `Overloaded` (RESOURCE_EXHAUSTED with a
retry-after; the gateway answers 503 + Retry-After).

Why here and not only at the gateway's door: the gateway admits 64 requests of
every kind, and an approval costs ~190 ms of CPU across the suite; on a
saturated machine the admitted approvals queued inside the service for the
cores until the gateway's 5 s deadline, and ended as 504s after part of the
work was done. Refused before the use case starts, an approval changes
nothing and the client is told to come back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from services.chassis.errors import Overloaded


class Admission:
    """`needs_seconds`: how much of the caller's deadline a call needs left to
    be worth starting. One that arrives with less (it queued at the gateway,
    or here) is refused at once: started, it would end as a 504 with its
    work done for nothing."""

    def __init__(
        self, *, in_flight: int, waiting: int, wait_seconds: float, needs_seconds: float = 0.0
    ) -> None:
        if in_flight < 1 or waiting < 0 or wait_seconds < 0 or needs_seconds < 0:
            raise ValueError("in_flight >= 1, waiting >= 0, wait_seconds and needs_seconds >= 0")
        self._slots = asyncio.Semaphore(in_flight)
        self._max_waiting = waiting
        self._wait_seconds = wait_seconds
        self._needs = needs_seconds
        self.waiting = 0
        self.refused = 0  # since start: read by tests and logs

    @asynccontextmanager
    async def admit(self, what: str, *, time_left: float | None = None) -> AsyncIterator[None]:
        """`time_left`: the caller's deadline, in seconds from now (None: none)."""
        await self._acquire(what, time_left)
        try:
            yield
        finally:
            self._slots.release()

    async def _acquire(self, what: str, time_left: float | None) -> None:
        wait = self._wait_seconds
        if time_left is not None:
            wait = min(wait, time_left - self._needs)
            if wait < 0:
                self._refuse(what)
        if not self._slots.locked():
            await self._slots.acquire()  # free now: returns at once
            return
        if self.waiting >= self._max_waiting:
            self._refuse(what)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), wait)
        except TimeoutError:
            self._refuse(what)
        finally:
            self.waiting -= 1

    def _refuse(self, what: str) -> None:
        self.refused += 1
        raise Overloaded(f"too many {what} at once; try again in a moment", retry_after=1)
