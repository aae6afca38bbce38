"""The change-order composite floor: HTTP -> gRPC -> one PostgreSQL transaction
(a row + an outbox row, NOTIFY) -> relay -> JetStream -> a durable pull
consumer committing a row in another database. Each part its own process, on
the suite's PostgreSQL and nats-server (own databases, stream BENCHCO):

    python -m bench.changeorders_floor http --port N --target 127.0.0.1:M
    python -m bench.changeorders_floor grpc --port M --dsn PRODUCER_DSN
    python -m bench.changeorders_floor relay --dsn PRODUCER_DSN --nats URL
    python -m bench.changeorders_floor consume --dsn CONSUMER_DSN --nats URL

The gRPC method carries raw bytes (no protobuf): the floor is the hops and the
two durable commits, nothing more. Latency is read back like the suite's:
the consumer row's commit timestamp - the HTTP request's start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import uuid

# At module level: the handler's annotations are strings FastAPI resolves here.
from fastapi import FastAPI, Request

STREAM, SUBJECT, DURABLE = "BENCHCO", "benchco.approved", "bench-co-floor"
CHANNEL = "bench_co_outbox"
METHOD = "/bench.Floor/Approve"
PRODUCER_SQL = """
CREATE TABLE IF NOT EXISTS approval (key uuid PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS outbox (
    id uuid PRIMARY KEY, subject text NOT NULL, payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
"""
CONSUMER_SQL = "CREATE TABLE IF NOT EXISTS handled (key uuid PRIMARY KEY);"


def _stopper() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def http(port: int, target: str) -> None:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager
    from typing import Any

    import grpc
    import uvicorn

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with grpc.aio.insecure_channel(target) as channel:
            yield {"approve": channel.unary_unary(METHOD)}

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)

    @app.post("/floor/approve/{key}")
    async def approve(key: uuid.UUID, request: Request) -> dict[str, str]:
        await request.state.approve(key.bytes, timeout=10)
        return {"id": str(key), "status": "approved"}

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


async def _grpc(port: int, dsn: str) -> None:
    import asyncpg
    import grpc

    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)

    async def approve(request: bytes, _context: object) -> bytes:
        key = uuid.UUID(bytes=request)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO approval (key) VALUES ($1)", key)
            await conn.execute(
                "INSERT INTO outbox (id, subject, payload) VALUES ($1, $2, $3)",
                uuid.uuid4(),
                SUBJECT,
                request,
            )
            await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
        return b"ok"

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.unary_unary_rpc_method_handler(approve)
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("bench.Floor", {"Approve": handler})]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await _stopper().wait()
    await server.stop(grace=1)
    await pool.close()


async def _relay(dsn: str, nats_url: str) -> None:
    """Woken by NOTIFY, polling each second as a fallback; a batch of up to 100
    published concurrently (like the chassis relay), then marked, in one tx."""
    import asyncpg
    import nats

    nc = await nats.connect(nats_url, name="bench-co-relay")
    js = nc.jetstream()
    listen = await asyncpg.connect(dsn)
    work = await asyncpg.connect(dsn)
    wake = asyncio.Event()
    await listen.add_listener(CHANNEL, lambda *_: wake.set())
    stop = _stopper()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), 1.0)
        wake.clear()
        while True:
            async with work.transaction():
                rows = await work.fetch(
                    "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL"
                    " ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED"
                )
                await asyncio.gather(
                    *(
                        js.publish(
                            r["subject"], r["payload"], headers={"Nats-Msg-Id": str(r["id"])}
                        )
                        for r in rows
                    )
                )
                if rows:
                    await work.execute(
                        "UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])",
                        [r["id"] for r in rows],
                    )
            if len(rows) < 100:
                break
    await listen.close()
    await work.close()
    await nc.drain()


async def _consume(dsn: str, nats_url: str) -> None:
    """Fetches like the chassis consumer (fetch(20, timeout=1)); per message one
    transaction, then the ack."""
    import asyncpg
    import nats
    from nats.errors import TimeoutError as NatsTimeoutError

    nc = await nats.connect(nats_url, name="bench-co-consumer")
    js = nc.jetstream()
    conn = await asyncpg.connect(dsn)
    psub = await js.pull_subscribe_bind(DURABLE, stream=STREAM)
    stop = _stopper()
    while not stop.is_set():
        try:
            msgs = await psub.fetch(20, timeout=1.0)
        except (TimeoutError, NatsTimeoutError):
            continue
        for msg in msgs:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO handled (key) VALUES ($1) ON CONFLICT DO NOTHING",
                    uuid.UUID(bytes=msg.data),
                )
            await msg.ack()
    await conn.close()
    await nc.drain()


async def prepare(admin_url: str, nats_url: str) -> tuple[str, str]:
    """Fresh databases and stream; returns (producer DSN, consumer DSN)."""
    import asyncpg
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig

    base = admin_url.rsplit("/", 1)[0]
    admin = await asyncpg.connect(admin_url)
    try:
        for name in ("benchco_producer", "benchco_consumer"):
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    producer, consumer = f"{base}/benchco_producer", f"{base}/benchco_consumer"
    for dsn, sql in ((producer, PRODUCER_SQL), (consumer, CONSUMER_SQL)):
        conn = await asyncpg.connect(dsn)
        await conn.execute(sql)
        await conn.close()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    with contextlib.suppress(Exception):
        await js.delete_stream(STREAM)
    await js.add_stream(
        StreamConfig(name=STREAM, subjects=["benchco.>"], storage=StorageType.FILE, max_age=3600.0)
    )
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=DURABLE,
            filter_subject=SUBJECT,
            ack_policy=AckPolicy.EXPLICIT,
            max_ack_pending=1000,
        ),
    )
    await nc.drain()
    return producer, consumer


async def cleanup(admin_url: str, nats_url: str) -> None:
    import asyncpg
    import nats

    nc = await nats.connect(nats_url)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(STREAM)
    await nc.drain()
    admin = await asyncpg.connect(admin_url)
    try:
        for name in ("benchco_producer", "benchco_consumer"):
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.changeorders_floor", description=__doc__)
    parser.add_argument("kind", choices=["http", "grpc", "relay", "consume"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--target")
    parser.add_argument("--dsn")
    parser.add_argument("--nats")
    args = parser.parse_args(argv)
    if args.kind == "http":
        http(args.port, args.target)
        return
    from services.chassis.runtime import use_uvloop

    use_uvloop()
    if args.kind == "grpc":
        asyncio.run(_grpc(args.port, args.dsn))
    elif args.kind == "relay":
        asyncio.run(_relay(args.dsn, args.nats))
    else:
        asyncio.run(_consume(args.dsn, args.nats))


if __name__ == "__main__":
    main()
