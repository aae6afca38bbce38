"""NATS stopped in the middle of a relay batch, against a nats-server of the
test's own (the shared one stays up): no row is lost, none is marked without
its PubAck, and each aggregate's events reach the stream once, in order."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid

import nats
import pytest

from deploy.infra import Nats
from services.chassis.db import UnitOfWork
from services.chassis.outbox import OutboxRelay, PublishFailed
from tests.event_types import event_type
from tests.integration.test_outbox_relay_batches import published_ids, stream_ids

TENANT = str(uuid.uuid4())
AGGREGATES = ("a", "b", "c")


def stored_messages(server: Nats) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{server.monitor_url}/jsz", timeout=1) as answer:
        return int(json.load(answer).get("messages", 0))


def stop_once_some_are_stored(server: Nats, at_least: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and stored_messages(server) < at_least:
        time.sleep(0.001)
    server.stop()


async def test_nats_stopped_mid_batch_loses_nothing_and_marks_only_acked_rows(
    scratch_db, tmp_path, unique
):
    subject = f"t{unique}.thing.happened"
    written: dict[str, list[str]] = {a: [] for a in AGGREGATES}
    for step in range(60):  # one event of each aggregate per transaction
        async with UnitOfWork(scratch_db.sessions, TENANT) as uow:
            for aggregate in AGGREGATES:
                written[aggregate].append(
                    uow.publish(
                        event_type(subject)(amount_minor=step),
                        aggregate_type="thing",
                        aggregate_id=aggregate,
                    )
                )
            await uow.commit()
        await asyncio.sleep(0.002)  # the next transaction's created_at is later
    every = {i for ids in written.values() for i in ids}

    server = Nats(tmp_path / "store")
    server.start()
    try:
        nc = await nats.connect(server.url, allow_reconnect=False)
        relay = OutboxRelay(scratch_db.engine, nc.jetstream(timeout=1), batch_size=500, window=1)
        with pytest.raises(PublishFailed):
            await asyncio.gather(
                relay.relay_once(), asyncio.to_thread(stop_once_some_are_stored, server, 5)
            )
        await nc.close()
        marked = await published_ids(scratch_db)
        assert 0 < len(marked) < len(every)

        server.start()  # same store: what was stored before the stop is kept
        nc = await nats.connect(server.url)
        js = nc.jetstream()
        stored = await stream_ids(js, subject)
        assert marked <= set(stored)  # nothing marked without its ack
        for ids in written.values():  # a lane stops at its first failure
            assert [i for i in ids if i in marked] == ids[: len([i for i in ids if i in marked])]

        assert await OutboxRelay(scratch_db.engine, js, batch_size=500).relay_once() == len(
            every
        ) - len(marked)
        assert await published_ids(scratch_db) == every
        stored = await stream_ids(js, subject)
        assert sorted(stored) == sorted(every)  # once each: Nats-Msg-Id dropped re-sends
        for ids in written.values():
            assert [i for i in stored if i in ids] == ids
        await nc.close()
    finally:
        server.stop()
