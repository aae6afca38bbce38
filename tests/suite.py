"""The whole suite, every process separate, started once per test run for the
e2e and browser tests (the fixtures are registered by tests/conftest.py):
embedded PostgreSQL, NATS, the SMTP sink, identity, projects, notifications,
the gateway; seeded with the demo integrator exactly as `make run` does."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from deploy.cli import seed_and_describe
from deploy.suite import Suite, SuiteOptions

# Durability off: tests never survive an OS crash, and the suite starts faster.
FAST_PG = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass
class Running:
    suite: Suite
    info: dict
    data_dir: Path

    @property
    def host(self) -> str:
        return self.info["demo_host"].split(":")[0]

    def headers(self, *, token: str | bool | None = None, host: str | None = None) -> dict:
        h = {"Host": host or self.host}
        if token is not False:
            h["Authorization"] = f"Bearer {token or self.info['staff_token']}"
        return h

    def trace_file(self, service: str) -> Path:
        return self.data_dir / f"traces-{service}.jsonl"


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("suite")
    options = SuiteOptions(
        data_dir=data_dir,
        log_file=data_dir / "suite.log",
        postgres_settings=FAST_PG,
        with_localstripe=True,
        extra_env={
            "PORTAL_TRACE_FILE": str(data_dir / "traces-{service}.jsonl"),
            # Quick retries so the fault tests finish fast; the policy is the same.
            "NOTIFICATIONS_CONSUMER_BACKOFF_SECONDS": "[0.2, 0.5, 1, 2, 2, 2, 2]",
            "NOTIFICATIONS_CONSUMER_MAX_DELIVER": "30",
            "NOTIFICATIONS_MAIL_RETRY_SECONDS": "[0.5, 1, 1, 2, 2, 2, 2]",
            "NOTIFICATIONS_SHARE_DIGEST_QUIET_SECONDS": "1.5",
            "NOTIFICATIONS_SHARE_DIGEST_INTERVAL_SECONDS": "0.3",
        },
    )
    suite = Suite(options)
    suite.start()
    try:
        info = seed_and_describe(suite, data_dir)
        yield Running(suite, info, data_dir)
    finally:
        pids = [c.proc.pid for c in suite.children.values() if c.proc is not None]
        pids += [p for p in (suite.postgres.pid, suite.nats.pid) if p]
        suite.stop()
        for pid in pids:  # nothing we started outlives the suite
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)


@pytest.fixture
async def gw(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=running.suite.gateway_url, timeout=15, trust_env=False
    ) as client:
        yield client


@pytest.fixture
async def mail(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=running.suite.mail_url, timeout=5, trust_env=False
    ) as client:
        yield client


async def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
