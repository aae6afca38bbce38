"""Event consumers: durable JetStream pull consumers, at-least-once delivery,
idempotent handling.

Each handler runs in one transaction that also records (consumer, event id)
in processed_event, so a redelivery changes nothing. A failing handler is
retried with backoff (nak with delay); after max-deliver attempts the message
is written to dead_letter, where `portal events dead-letters` lists it and
`portal events replay ID` runs it again, and the message is terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.chassis.db import UnitOfWork, dead_letter, processed_event
from services.chassis.events import Event, parse_envelope, stream_for, subject_for
from services.chassis.telemetry import extract_context, get_logger
from services.chassis.topology import ensure_consumer

log = get_logger(__name__)
_tracer = trace.get_tracer(__name__)

# Compiled once, run with one event's row or a batch's rows (one multi-row
# INSERT): the events not handled before.
_FIRST_TIME = insert(processed_event).on_conflict_do_nothing().returning(processed_event.c.event_id)

Handler = Callable[[UnitOfWork, Event[Any]], Awaitable[None]]
T = TypeVar("T")
BatchHandler = Callable[[UnitOfWork, list[Event[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """`Subscription(ProjectStageChanged, on_project_stage_changed)`: the
    subject (and so the stream and the durable consumer) comes from the type."""

    payload_type: type[Message]
    handler: Handler
    # How many of one fetched batch may be handled at once, each in its own
    # transaction (their commits then share WAL flushes). 1: in order. More
    # only for a handler that is safe in any order (state-guarded, locking
    # what it changes), such as payments' webhook work, or with `per_aggregate`.
    parallel: int = 1
    # With parallel > 1: the events of one aggregate (the envelope's type and
    # id: one project) still run one after another in stream order; only
    # different aggregates run at once. For a handler that is slow for its
    # round trips (not its CPU) and whose events of one thing must not overtake.
    per_aggregate: bool = False
    # The fetched batch's events of one tenant in one transaction (one
    # dedupe insert, one commit) instead of one each: for a handler that
    # runs at webhook rates, whose per-event work is a statement or two.
    # If the batch fails, each event is handled again alone by `handler`
    # (so retries, backoff and dead-lettering stay per event).
    batch_handler: BatchHandler | None = None

    def __post_init__(self) -> None:
        subject_for(self.payload_type)  # a type that is no event fails here, at start
        if not 1 <= self.parallel <= 64:
            raise ValueError("a subscription handles 1 to 64 events at once")

    @property
    def subject(self) -> str:
        return subject_for(self.payload_type)


class EventConsumer:
    def __init__(
        self,
        *,
        consumer: str,
        sessions: async_sessionmaker[AsyncSession],
        js: JetStreamContext,
        subscriptions: Sequence[Subscription],
        max_deliver: int = 5,
        backoff: Sequence[float] = (0.5, 2.0, 5.0, 15.0),
        ack_wait: float = 30.0,
        batch: int = 20,
    ) -> None:
        self.consumer = consumer
        self._sessions = sessions
        self._js = js
        self._subs = {s.subject: s for s in subscriptions}
        if len(self._subs) != len(subscriptions):
            subjects = sorted(s.subject for s in subscriptions)
            raise ValueError(f"{consumer} subscribes twice to one event: {subjects}")
        self._max_deliver = max_deliver
        self._backoff = tuple(backoff)
        self._ack_wait = ack_wait
        self._batch = batch
        self._bound = 0
        # Set once every subscription is bound to its durable consumer.
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        loops = [asyncio.create_task(self._pull_loop(sub, stop)) for sub in self._subs.values()]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()

    async def _pull_loop(self, sub: Subscription, stop: asyncio.Event) -> None:
        durable = await ensure_consumer(
            self._js,
            consumer=self.consumer,
            subject=sub.subject,
            max_deliver=self._max_deliver,
            ack_wait=self._ack_wait,
        )
        psub = await self._js.pull_subscribe_bind(durable, stream=stream_for(sub.subject))
        self._bound += 1
        if self._bound == len(self._subs):
            self.ready.set()
        try:
            while not stop.is_set():
                try:
                    msgs = await self._next_batch(psub)
                except (TimeoutError, NatsTimeoutError):
                    continue  # nothing to do: fetch on an empty consumer times out
                except Exception:
                    log.exception("fetch failed", subject=sub.subject)
                    await asyncio.sleep(1.0)
                    continue
                fetched_at = time.time()
                if sub.batch_handler is not None:
                    await self._handle_batch(msgs, sub)
                elif sub.parallel == 1:
                    for msg in msgs:
                        await self.handle_message(msg, fetched_at=fetched_at)
                else:
                    await self._handle_parallel(msgs, sub, fetched_at)
        finally:
            with contextlib.suppress(Exception):
                await psub.unsubscribe()

    async def _next_batch(self, psub: JetStreamContext.PullSubscription) -> list[Msg]:
        """Wait up to 1 s for one message, then take what is already waiting
        behind it (up to the batch) without waiting for more.

        Not `fetch(batch, timeout=1.0)`: once its request lingers on the server,
        nats-py waits for the rest of the batch until the deadline, so a quiet
        consumer held each first message up to a second. The message's own
        metadata says how many more are waiting; asking for no more than that
        fills at once. (Only another instance of this consumer taking them first
        makes the second fetch wait, for at most its short timeout.)
        """
        msgs = await psub.fetch(1, timeout=1.0)
        meta = msgs[-1].metadata if msgs else None
        waiting = min(meta.num_pending or 0, self._batch - 1) if meta else 0
        if waiting > 0:
            with contextlib.suppress(TimeoutError, NatsTimeoutError):
                msgs += await psub.fetch(waiting, timeout=0.1)
        return msgs

    async def _handle_parallel(self, msgs: list[Msg], sub: Subscription, fetched_at: float) -> None:
        """The batch in lanes, up to `sub.parallel` at once; each lane in order.
        The next fetch waits for the whole batch, so a lane's order also holds
        across batches."""
        key = _aggregate_of if sub.per_aggregate else id
        gate = asyncio.Semaphore(sub.parallel)

        async def lane(ms: list[Msg]) -> None:
            async with gate:
                for msg in ms:
                    await self.handle_message(msg, fetched_at=fetched_at)

        await asyncio.gather(*(lane(ms) for ms in lanes(msgs, key)))

    async def _handle_batch(self, msgs: list[Msg], sub: Subscription) -> None:
        by_tenant: dict[str, list[tuple[Msg, Any]]] = {}
        for msg in msgs:
            try:
                envelope = parse_envelope(msg.data)
            except Exception:
                await self.handle_message(msg)  # dead-letters it, as alone
                continue
            by_tenant.setdefault(envelope.tenant_id, []).append((msg, envelope))
        for tenant_id, group in by_tenant.items():
            try:
                await self._process_batch(tenant_id, [e for _, e in group], sub)
            except Exception as exc:
                log.warning(
                    "event batch failed; handling each alone",
                    subject=sub.subject,
                    events=len(group),
                    error=str(exc),
                )
                for msg, _ in group:
                    await self.handle_message(msg)
                continue
            await asyncio.gather(*(msg.ack() for msg, _ in group))

    async def _process_batch(self, tenant_id: str, envelopes: list[Any], sub: Subscription) -> None:
        assert sub.batch_handler is not None
        with _tracer.start_as_current_span(
            f"{sub.subject} process",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": sub.subject,
                "messaging.batch.message_count": len(envelopes),
                "messaging.consumer.group.name": self.consumer,
            },
        ):
            async with UnitOfWork(self._sessions, tenant_id or None) as uow:
                ids = {uuid.UUID(e.id): e for e in envelopes}  # a message twice: once
                rows = [{"consumer": self.consumer, "event_id": i} for i in ids]
                fresh = set((await uow.session.execute(_FIRST_TIME, rows)).scalars())
                events = [
                    Event.from_envelope(e, sub.payload_type) for i, e in ids.items() if i in fresh
                ]
                if events:  # a redelivery changes nothing
                    await sub.batch_handler(uow, events)
                await uow.commit()

    async def handle_message(self, msg: Msg, *, fetched_at: float | None = None) -> None:
        deliveries = msg.metadata.num_delivered if msg.metadata else 1
        waited = _waited(msg, fetched_at)
        try:
            envelope = parse_envelope(msg.data)
        except Exception as exc:
            # Unparseable: retrying cannot help; keep it for a person to see.
            await self._dead_letter_raw(msg, f"unparseable envelope: {exc}", deliveries)
            await msg.term()
            return
        try:
            await self.process(envelope.SerializeToString(), dict(msg.headers or {}), waited)
        except Exception as exc:
            if deliveries >= self._max_deliver:
                log.error(
                    "event dead-lettered",
                    event_id=envelope.id,
                    subject=msg.subject,
                    deliveries=deliveries,
                    error=str(exc),
                )
                await self._dead_letter(envelope, msg, exc, deliveries)
                await msg.term()
            else:
                delay = self._backoff[min(deliveries - 1, len(self._backoff) - 1)]
                log.warning(
                    "event handler failed; will retry",
                    event_id=envelope.id,
                    subject=msg.subject,
                    deliveries=deliveries,
                    retry_in=delay,
                    error=str(exc),
                )
                await msg.nak(delay=delay)
            return
        await msg.ack()

    async def process(
        self, data: bytes, headers: dict[str, str], waited: Mapping[str, float] | None = None
    ) -> bool:
        """Run the handler once for this event. Returns False for a duplicate.
        `waited` (span attributes, from `_waited`): where its time went before."""
        envelope = parse_envelope(data)
        sub = self._subs.get(envelope.type)
        if sub is None:
            raise LookupError(f"{self.consumer} has no handler for {envelope.type}")
        event: Event[Any] = Event.from_envelope(envelope, sub.payload_type)
        with _tracer.start_as_current_span(
            f"{envelope.type} process",
            context=extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": envelope.type,
                "messaging.message.id": envelope.id,
                "messaging.consumer.group.name": self.consumer,
                **(waited or {}),
            },
        ):
            async with UnitOfWork(self._sessions, envelope.tenant_id or None) as uow:
                # The compiled statement, with this event's row: building the
                # INSERT anew cost a quarter of an empty handler's transaction.
                first = await uow.session.execute(
                    _FIRST_TIME,
                    {"consumer": self.consumer, "event_id": uuid.UUID(envelope.id)},
                )
                if first.first() is None:
                    return False  # already handled: a redelivery changes nothing
                await sub.handler(uow, event)
                await uow.commit()
        return True

    async def _dead_letter(self, envelope, msg: Msg, exc: Exception, deliveries: int) -> None:
        await self._insert_dead_letter(
            subject=msg.subject,
            event_id=uuid.UUID(envelope.id),
            tenant_id=uuid.UUID(envelope.tenant_id) if envelope.tenant_id else None,
            payload=msg.data,
            headers=dict(msg.headers or {}),
            error="".join(traceback.format_exception_only(exc)).strip(),
            deliveries=deliveries,
        )

    async def _dead_letter_raw(self, msg: Msg, error: str, deliveries: int) -> None:
        await self._insert_dead_letter(
            subject=msg.subject,
            event_id=uuid.uuid4(),
            tenant_id=None,
            payload=msg.data,
            headers=dict(msg.headers or {}),
            error=error,
            deliveries=deliveries,
        )

    async def _insert_dead_letter(self, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                dead_letter.insert().values(id=uuid.uuid4(), consumer=self.consumer, **values)
            )


def lanes(items: Sequence[T], key: Callable[[T], object]) -> list[list[T]]:
    """Items grouped by key, in order of first appearance, each group in its
    items' order: [a1, b1, a2] -> [[a1, a2], [b1]]."""
    groups: dict[object, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def _aggregate_of(msg: Msg) -> object:
    try:
        envelope = parse_envelope(msg.data)
    except Exception:
        return id(msg)  # its own lane: handle_message dead-letters it
    return (envelope.aggregate_type, envelope.aggregate_id)


def _waited(msg: Msg, fetched_at: float | None) -> dict[str, float]:
    """Where a message's time went before its handler started, as attributes of
    the process span (whose duration is the handler's): its age when fetched
    (JetStream's stored time -> our fetch: relay and broker lag, or a backlog
    on the consumer) and its wait behind the earlier messages of its batch."""
    if msg.metadata is None or fetched_at is None:
        return {}
    stored = msg.metadata.timestamp.timestamp()
    return {
        "portal.message.age_at_fetch_ms": (fetched_at - stored) * 1000,
        "portal.message.batch_wait_ms": (time.time() - fetched_at) * 1000,
        "portal.message.num_pending": float(msg.metadata.num_pending or 0),
    }


async def list_dead_letters(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as session:
        result = await session.execute(
            select(dead_letter).order_by(dead_letter.c.created_at.desc())
        )
        return list(result.all())


async def replay_dead_letter(
    consumer: EventConsumer, sessions: async_sessionmaker[AsyncSession], dead_letter_id: str
) -> bool:
    """Run the handler again for a dead-lettered event; True if it had an effect."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(dead_letter).where(dead_letter.c.id == uuid.UUID(dead_letter_id))
            )
        ).first()
    if row is None:
        raise LookupError(f"no dead letter {dead_letter_id}")
    if row.replayed_at is not None:
        raise ValueError(f"dead letter {dead_letter_id} was already replayed")
    applied = await consumer.process(row.payload, row.headers)
    async with sessions() as session, session.begin():
        await session.execute(
            update(dead_letter).where(dead_letter.c.id == row.id).values(replayed_at=func.now())
        )
    return applied
