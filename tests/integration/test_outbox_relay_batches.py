"""The relay's pipelined batch against real PostgreSQL and JetStream: only
acked rows are marked, and one aggregate's events reach the stream in order."""

from __future__ import annotations

import uuid

import pytest
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from sqlalchemy import select

from services.chassis.db import UnitOfWork, outbox_message
from services.chassis.events import parse_envelope, stream_for
from services.chassis.outbox import OutboxRelay, PublishFailed
from services.chassis.topology import DUPLICATE_WINDOW_SECONDS
from tests.event_types import event_type

TENANT = str(uuid.uuid4())
SMALL, TOO_BIG = "USD", "X" * 2000  # the stream below refuses messages over 1 KiB


async def write_event(db, subject: str, aggregate_id: str, currency: str = SMALL) -> str:
    """One event in its own transaction, so each row's created_at is later."""
    async with UnitOfWork(db.sessions, TENANT) as uow:
        event_id = uow.publish(
            event_type(subject)(currency=currency),
            aggregate_type="thing",
            aggregate_id=aggregate_id,
        )
        await uow.commit()
    return event_id


async def published_ids(db) -> set[str]:
    async with db.sessions() as s:
        rows = await s.scalars(
            select(outbox_message.c.id).where(outbox_message.c.published_at.is_not(None))
        )
        return {str(i) for i in rows}


async def stream_ids(js, subject: str) -> list[str]:
    """The stream's event ids, in stream order."""
    stream = stream_for(subject)
    state = (await js.stream_info(stream)).state
    if not state.messages:
        return []
    return [
        parse_envelope((await js.get_msg(stream, seq)).data).id
        for seq in range(state.first_seq, state.last_seq + 1)
    ]


async def small_messages_only_stream(js, subject: str, max_msg_size: int = 1024) -> None:
    """The producer's stream, made beforehand with a message size limit: a
    real broker refusal for one publish of a batch."""
    config = StreamConfig(
        name=stream_for(subject),
        subjects=[f"{stream_for(subject).lower()}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_msg_size=max_msg_size,
    )
    try:
        await js.add_stream(config)
    except Exception:
        await js.update_stream(config)


async def test_a_batch_with_a_refused_publish_marks_only_the_acked_rows(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    await small_messages_only_stream(js, subject)
    a1 = await write_event(scratch_db, subject, "a")
    b1 = await write_event(scratch_db, subject, "b")
    a2 = await write_event(scratch_db, subject, "a", currency=TOO_BIG)  # refused by the stream
    b2 = await write_event(scratch_db, subject, "b")
    a3 = await write_event(scratch_db, subject, "a")  # must not overtake a2
    c1 = await write_event(scratch_db, subject, "c")

    relay = OutboxRelay(scratch_db.engine, js)
    with pytest.raises(PublishFailed, match="2 of 6"):
        await relay.relay_once()
    assert await published_ids(scratch_db) == {a1, b1, b2, c1}
    got = await stream_ids(js, subject)
    assert sorted(got) == sorted([a1, b1, b2, c1])  # a3 waits behind a2

    # The broker takes it now: the next pass publishes aggregate a's rest, in order.
    await small_messages_only_stream(js, subject, max_msg_size=-1)
    assert await relay.relay_once() == 2
    assert await published_ids(scratch_db) == {a1, a2, a3, b1, b2, c1}
    got = await stream_ids(js, subject)
    assert [i for i in got if i in (a1, a2, a3)] == [a1, a2, a3]
    assert [i for i in got if i in (b1, b2)] == [b1, b2]


async def test_a_burst_keeps_each_aggregates_events_in_order(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    written: dict[str, list[str]] = {}
    for _step in range(5):
        for aggregate in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"):
            written.setdefault(aggregate, []).append(
                await write_event(scratch_db, subject, aggregate)
            )
    relay = OutboxRelay(scratch_db.engine, js, batch_size=100, window=4)
    assert await relay.relay_once() == 40
    got = await stream_ids(js, subject)
    assert len(got) == 40
    for aggregate, ids in written.items():
        assert [i for i in got if i in ids] == ids, aggregate


async def test_published_rows_past_their_keep_are_pruned_at_most_once_an_interval(
    scratch_db, nc, unique
):
    from datetime import timedelta

    from sqlalchemy import func

    async def rows() -> int:
        async with scratch_db.sessions() as s:
            return await s.scalar(select(func.count()).select_from(outbox_message))

    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    keep = timedelta(0)  # published in an earlier pass: past its keep
    await write_event(scratch_db, subject, "a")
    relay = OutboxRelay(scratch_db.engine, js, keep_published=keep, prune_interval=3600)
    assert await relay.relay_once() == 1  # pruned (nothing old yet), then published
    await write_event(scratch_db, subject, "a")
    assert await relay.relay_once() == 1
    assert await rows() == 2  # within the interval: the first is kept for now
    eager = OutboxRelay(scratch_db.engine, js, keep_published=keep, prune_interval=0)
    await write_event(scratch_db, subject, "a")
    assert await eager.relay_once() == 1
    assert await rows() == 1  # the two published earlier are gone


async def test_an_aggregates_events_go_in_the_order_written_not_the_order_their_transactions_began(
    scratch_db, nc, unique
):
    """The usual shape of two writes to one project: B begins (reads, checks),
    then waits on the project's lock while A writes its event and commits;
    B's event is written after A's, and must be published after it, although
    B's transaction, and so its now(), began first."""
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    async with UnitOfWork(scratch_db.sessions, TENANT) as b:
        await b.session.execute(select(1))  # B's transaction (and its now()) begins
        first = await write_event(scratch_db, subject, "p1")  # A: begins, writes, commits
        second = b.publish(
            event_type(subject)(currency=SMALL), aggregate_type="thing", aggregate_id="p1"
        )
        await b.commit()
    # And within one transaction, the order it published in.
    async with UnitOfWork(scratch_db.sessions, TENANT) as uow:
        more = [
            uow.publish(
                event_type(subject)(amount_minor=i), aggregate_type="thing", aggregate_id="p1"
            )
            for i in range(30)
        ]
        await uow.commit()
    relay = OutboxRelay(scratch_db.engine, js, batch_size=100)
    assert await relay.relay_once() == 32
    assert await stream_ids(js, subject) == [first, second, *more]
