"""The composition root every service's __main__ calls: wire the database,
NATS, the gRPC server, the outbox relay and the consumers, then run until
SIGTERM/SIGINT and shut down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.chassis.auth import PrincipalSigner, PrincipalVerifier
from services.chassis.consumer import EventConsumer, Subscription
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_server import start_grpc_server
from services.chassis.outbox import OutboxRelay
from services.chassis.settings import ServiceSettings
from services.chassis.telemetry import get_logger, setup_telemetry

log = get_logger(__name__)


@dataclass
class Deps:
    """What a service's parts are built from."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nc: NATS
    js: JetStreamContext
    signer: PrincipalSigner | None


BackgroundTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class ServiceSpec:
    name: str
    grpc_service_names: Sequence[str]
    register_grpc: Callable[[grpc.aio.Server, Deps], None]
    subscriptions: Callable[[Deps], list[Subscription]] = lambda deps: []
    background: Callable[[Deps], list[BackgroundTask]] = lambda deps: []
    # Retention of the events this service produces: in its stream, and as
    # published rows kept in its outbox (for reconciling after a broker loss).
    stream_max_age_seconds: float | None = None
    outbox_keep_published: timedelta = timedelta(days=7)
    # Methods that may carry a deadline over the chassis' 60 s (full name -> seconds).
    deadline_ceilings: Mapping[str, float] = field(default_factory=dict)


def build_consumer(spec: ServiceSpec, deps: Deps) -> EventConsumer | None:
    subs = spec.subscriptions(deps)
    if not subs:
        return None
    s = deps.settings
    return EventConsumer(
        consumer=spec.name,
        sessions=deps.sessions,
        js=deps.js,
        subscriptions=subs,
        max_deliver=s.consumer_max_deliver,
        backoff=s.consumer_backoff_seconds,
        ack_wait=s.consumer_ack_wait_seconds,
    )


async def connect_nats(url: str, name: str) -> NATS:
    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5
    )


async def build_deps(name: str, settings: ServiceSettings) -> Deps:
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    nc = await connect_nats(settings.nats_url, name)
    signer = (
        PrincipalSigner(settings.principal_private_key) if settings.principal_private_key else None
    )
    return Deps(name, settings, engine, make_sessionmaker(engine), nc, nc.jetstream(), signer)


async def run_service(spec: ServiceSpec, settings: ServiceSettings) -> None:
    setup_telemetry(spec.name, log_level=settings.log_level)
    deps = await build_deps(spec.name, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tasks: list[asyncio.Task] = []
    server = None
    role = settings.role
    if role in ("all", "grpc"):
        server, port, _ = await start_grpc_server(
            host=settings.grpc_host,
            port=settings.grpc_port,
            verifier=PrincipalVerifier(settings.principal_public_key),
            register=lambda srv: spec.register_grpc(srv, deps),
            service_names=spec.grpc_service_names,
            deadline_ceilings=spec.deadline_ceilings,
        )
        log.info("grpc serving", port=port, role=role)
    if role in ("all", "relay"):
        relay = OutboxRelay(
            deps.engine,
            deps.js,
            keep_published=spec.outbox_keep_published,
            stream_max_age=spec.stream_max_age_seconds,
        )
        tasks.append(asyncio.create_task(relay.run(stop)))
    if role in ("all", "consumer"):
        consumer = build_consumer(spec, deps)
        if consumer is not None:
            tasks.append(asyncio.create_task(consumer.run(stop)))
    if role == "all":
        tasks.extend(asyncio.create_task(task(stop)) for task in spec.background(deps))
    log.info("service started", service=spec.name, role=role)

    await stop.wait()
    log.info("service stopping", service=spec.name)
    if server is not None:
        await server.stop(grace=5)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    for task in tasks:
        task.cancel()
    with contextlib.suppress(Exception):
        await deps.nc.drain()
    await deps.engine.dispose()
    log.info("service stopped", service=spec.name)


def use_uvloop() -> None:
    """uvloop makes grpc.aio and asyncpg cheaper; it is optional (not on Windows)."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()


def main(spec: ServiceSpec, settings_factory: Callable[[], ServiceSettings]) -> None:
    """Entry point for `python -m services.<name>`."""
    use_uvloop()
    asyncio.run(run_service(spec, settings_factory()))
