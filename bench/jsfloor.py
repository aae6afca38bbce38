"""The events floor: bare JetStream publish -> pull consumer, two processes on
the suite's nats-server, no database.

    python -m bench.jsfloor consume --nats URL --count N
        ensures stream BENCHFLOOR (file storage, like the suite's streams) and a
        durable explicit-ack pull consumer, prints "ready", then fetches the way
        the chassis consumer does (fetch(20, timeout=1)), acks each message and
        records handled - published; prints one JSON line when N arrived.
    python -m bench.jsfloor publish --nats URL --count N --rate R
        publishes N messages at a steady R/s (an absolute schedule, not a burst),
        each carrying its send time, awaiting JetStream's ack for each; prints one
        JSON line with the publish-with-ack latencies.

Times are CLOCK_MONOTONIC (time.monotonic_ns), which is one clock for every
process on a Linux machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import time

from services.chassis.runtime import use_uvloop

STREAM = "BENCHFLOOR"
SUBJECT = "benchfloor.tick"
DURABLE = "bench-floor"
_PAYLOAD = struct.Struct("!qq")  # seq, published at (monotonic ns)


async def _connect(url: str):
    import nats

    return await nats.connect(url, name="bench-jsfloor", connect_timeout=5)


async def consume(url: str, count: int, timeout: float) -> dict:
    from nats.errors import TimeoutError as NatsTimeoutError
    from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    nc = await _connect(url)
    js = nc.jetstream()
    config = StreamConfig(
        name=STREAM, subjects=["benchfloor.>"], storage=StorageType.FILE, max_age=3600.0
    )
    try:
        await js.stream_info(STREAM)
        await js.purge_stream(STREAM)
    except NotFoundError:
        await js.add_stream(config)
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=DURABLE,
            filter_subject=SUBJECT,
            ack_policy=AckPolicy.EXPLICIT,
            max_ack_pending=1000,
        ),
    )
    psub = await js.pull_subscribe_bind(DURABLE, stream=STREAM)
    print("ready", flush=True)
    latencies: list[int] = []
    deadline = time.monotonic() + timeout
    while len(latencies) < count and time.monotonic() < deadline:
        try:
            msgs = await psub.fetch(20, timeout=1.0)
        except (TimeoutError, NatsTimeoutError):
            continue
        for msg in msgs:
            _seq, sent = _PAYLOAD.unpack(msg.data)
            latencies.append(time.monotonic_ns() - sent)
            await msg.ack()
    await psub.unsubscribe()
    await js.delete_stream(STREAM)
    await nc.drain()
    return {"received": len(latencies), "handled_ns": latencies}


async def publish(url: str, count: int, rate: float) -> dict:
    nc = await _connect(url)
    js = nc.jetstream()
    acks: list[int] = []
    start = time.monotonic() + 0.2
    for seq in range(count):
        delay = start + seq / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic_ns()
        await js.publish(SUBJECT, _PAYLOAD.pack(seq, sent), stream=STREAM)
        acks.append(time.monotonic_ns() - sent)
    await nc.drain()
    return {"published": len(acks), "ack_ns": acks}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.jsfloor", description=__doc__)
    parser.add_argument("role", choices=["consume", "publish"])
    parser.add_argument("--nats", required=True)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    use_uvloop()
    if args.role == "consume":
        result = asyncio.run(consume(args.nats, args.count, args.timeout))
    else:
        result = asyncio.run(publish(args.nats, args.count, args.rate))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
