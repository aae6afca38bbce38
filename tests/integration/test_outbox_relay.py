"""The outbox relay against real PostgreSQL and JetStream: exactly once in effect."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, text

from services.chassis.db import UnitOfWork, outbox_message
from services.chassis.events import parse_envelope, stream_for
from services.chassis.outbox import OutboxRelay
from tests.event_types import event_type

TENANT = str(uuid.uuid4())


async def write_events(db, subject: str, n: int = 1) -> list[str]:
    async with UnitOfWork(db.sessions, TENANT) as uow:
        ids = [
            uow.publish(
                event_type(subject)(currency="USD", amount_minor=i),
                aggregate_type="thing",
                aggregate_id=str(i),
            )
            for i in range(n)
        ]
        await uow.commit()
    return ids


async def stream_count(js, subject: str) -> int:
    return (await js.stream_info(stream_for(subject))).state.messages


async def unpublished(db) -> int:
    async with db.sessions() as s:
        return await s.scalar(
            select(func.count())
            .select_from(outbox_message)
            .where(outbox_message.c.published_at.is_(None))
        )


async def test_rolled_back_work_leaves_no_event(scratch_db, unique):
    async with UnitOfWork(scratch_db.sessions, TENANT) as uow:
        uow.publish(
            event_type(f"t{unique}.thing.happened")(),
            aggregate_type="thing",
            aggregate_id="1",
        )
        # no commit: leaving the block rolls back
    async with scratch_db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(outbox_message)) == 0


async def test_event_committed_while_relay_down_is_published_once_on_restart(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    [event_id] = await write_events(scratch_db, subject)  # the relay is not running: "down"
    assert await unpublished(scratch_db) == 1

    relay = OutboxRelay(scratch_db.engine, js)
    assert await relay.relay_once() == 1
    assert await relay.relay_once() == 0  # a second pass finds nothing
    assert await stream_count(js, subject) == 1
    msg = await js.get_last_msg(stream_for(subject), subject)
    assert parse_envelope(msg.data).id == event_id
    assert msg.headers["Nats-Msg-Id"] == event_id
    assert msg.headers["Portal-Tenant"] == TENANT
    assert await unpublished(scratch_db) == 0


async def test_crash_after_publish_before_mark_republishes_without_duplicate(
    scratch_db, nc, unique
):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    await write_events(scratch_db, subject, n=3)
    relay = OutboxRelay(scratch_db.engine, js)

    async def crash() -> None:
        raise RuntimeError("relay process died here")

    relay.after_publish = crash
    with pytest.raises(RuntimeError):
        await relay.relay_once()
    assert await unpublished(scratch_db) == 3  # the marks were rolled back with the crash
    assert await stream_count(js, subject) == 3

    restarted = OutboxRelay(scratch_db.engine, js)
    assert await restarted.relay_once() == 3
    # JetStream dropped the re-publishes: same Nats-Msg-Id inside the duplicate window.
    assert await stream_count(js, subject) == 3
    assert await unpublished(scratch_db) == 0


async def test_several_relays_share_a_backlog_and_publish_each_event_once(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    ids = await write_events(scratch_db, subject, n=300)
    relays = [OutboxRelay(scratch_db.engine, js, batch_size=25) for _ in range(4)]

    async def drain(relay: OutboxRelay) -> int:
        total = 0
        while n := await relay.relay_once():
            total += n
        return total

    counts = await asyncio.gather(*(drain(r) for r in relays))
    assert sum(counts) == 300  # SKIP LOCKED: no row taken by two relays
    assert await stream_count(js, subject) == 300
    info = await js.stream_info(stream_for(subject))
    assert info.state.first_seq == 1 and info.state.last_seq == 300
    got = set()
    for seq in range(1, 301):
        got.add(parse_envelope((await js.get_msg(stream_for(subject), seq)).data).id)
    assert got == set(ids)


async def test_relay_is_woken_by_commit_not_by_its_poll(scratch_db, nc, unique):
    subject = f"t{unique}.thing.happened"
    js = nc.jetstream()
    sub = await nc.subscribe(subject)
    relay = OutboxRelay(scratch_db.engine, js, poll_interval=120)  # polling alone would miss
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.3)  # the relay has done its first pass and is waiting
        [event_id] = await write_events(scratch_db, subject)
        msg = await sub.next_msg(timeout=10)
        assert parse_envelope(msg.data).id == event_id
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_an_event_published_without_waking_the_relay_waits_for_its_next_pass(
    scratch_db, nc, unique
):
    quiet, loud = f"t{unique}.thing.happened", f"t{unique}.other.happened"
    js = nc.jetstream()
    sub = await nc.subscribe(f"t{unique}.>")
    relay = OutboxRelay(scratch_db.engine, js, poll_interval=120)  # no poll in this test
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.3)  # the relay has done its first pass and is waiting
        async with UnitOfWork(scratch_db.sessions, TENANT) as uow:
            waiting = uow.publish(
                event_type(quiet)(), aggregate_type="thing", aggregate_id="1", wake_relay=False
            )
            await uow.commit()
        with pytest.raises(TimeoutError):
            await sub.next_msg(timeout=1)
        assert await unpublished(scratch_db) == 1
        [woke] = await write_events(scratch_db, loud)  # any commit that wakes it takes both
        got = {parse_envelope((await sub.next_msg(timeout=10)).data).id for _ in range(2)}
        assert got == {waiting, woke}
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_row_level_security_hides_other_tenants_rows(scratch_db):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for tenant in (a, b):
        async with UnitOfWork(scratch_db.sessions, tenant) as uow:
            await uow.session.execute(
                text("INSERT INTO effect (tenant_id, event_id, note) VALUES (:t, :e, 'x')"),
                {"t": tenant, "e": str(uuid.uuid4())},
            )
            await uow.commit()
    async with UnitOfWork(scratch_db.sessions, a) as uow:
        seen = (await uow.session.execute(text("SELECT tenant_id::text FROM effect"))).scalars()
        assert set(seen) == {a}
        # Writing another tenant's row is refused by the policy's WITH CHECK.
        with pytest.raises(Exception, match="row-level security"):
            await uow.session.execute(
                text("INSERT INTO effect (tenant_id, event_id, note) VALUES (:t, :e, 'y')"),
                {"t": b, "e": str(uuid.uuid4())},
            )
    async with UnitOfWork(scratch_db.sessions, None) as uow:
        assert (await uow.session.execute(text("SELECT count(*) FROM effect"))).scalar() == 0
    async with scratch_db.sessions() as s:
        # The service's role is not a superuser: RLS applies to it (FORCE covers the owner).
        assert (
            await s.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        ).scalar() is False


async def test_producer_sets_its_streams_retention_and_consumers_do_not_reset_it(
    scratch_db, nc, unique
):
    from services.chassis.topology import ensure_consumer

    subject = f"t{unique}.link.requested"
    js = nc.jetstream()
    # A consumer starts first and creates the stream with the default retention.
    await ensure_consumer(js, consumer="someone", subject=subject, max_deliver=3, ack_wait=5)
    await write_events(scratch_db, subject)
    await OutboxRelay(scratch_db.engine, js, stream_max_age=3600).relay_once()
    info = await js.stream_info(stream_for(subject))
    assert info.config.max_age == 3600  # the producer's choice won
    await ensure_consumer(js, consumer="other", subject=subject, max_deliver=3, ack_wait=5)
    assert (await js.stream_info(stream_for(subject))).config.max_age == 3600
