"""The composition root every service's __main__ calls: a service declares a
`ServiceSpec` (its settings class, the services it calls, its gRPC servicer,
subscriptions and jobs) and the runtime wires the database, NATS, the gRPC
server, the outbox relay, the consumers and the jobs, then runs until
SIGTERM/SIGINT and shuts down gracefully.

Roles (`<PREFIX>_ROLE`) split one service across deployments:

    all       everything below, in one process (the default)
    grpc      the gRPC server
    relay     the outbox relay
    consumer  the event consumers
    jobs      the service's declared jobs
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

import grpc
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.chassis.auth import PrincipalSigner, PrincipalVerifier
from services.chassis.consumer import EventConsumer, Subscription
from services.chassis.db import make_engine, make_sessionmaker
from services.chassis.grpc_client import Caller, open_channel
from services.chassis.grpc_server import start_grpc_server
from services.chassis.jobs import Job, JobRunner
from services.chassis.outbox import OutboxRelay
from services.chassis.settings import Role, ServiceSettings
from services.chassis.telemetry import get_logger, setup_telemetry

log = get_logger(__name__)

S = TypeVar("S", bound=ServiceSettings)


class ConfigurationError(RuntimeError):
    """The service cannot start: its message names the variable to set."""


@dataclass(frozen=True)
class Remote:
    """A service this one calls: one channel per process, and a caller that
    signs a principal and sets a deadline on every call."""

    channel: grpc.aio.Channel
    call: Caller
    signer: PrincipalSigner


@dataclass(frozen=True)
class Deps(Generic[S]):
    """What a service's parts are built from; `settings` is the service's own class."""

    name: str
    settings: S
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    nc: NATS
    js: JetStreamContext
    signer: PrincipalSigner | None
    remotes: dict[str, Remote] = field(default_factory=dict)

    def remote(self, service: str) -> Remote:
        """The service named in `ServiceSpec.calls`."""
        try:
            return self.remotes[service]
        except KeyError:
            raise ConfigurationError(
                f"{self.name} calls {service} without declaring it: add it to ServiceSpec.calls"
            ) from None


def _nothing(deps: Deps) -> list:
    return []


@dataclass(frozen=True)
class ServiceSpec(Generic[S]):
    """A service, declared. See docs/adding-a-service.md."""

    name: str
    settings: type[S]
    grpc_service_names: Sequence[str]
    register_grpc: Callable[[grpc.aio.Server, Deps[S]], None]
    # Services this one calls: each needs `<service>_target` in the settings
    # (env `<PREFIX><SERVICE>_TARGET`) and the principal private key.
    calls: tuple[str, ...] = ()
    subscriptions: Callable[[Deps[S]], Sequence[Subscription]] = _nothing
    jobs: Callable[[Deps[S]], Sequence[Job]] = _nothing
    # Retention of the events this service produces: in its stream, and as
    # published rows kept in its outbox (for reconciling after a broker loss).
    stream_max_age_seconds: float | None = None
    outbox_keep_published: timedelta = timedelta(days=7)
    # Methods that may carry a deadline over the chassis' 60 s (full name -> seconds).
    deadline_ceilings: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A declared call without its setting is a programming error: refuse at import.
        for service in self.calls:
            if target_setting(service) not in self.settings.model_fields:
                raise TypeError(
                    f'{self.settings.__name__} needs a `{target_setting(service)}: str = ""` '
                    f"field: {self.name} calls {service}"
                )


def target_setting(service: str) -> str:
    return f"{service}_target"


def env_name(settings: ServiceSettings, setting: str) -> str:
    return f"{settings.model_config.get('env_prefix', '')}{setting}".upper()


def missing_configuration(spec: ServiceSpec[S], settings: S) -> list[str]:
    """Variables the declared calls need and that are not set."""
    missing = [
        env_name(settings, target_setting(service))
        for service in spec.calls
        if not getattr(settings, target_setting(service))
    ]
    if spec.calls and not settings.principal_private_key:
        missing.append(env_name(settings, "principal_private_key"))
    return missing


def check_configuration(spec: ServiceSpec[S], settings: S) -> None:
    missing = missing_configuration(spec, settings)
    if missing:
        raise ConfigurationError(
            f"{spec.name} cannot start: set {', '.join(missing)} "
            f"({spec.name} calls {', '.join(spec.calls)})"
        )


def build_consumer(spec: ServiceSpec[S], deps: Deps[S]) -> EventConsumer | None:
    subs = list(spec.subscriptions(deps))
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


def build_jobs(spec: ServiceSpec[S], deps: Deps[S], role: Role) -> list[Job]:
    """The jobs this role runs: the relay in "all" and "relay", the service's
    own jobs in "all" and "jobs"."""
    jobs: list[Job] = []
    if role in ("all", "relay"):
        relay = OutboxRelay(
            deps.engine,
            deps.js,
            keep_published=spec.outbox_keep_published,
            stream_max_age=spec.stream_max_age_seconds,
        )
        jobs.append(relay.job())
    if role in ("all", "jobs"):
        jobs.extend(spec.jobs(deps))
    return jobs


async def connect_nats(url: str, name: str) -> NATS:
    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5
    )


async def build_deps(spec: ServiceSpec[S], settings: S) -> Deps[S]:
    check_configuration(spec, settings)
    signer = (
        PrincipalSigner(settings.principal_private_key) if settings.principal_private_key else None
    )
    remotes = {}
    if signer is not None:
        remotes = {
            service: Remote(
                open_channel(getattr(settings, target_setting(service))), Caller(signer), signer
            )
            for service in spec.calls
        }
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    nc = await connect_nats(settings.nats_url, spec.name)
    return Deps(
        spec.name, settings, engine, make_sessionmaker(engine), nc, nc.jetstream(), signer, remotes
    )


async def close_deps(deps: Deps) -> None:
    for remote in deps.remotes.values():
        with contextlib.suppress(Exception):
            await remote.channel.close()
    with contextlib.suppress(Exception):
        await deps.nc.drain()
    await deps.engine.dispose()


async def run_service(
    spec: ServiceSpec[S], settings: S, *, stop: asyncio.Event | None = None
) -> None:
    """Run the parts of `settings.role` until SIGTERM/SIGINT (or `stop`, in tests)."""
    setup_telemetry(spec.name, log_level=settings.log_level)
    deps = await build_deps(spec, settings)
    if stop is None:
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
    jobs = build_jobs(spec, deps, role)
    if jobs:
        runner = JobRunner(deps.engine, jobs, namespace=spec.name)
        tasks.append(asyncio.create_task(runner.run(stop)))
    if role in ("all", "consumer"):
        consumer = build_consumer(spec, deps)
        if consumer is not None:
            tasks.append(asyncio.create_task(consumer.run(stop)))
    freeze_startup_heap()
    log.info("service started", service=spec.name, role=role, jobs=[j.name for j in jobs])

    await stop.wait()
    log.info("service stopping", service=spec.name)
    if server is not None:
        await server.stop(grace=5)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)
    for task in tasks:
        task.cancel()
    await close_deps(deps)
    log.info("service stopped", service=spec.name)


def freeze_startup_heap() -> None:
    """Move what start-up built (modules, classes, the ORM's mappers, protobuf
    descriptors: ~160k objects) out of the collector's reach, once serving.
    Otherwise each full collection walks all of it: measured under webhook
    load, one every ~20 s in the gateway and in payments, each ~150 ms of CPU
    with the event loop stopped, which alone breaks a 20 ms p99 (bench/HISTORY.md,
    branch webhooks). Collected first, so no garbage is frozen with it."""
    gc.collect()
    gc.freeze()


def use_uvloop() -> None:
    """uvloop makes grpc.aio and asyncpg cheaper; it is optional (not on Windows)."""
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()


def main(spec: ServiceSpec[S]) -> None:
    """Entry point for `python -m services.<name>`."""
    settings = spec.settings()
    use_uvloop()
    try:
        asyncio.run(run_service(spec, settings))
    except ConfigurationError as exc:
        raise SystemExit(str(exc)) from None
