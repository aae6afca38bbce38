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
    def __init__(self, *, in_flight: int, waiting: int, wait_seconds: float) -> None:
        if in_flight < 1 or waiting < 0 or wait_seconds < 0:
            raise ValueError("in_flight >= 1, waiting >= 0, wait_seconds >= 0")
        self._slots = asyncio.Semaphore(in_flight)
        self._max_waiting = waiting
        self._wait_seconds = wait_seconds
        self.waiting = 0
        self.refused = 0  # since start: read by tests and logs

    @asynccontextmanager
    async def admit(self, what: str) -> AsyncIterator[None]:
        await self._acquire(what)
        try:
            yield
        finally:
            self._slots.release()

    async def _acquire(self, what: str) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free now: returns at once
            return
        if self.waiting >= self._max_waiting:
            self._refuse(what)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_seconds)
        except TimeoutError:
            self._refuse(what)
        finally:
            self.waiting -= 1

    def _refuse(self, what: str) -> None:
        self.refused += 1
        raise Overloaded(f"too many {what} at once; try again in a moment", retry_after=1)
