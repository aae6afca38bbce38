"""Background jobs, declared instead of hand-written loops.

A job is a pass (`async def fn() -> bool | None`) and a schedule:

- `Job.every(seconds, fn)`: a pass every `seconds`;
- `Job.on_notify(channel, fn, fallback_seconds=...)`: a pass whenever
  PostgreSQL delivers `NOTIFY channel` (sent by a committing transaction),
  and every `fallback_seconds` anyway, so a missed notification only delays.

A pass that returns True says "there is more to do now" (a full batch) and
runs again at once. An exception in a pass is logged and the job carries on
at its next tick: a job never dies silently. A `singleton` job runs on one
replica at a time: each pass first takes a PostgreSQL session advisory lock
(`pg_try_advisory_lock`) and is skipped where another replica holds it; a
crashed holder's lock goes with its connection.

`JobRunner` runs a process's jobs until `stop` is set, with one LISTEN
connection for all of them; the runtime starts it in roles "all" and "jobs"
(the outbox relay, itself a job, also in role "relay").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.telemetry import get_logger

log = get_logger(__name__)

# True: run again at once (a backlog). None or False: wait for the next tick.
JobPass = Callable[[], Awaitable[bool | None]]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobPass
    interval: float  # the schedule, or for a NOTIFY job its fallback poll
    channel: str | None = None
    singleton: bool = False

    @classmethod
    def every(
        cls, seconds: float, fn: JobPass, *, name: str | None = None, singleton: bool = False
    ) -> Job:
        return cls(name or _name_of(fn), fn, seconds, singleton=singleton)

    @classmethod
    def on_notify(
        cls,
        channel: str,
        fn: JobPass,
        *,
        fallback_seconds: float,
        name: str | None = None,
        singleton: bool = False,
    ) -> Job:
        return cls(name or _name_of(fn), fn, fallback_seconds, channel, singleton)


def _name_of(fn: JobPass) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def lock_key(namespace: str, job: str) -> int:
    """A stable signed 64-bit advisory-lock key for `<service>:<job>`."""
    digest = hashlib.sha256(f"{namespace}:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class JobRunner:
    def __init__(self, engine: AsyncEngine, jobs: Sequence[Job], *, namespace: str) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self._engine = engine
        self._jobs = list(jobs)
        self._namespace = namespace
        self._wake = {job.name: asyncio.Event() for job in jobs}
        self._listener: asyncpg.Connection | None = None
        self._connecting = asyncio.Lock()
        # Set once the LISTEN connection is up (or known to be unavailable).
        self.listening = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        if not self._jobs:
            return
        await self._listen()
        loops = [asyncio.create_task(self._loop(job, stop)) for job in self._jobs]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            if self._listener is not None:
                with contextlib.suppress(Exception):
                    await self._listener.close()

    async def _listen(self) -> None:
        async with self._connecting:
            await self._connect_listener()
        self.listening.set()

    async def _connect_listener(self) -> None:
        channels = {job.channel for job in self._jobs if job.channel}
        if not channels or (self._listener is not None and not self._listener.is_closed()):
            return
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self._engine.url.render_as_string(False)))
            for channel in sorted(channels):
                await conn.add_listener(channel, self._notified)
        except Exception:
            log.warning("jobs cannot LISTEN; polling only until the database answers")
        else:
            self._listener = conn

    def _notified(self, _conn: object, _pid: int, channel: str, _payload: str) -> None:
        for job in self._jobs:
            if job.channel == channel:
                self._wake[job.name].set()

    async def _loop(self, job: Job, stop: asyncio.Event) -> None:
        wake = self._wake[job.name]
        while not stop.is_set():
            wake.clear()
            if await self.run_once(job):
                continue  # more to do now
            if job.channel and (self._listener is None or self._listener.is_closed()):
                await self._listen()  # the database came back: wake on commit again
            await _first(stop, wake, timeout=job.interval)

    async def run_once(self, job: Job) -> bool:
        """One pass; never raises (a failing pass is logged and retried next tick)."""
        try:
            if not job.singleton:
                return bool(await job.run())
            return await self._run_alone(job)
        except Exception:
            log.exception("job pass failed; it runs again at its next tick", job=job.name)
            return False

    async def _run_alone(self, job: Job) -> bool:
        key = lock_key(self._namespace, job.name)
        async with self._engine.connect() as conn:
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            await conn.commit()
            if not got:
                return False  # another replica is running this pass
            try:
                return bool(await job.run())
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()


async def _first(*events: asyncio.Event, timeout: float) -> None:
    """Wait until any event is set, or `timeout` seconds."""
    tasks = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
