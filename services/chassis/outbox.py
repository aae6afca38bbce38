"""The outbox relay: publishes committed events to JetStream, exactly once in
effect.

Rows are selected `published_at IS NULL ... FOR UPDATE SKIP LOCKED`, so
several relays share the work and none loses rows to out-of-order sequence
values. Each message carries `Nats-Msg-Id` = event id: if the relay dies after
publishing and before marking the row, the re-publish is dropped by
JetStream's duplicate window. The relay is a chassis job
(`Job.on_notify(OUTBOX_CHANNEL, ...)`): woken by NOTIFY on commit, and also
polling, so a missed notification only delays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.db import OUTBOX_CHANNEL, make_sessionmaker, outbox_message
from services.chassis.events import stream_for
from services.chassis.jobs import Job, JobRunner
from services.chassis.telemetry import extract_context, get_logger, inject_headers
from services.chassis.topology import ensure_stream

log = get_logger(__name__)
_tracer = trace.get_tracer(__name__)


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
        self._streams: set[str] = set()
        # Fault injection for crash-safety tests: runs after publishing, before marking.
        self.after_publish: Callable[[], Awaitable[None]] | None = None

    def job(self) -> Job:
        """The relay as a job: woken on commit, polling as a fallback; several
        replicas share the work (SKIP LOCKED), so it is not a singleton."""
        return Job.on_notify(
            OUTBOX_CHANNEL, self.relay_pass, fallback_seconds=self._poll_interval, name="relay"
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Run the relay alone (the runtime runs `job()` beside the service's jobs)."""
        await JobRunner(self._engine, [self.job()], namespace="outbox").run(stop)

    async def relay_pass(self) -> bool:
        """One batch; True when it was full (a backlog: go again at once)."""
        return await self.relay_once() >= self._batch_size

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
