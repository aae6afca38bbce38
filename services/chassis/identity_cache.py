"""A service's copy of what it asks identity often and identity changes rarely.

Notifications keeps a tenant's brand and its staff (every approval asked for
them: about 17 ms of identity's CPU per approval with the contacts) until
identity's event says they changed (identity.tenant.updated,
identity.staff_user.changed, identity.customer.changed / access_changed /
purged) and `seconds` at most as a backstop (an event lost or late, a second
replica that did not get it). Projects keeps a tenant's time zone, which dates
its stage moves, for `seconds` alone.

Keys always start with the tenant: nothing is shared across tenants. An answer
that was already on its way when its entry was forgotten is used by the
handler that asked (as an uncached call started then would be) but never kept,
and never shared with a handler that asks after the forgetting: that one asks
again, so a removed contact is not mailed from a copy older than its removal's
event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Key = tuple[str, str, str]  # (tenant id, what, which): ("t1", "customer", "c9")


@dataclass(frozen=True)
class _Kept:
    value: Any
    at: float


class IdentityCache:
    def __init__(
        self,
        *,
        seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._max = max_entries
        self._clock = clock
        self._kept: dict[Key, _Kept] = {}
        # Bumped by every forget: an answer asked for under an older generation
        # is not kept, and a call in flight under one is not joined.
        self._generation: dict[Key, int] = {}
        self._pending: dict[Key, tuple[int, asyncio.Future[Any]]] = {}

    async def get(self, key: Key, load: Callable[[], Awaitable[Any]]) -> Any:
        kept = self._kept.get(key)
        if kept is not None and self._clock() - kept.at < self._seconds:
            return kept.value
        generation = self._generation.get(key, 0)
        pending = self._pending.get(key)
        if pending is None or pending[0] != generation:
            future = asyncio.ensure_future(self._load(key, generation, load))
            pending = (generation, future)
            self._pending[key] = pending
            started = pending

            def done(_future: asyncio.Future[Any]) -> None:
                self._done(key, started)

            future.add_done_callback(done)
        # Shielded: one handler cancelled does not cancel the others' answer.
        return await asyncio.shield(pending[1])

    async def _load(self, key: Key, generation: int, load: Callable[[], Awaitable[Any]]) -> Any:
        value = await load()
        if self._seconds > 0 and self._generation.get(key, 0) == generation:
            if len(self._kept) >= self._max:
                self._kept.pop(next(iter(self._kept)))  # the oldest kept
            self._kept[key] = _Kept(value, self._clock())
        return value

    def _done(self, key: Key, pending: tuple[int, asyncio.Future[Any]]) -> None:
        if self._pending.get(key) is pending:
            del self._pending[key]
            self._generation.pop(key, None)  # nothing in flight left to tell apart

    def forget(self, key: Key) -> None:
        self._kept.pop(key, None)
        if key in self._pending:
            self._generation[key] = self._generation.get(key, 0) + 1
