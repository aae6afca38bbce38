"""Shared fixtures: one embedded PostgreSQL and one nats-server per test run,
on free ports, stopped at the end."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client as NATS
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from deploy.infra import Nats, Postgres
from deploy.infra.localstripe import Localstripe
from services.chassis.auth import generate_keypair

# The whole suite (every process) for e2e and browser tests: one per run.
from tests.suite import FAST_PG, gw, mail, running  # noqa: F401

# The test process calls the services like any caller, so its spans are
# sampled (and exported nowhere). Without this, the first gateway app built
# in-process sets the production policy with no exporter (ratio 0), and every
# later gRPC call from the test process carries "not sampled": the services,
# parent-based, then drop the spans that the e2e tests read from their trace
# files (which tests ran first decided whether a trace test passed).
trace.set_tracer_provider(TracerProvider(sampler=ALWAYS_ON))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    server = Postgres(tmp_path_factory.mktemp("pg") / "data", settings=FAST_PG)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nats]:
    server = Nats(tmp_path_factory.mktemp("nats") / "store")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Localstripe]:
    """The Stripe emulator, for the real Stripe SDK to talk to."""
    server = Localstripe(tmp_path_factory.mktemp("localstripe") / "localstripe.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_server: Nats) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.drain()


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
def unique() -> str:
    """A short unique token for names (databases, streams, subjects)."""
    return uuid.uuid4().hex[:8]
