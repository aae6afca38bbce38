"""The outbox relay: publishes committed events to JetStream, exactly once in
effect.

Rows are selected `published_at IS NULL ... FOR UPDATE SKIP LOCKED`, so
several relays share the work and none loses rows to out-of-order sequence
values. Each message carries `Nats-Msg-Id` = event id: if the relay dies after
publishing and before marking the row, the re-publish is dropped by
JetStream's duplicate window. The relay is woken by NOTIFY on commit, and also
polls, so a missed notification only delays.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.db import OUTBOX_CHANNEL, make_sessionmaker, outbox_message
from services.chassis.events import stream_for
from services.chassis.telemetry import extract_context, get_logger, inject_headers
from services.chassis.topology import ensure_stream

log = get_logger(__name__)
_tracer = trace.get_tracer(__name__)


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        *,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        keep_published: timedelta = timedelta(days=7),
        stream_max_age: float | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = make_sessionmaker(engine)
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._keep_published = keep_published
        self._stream_max_age = stream_max_age
        self._wake = asyncio.Event()
        self._streams: set[str] = set()
        # Fault injection for crash-safety tests: runs after publishing, before marking.
        self.after_publish: Callable[[], Awaitable[None]] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        listener = await self._listen()
        try:
            while not stop.is_set():
                try:
                    published = await self.relay_once()
                except Exception:
                    log.exception("outbox relay pass failed; retrying")
                    published = 0
                    await _sleep_or_stop(stop, self._poll_interval)
                if published >= self._batch_size:
                    continue  # a backlog: keep going without waiting
                self._wake.clear()
                waiter = asyncio.create_task(self._wake.wait())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait(
                    {waiter, stopper},
                    timeout=self._poll_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                waiter.cancel()
                stopper.cancel()
        finally:
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(self._engine.url.render_as_string(False)))
        except Exception:
            log.warning("outbox relay cannot LISTEN; polling only")
            return None
        await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
        return conn

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows; returns how many."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox_message)
                    .where(outbox_message.c.published_at.is_(None))
                    .order_by(outbox_message.c.created_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Pipelined: awaiting each publish serially is round-trip bound.
            await asyncio.gather(*(self._publish(row) for row in rows))
            if self.after_publish is not None:
                await self.after_publish()
            await session.execute(
                update(outbox_message)
                .where(outbox_message.c.id.in_([row.id for row in rows]))
                .values(published_at=func.now(), attempts=outbox_message.c.attempts + 1)
            )
            await session.execute(
                delete(outbox_message).where(
                    outbox_message.c.published_at < func.now() - self._keep_published
                )
            )
        return len(rows)

    async def _publish(self, row) -> None:
        stream = stream_for(row.subject)
        if stream not in self._streams:
            await ensure_stream(self._js, stream, max_age=self._stream_max_age)
            self._streams.add(stream)
        # The span joins the trace of the request that wrote the row, and the
        # message carries the span's own context to the consumer.
        with _tracer.start_as_current_span(
            f"{row.subject} publish",
            context=extract_context(row.headers),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": row.subject,
                "messaging.message.id": str(row.id),
            },
        ):
            headers = inject_headers({**row.headers, "Nats-Msg-Id": str(row.id)})
            await self._js.publish(row.subject, row.payload, headers=headers)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
