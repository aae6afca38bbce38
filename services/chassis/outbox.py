"""The outbox relay: publishes committed events to JetStream, exactly once in
effect.

Rows are selected `published_at IS NULL ... FOR UPDATE SKIP LOCKED`, so
several relays share the work and none loses rows to out-of-order sequence
values. Each message carries `Nats-Msg-Id` = event id: if the relay dies after
publishing and before marking the row, the re-publish is dropped by
JetStream's duplicate window. The relay is a chassis job
(`Job.on_notify(OUTBOX_CHANNEL, ...)`): woken by NOTIFY on commit, and also
polling, so a missed notification only delays.

A batch is published pipelined, in lanes: one lane per aggregate (the
envelope's type and id), up to `window` publishes in flight across lanes, so a
burst costs about one round trip per aggregate's depth, not one per event.
Within a lane the next event is sent only after the previous one's PubAck:
consumers with `per_aggregate` lanes (and any with `parallel=1`) rely on one
aggregate's events reaching the stream in outbox order, and with several in
flight a failed publish could be overtaken by a later one that landed. A row
is marked published only after its PubAck; when a publish fails (NATS down,
no ack in time) the acked rows are marked, that lane's later rows stay
unpublished behind the failed one, and the pass raises so the job waits for
its next tick.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.chassis.consumer import lanes
from services.chassis.db import OUTBOX_CHANNEL, make_sessionmaker, outbox_message
from services.chassis.events import parse_envelope, stream_for
from services.chassis.jobs import Job, JobRunner
from services.chassis.telemetry import extract_context, get_logger, inject_headers
from services.chassis.topology import ensure_stream

log = get_logger(__name__)
_tracer = trace.get_tracer(__name__)


class PublishFailed(Exception):
    """Some rows of a batch got no PubAck; the acked ones were marked."""


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        js: JetStreamContext,
        *,
        batch_size: int = 100,
        window: int = 64,
        poll_interval: float = 1.0,
        keep_published: timedelta = timedelta(days=7),
        prune_interval: float = 60.0,
        stream_max_age: float | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = make_sessionmaker(engine)
        self._js = js
        self._batch_size = batch_size
        # Publishes awaiting their PubAck at once: bounds the relay's and the
        # broker's buffers when a backlog is drained.
        self._window = window
        self._poll_interval = poll_interval
        self._keep_published = keep_published
        # Deleting rows published `keep_published` ago is housekeeping: once a
        # minute, not a statement in every pass (passes run back to back at
        # webhook rates).
        self._prune_interval = prune_interval
        self._pruned_at: float | None = None
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
        """Publish one batch of unpublished rows; returns how many were acked
        (and marked). Raises `PublishFailed` after marking the acked ones if
        any publish failed."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(outbox_message)
                    .where(outbox_message.c.published_at.is_(None))
                    .order_by(outbox_message.c.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Before any publish: a lane must not wait on a stream another
            # lane is still creating, and a batch's streams are few.
            await self._ensure_streams(rows)
            acked, failures = await self._publish_in_lanes(rows)
            if self.after_publish is not None:
                await self.after_publish()
            if acked:
                await session.execute(
                    update(outbox_message)
                    .where(outbox_message.c.id.in_(acked))
                    .values(published_at=func.now(), attempts=outbox_message.c.attempts + 1)
                )
            now = time.monotonic()
            if self._pruned_at is None or now - self._pruned_at >= self._prune_interval:
                await session.execute(
                    delete(outbox_message).where(
                        outbox_message.c.published_at < func.now() - self._keep_published
                    )
                )
                self._pruned_at = now
        if failures:
            log.warning(
                "outbox publish failed; the rest of the batch waits for the next pass",
                acked=len(acked),
                unpublished=len(rows) - len(acked),
                error=repr(failures[0]),
            )
            raise PublishFailed(
                f"{len(rows) - len(acked)} of {len(rows)} outbox rows not published"
            ) from failures[0]
        return len(acked)

    async def _ensure_streams(self, rows: Sequence[Any]) -> None:
        for stream in dict.fromkeys(stream_for(row.subject) for row in rows):
            if stream not in self._streams:
                await ensure_stream(self._js, stream, max_age=self._stream_max_age)
                self._streams.add(stream)

    async def _publish_in_lanes(
        self, rows: Sequence[Any]
    ) -> tuple[list[uuid.UUID], list[BaseException]]:
        """Publish every row, one aggregate's one after another; returns the
        ids that were acked and the errors of those that were not."""
        gate = asyncio.Semaphore(self._window)
        acked: list[uuid.UUID] = []
        failures: list[BaseException] = []

        async def lane(lane_rows: list[Any]) -> None:
            for row in lane_rows:
                try:
                    async with gate:
                        await self._publish(row)
                except Exception as exc:
                    # Its later rows stay behind it: sent now, they would
                    # reach the stream before it does on the retry.
                    failures.append(exc)
                    return
                acked.append(row.id)

        await asyncio.gather(*(lane(group) for group in lanes(rows, _aggregate_of)))
        return acked, failures

    async def _publish(self, row: Any) -> None:
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


def _aggregate_of(row: Any) -> object:
    """The row's lane: its event's aggregate (the consumers' lanes use the same key)."""
    try:
        envelope = parse_envelope(row.payload)
    except Exception:
        return row.id  # its own lane; the consumer dead-letters it
    return (envelope.aggregate_type, envelope.aggregate_id)
