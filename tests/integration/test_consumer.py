"""Durable consumers against real PostgreSQL and JetStream: a redelivery
changes nothing, a failed handler is retried, a poison message ends in the
dead-letter list and can be replayed."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select, text

from services.chassis.consumer import (
    EventConsumer,
    Subscription,
    list_dead_letters,
    replay_dead_letter,
)
from services.chassis.db import UnitOfWork, dead_letter
from services.chassis.events import build_envelope
from services.chassis.outbox import OutboxRelay
from tests.event_types import event_type

TENANT = str(uuid.uuid4())


async def record_effect(uow: UnitOfWork, event) -> None:
    await uow.session.execute(
        text("INSERT INTO effect (tenant_id, event_id, note) VALUES (:t, :e, :n)"),
        {"t": event.tenant_id, "e": event.id, "n": str(event.payload.amount_minor)},
    )


async def effects(db) -> list[str]:
    async with UnitOfWork(db.sessions, TENANT) as uow:
        return list(
            (await uow.session.execute(text("SELECT event_id::text FROM effect"))).scalars()
        )


async def publish_raw(
    js,
    subject: str,
    *,
    event_id: str | None = None,
    msg_id: str | None = None,
    aggregate_id: str = "1",
):
    envelope = build_envelope(
        tenant_id=TENANT,
        aggregate_type="thing",
        aggregate_id=aggregate_id,
        payload=event_type(subject)(amount_minor=7),
        event_id=event_id,
    )
    await js.publish(
        subject, envelope.SerializeToString(), headers={"Nats-Msg-Id": msg_id or envelope.id}
    )
    return envelope.id


async def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def consumer_for(db, js, subject: str, handler, **kw) -> EventConsumer:
    return EventConsumer(
        consumer="testsvc",
        sessions=db.sessions,
        js=js,
        subscriptions=[Subscription(event_type(subject), handler)],
        **{"max_deliver": 3, "backoff": (0.05, 0.1), "ack_wait": 5, **kw},
    )


async def running(consumer: EventConsumer):
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    await asyncio.wait_for(consumer.ready.wait(), 10)
    return stop, task


async def test_redelivered_event_takes_effect_once(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    consumer = consumer_for(scratch_db, js, subject, record_effect)
    stop, task = await running(consumer)
    try:
        event_id = str(uuid.uuid4())
        # The same event twice, as a relay outside the duplicate window would send it.
        await publish_raw(js, subject, event_id=event_id, msg_id="first")
        await publish_raw(js, subject, event_id=event_id, msg_id="second")
        other = await publish_raw(js, subject)
        await wait_for(lambda: _has(scratch_db, other))
        await asyncio.sleep(0.3)
        assert sorted(await effects(scratch_db)) == sorted([event_id, other])
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _has(db, event_id: str) -> bool:
    return event_id in await effects(db)


async def test_handler_failing_midway_is_retried_and_takes_effect_once(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    calls = 0

    async def flaky(uow: UnitOfWork, event) -> None:
        nonlocal calls
        calls += 1
        await record_effect(uow, event)  # the effect is written ...
        if calls == 1:
            raise ConnectionError("downstream went away")  # ... and rolled back with this

    stop, task = await running(consumer_for(scratch_db, js, subject, flaky))
    try:
        event_id = await publish_raw(js, subject)
        await wait_for(lambda: _has(scratch_db, event_id))
        await asyncio.sleep(0.3)
        assert await effects(scratch_db) == [event_id]
        assert calls == 2
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_poison_message_is_dead_lettered_after_max_deliver_and_replayable(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    attempts = 0
    broken = True

    async def handler(uow: UnitOfWork, event) -> None:
        nonlocal attempts
        attempts += 1
        if broken:
            raise ValueError("cannot handle this payload")
        await record_effect(uow, event)

    consumer = consumer_for(scratch_db, js, subject, handler)
    stop, task = await running(consumer)
    try:
        event_id = await publish_raw(js, subject)

        async def dead() -> bool:
            return bool(await list_dead_letters(scratch_db.sessions))

        await wait_for(dead)
        await asyncio.sleep(0.5)  # nothing more arrives after max-deliver
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert attempts == 3
    [row] = await list_dead_letters(scratch_db.sessions)
    assert str(row.event_id) == event_id
    assert row.deliveries == 3 and "cannot handle this payload" in row.error
    assert await effects(scratch_db) == []

    broken = False  # the bug is fixed; a person replays the event
    assert await replay_dead_letter(consumer, scratch_db.sessions, str(row.id)) is True
    assert await effects(scratch_db) == [event_id]
    async with scratch_db.sessions() as s:
        replayed = await s.scalar(
            select(dead_letter.c.replayed_at).where(dead_letter.c.id == row.id)
        )
    assert replayed is not None


async def test_unparseable_message_is_dead_lettered_at_once(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    stop, task = await running(consumer_for(scratch_db, js, subject, record_effect))
    try:
        await js.publish(subject, b"\xff not protobuf", headers={"Nats-Msg-Id": "junk"})

        async def dead() -> bool:
            return bool(await list_dead_letters(scratch_db.sessions))

        await wait_for(dead)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    [row] = await list_dead_letters(scratch_db.sessions)
    assert row.deliveries == 1 and "unparseable" in row.error


async def test_event_flows_from_outbox_to_consumer(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    stop = asyncio.Event()
    consumer = consumer_for(scratch_db, js, subject, record_effect)
    tasks = [
        asyncio.create_task(OutboxRelay(scratch_db.engine, js).run(stop)),
        asyncio.create_task(consumer.run(stop)),
    ]
    await asyncio.wait_for(consumer.ready.wait(), 10)
    try:
        async with UnitOfWork(scratch_db.sessions, TENANT) as uow:
            event_id = uow.publish(
                event_type(subject)(amount_minor=5), aggregate_type="thing", aggregate_id="1"
            )
            await uow.commit()
        await wait_for(lambda: _has(scratch_db, event_id))
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def test_a_parallel_subscription_handles_a_batch_at_once_each_event_once(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    at_once = peak = 0

    async def slow(uow: UnitOfWork, event) -> None:
        nonlocal at_once, peak
        at_once += 1
        peak = max(peak, at_once)
        await asyncio.sleep(0.05)  # a round trip elsewhere: others start meanwhile
        await record_effect(uow, event)
        at_once -= 1

    consumer = EventConsumer(
        consumer="testsvc",
        sessions=scratch_db.sessions,
        js=js,
        subscriptions=[Subscription(event_type(subject), slow, parallel=4)],
        max_deliver=3,
        backoff=(0.05, 0.1),
        ack_wait=5,
    )
    from services.chassis.events import stream_for
    from services.chassis.topology import ensure_stream

    await ensure_stream(js, stream_for(subject))
    ids = [await publish_raw(js, subject) for _ in range(12)]  # waiting before it starts
    stop, task = await running(consumer)
    try:
        await wait_for(lambda: _all(scratch_db, ids))
        assert sorted(await effects(scratch_db)) == sorted(ids)
        # Fails both ways: 1 if the handler ran one at a time, above 4 if the
        # consumer ignored its bound (12 events were waiting, each 50 ms long).
        assert 1 < peak <= 4
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_per_aggregate_subscription_keeps_each_aggregates_order_and_runs_others_at_once(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    running_now: dict[str, int] = {}
    handled: dict[str, list[str]] = {}
    overlapped: list[str] = []
    peak = 0

    async def slow(uow: UnitOfWork, event) -> None:
        nonlocal peak
        mine = event.aggregate_id
        running_now[mine] = running_now.get(mine, 0) + 1
        if running_now[mine] > 1:
            overlapped.append(mine)
        peak = max(peak, sum(running_now.values()))
        await asyncio.sleep(0.03)  # a round trip elsewhere: other aggregates start meanwhile
        await record_effect(uow, event)
        handled.setdefault(mine, []).append(event.id)
        running_now[mine] -= 1

    consumer = EventConsumer(
        consumer="testsvc",
        sessions=scratch_db.sessions,
        js=js,
        subscriptions=[Subscription(event_type(subject), slow, parallel=4, per_aggregate=True)],
        max_deliver=3,
        backoff=(0.05, 0.1),
        ack_wait=5,
    )
    from services.chassis.events import stream_for
    from services.chassis.topology import ensure_stream

    await ensure_stream(js, stream_for(subject))
    published: dict[str, list[str]] = {}
    for _ in range(4):  # a1 b1 c1 a2 b2 c2 ... waiting before it starts
        for aggregate in "abc":
            published.setdefault(aggregate, []).append(
                await publish_raw(js, subject, aggregate_id=aggregate)
            )
    stop, task = await running(consumer)
    try:
        ids = [i for each in published.values() for i in each]
        await wait_for(lambda: _all(scratch_db, ids))
        assert sorted(await effects(scratch_db)) == sorted(ids)  # each once
        assert handled == published  # each aggregate's events in publish order
        assert overlapped == []  # and never two of one aggregate at once
        assert peak > 1  # different aggregates did run at once
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _all(db, event_ids: list[str]) -> bool:
    return set(event_ids) <= set(await effects(db))


def test_a_subscription_refuses_a_parallelism_out_of_range():
    import pytest

    with pytest.raises(ValueError):
        Subscription(event_type("tzero.thing.happened"), record_effect, parallel=0)


async def test_a_waiting_consumer_hands_over_each_event_as_it_arrives(scratch_db, nc, unique):
    """A batch of 20 must not mean "wait for 20": each event is published only
    after the one before it was handled. Timed (there is no behaviour to watch
    for a wait that ends by itself), with a bound far above the milliseconds
    this takes and far below the 1 s per event that waiting for the rest of a
    batch until the fetch deadline costs."""
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    stop, task = await running(consumer_for(scratch_db, js, subject, record_effect, batch=20))
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(5):
            event_id = await publish_raw(js, subject)
            await wait_for(lambda: _has(scratch_db, event_id))  # noqa: B023 (awaited here)
        took = loop.time() - started
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert len(await effects(scratch_db)) == 5
    assert took < 2.5, f"5 events one after another took {took:.2f} s"


def _batch_consumer(db, js, subject: str, handler, batch_handler) -> EventConsumer:
    return EventConsumer(
        consumer="testsvc",
        sessions=db.sessions,
        js=js,
        subscriptions=[Subscription(event_type(subject), handler, batch_handler=batch_handler)],
        max_deliver=3,
        backoff=(0.05, 0.1),
        ack_wait=5,
    )


async def test_a_batch_subscription_handles_what_waits_in_one_call_each_event_once(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    calls: list[int] = []

    async def all_at_once(uow: UnitOfWork, events) -> None:
        calls.append(len(events))
        for event in events:
            await record_effect(uow, event)

    from services.chassis.events import stream_for
    from services.chassis.topology import ensure_stream

    await ensure_stream(js, stream_for(subject))
    again = str(uuid.uuid4())
    ids = [await publish_raw(js, subject) for _ in range(11)]
    ids.append(await publish_raw(js, subject, event_id=again, msg_id="first"))
    await publish_raw(js, subject, event_id=again, msg_id="second")  # a redelivery
    consumer = _batch_consumer(scratch_db, js, subject, record_effect, all_at_once)
    stop, task = await running(consumer)
    try:
        await wait_for(lambda: _all(scratch_db, ids))
        await asyncio.sleep(0.3)
        assert sorted(await effects(scratch_db)) == sorted(ids)  # each once
        assert sum(calls) == 12 and max(calls) > 1  # not one call per event
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_failing_batch_is_handled_again_event_by_event(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()

    async def half_done_then_fails(uow: UnitOfWork, events) -> None:
        await record_effect(uow, events[0])  # rolled back with the rest
        raise RuntimeError("one event the batch cannot take")

    from services.chassis.events import stream_for
    from services.chassis.topology import ensure_stream

    await ensure_stream(js, stream_for(subject))
    ids = [await publish_raw(js, subject) for _ in range(5)]
    consumer = _batch_consumer(scratch_db, js, subject, record_effect, half_done_then_fails)
    stop, task = await running(consumer)
    try:
        await wait_for(lambda: _all(scratch_db, ids))
        await asyncio.sleep(0.3)
        assert sorted(await effects(scratch_db)) == sorted(ids)  # alone, each once
        assert await list_dead_letters(scratch_db.sessions) == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
