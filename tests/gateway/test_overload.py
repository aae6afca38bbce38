"""Overload through HTTP: the real gateway app, a forced in-flight limit of one,
and a projects fake that holds the board until told: the request over the
limit is answered at once with problem+json 503 and Retry-After (never a 504
after a deadline), and the gateway serves again once the slot is free."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.app import create_app
from gateway.overload import limits_from_env
from gateway.settings import GatewaySettings
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant

BOARD = f"/projects/{F.PROJECT_ID}"
API_LIST = "/api/v1/projects"


class HeldProjects(F.FakeProjects):
    """Answers the board only once `release` is set; `entered` says it is held."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def GetStatusBoard(self, request, context):
        self.entered.set()
        await self.release.wait()
        return await super().GetStatusBoard(request, context)


@pytest.fixture
async def held(monkeypatch: pytest.MonkeyPatch, keypair: tuple[str, str]) -> AsyncIterator[F.Fakes]:
    monkeypatch.setattr(F, "FakeProjects", HeldProjects)
    async with F.fake_services(keypair[1]) as running:
        yield running


async def _app_client(settings: GatewaySettings, fakes: F.Fakes):
    fakes.identity.session = F.client_session()
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
            }
        )
    )
    return client_with_tenant(app, acme(), cookies={"portal_session": "good-session"})


async def test_over_the_limit_is_503_with_retry_after_at_once(
    settings: GatewaySettings, held: F.Fakes, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GATEWAY_MAX_IN_FLIGHT", "1")
    monkeypatch.setenv("GATEWAY_MAX_QUEUED", "0")
    projects = held.projects
    assert isinstance(projects, HeldProjects)
    async with await _app_client(settings, held) as client:
        first = asyncio.create_task(client.get(BOARD))
        await asyncio.wait_for(projects.entered.wait(), 10)
        started = asyncio.get_running_loop().time()
        refused = await client.get(API_LIST)
        waited = asyncio.get_running_loop().time() - started
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "overloaded"
        # Refused at once, not after the fakes' 10 s deadline (generous: shared CI cores).
        assert waited < 5.0
        assert not first.done()
        # Liveness is never shed.
        assert (await client.get("/healthz")).status_code == 200
        projects.release.set()
        assert (await first).status_code == 200
        # The slot is free again: the same request is served.
        assert (await client.get(BOARD)).status_code == 200


async def test_a_short_queue_waits_for_the_slot_then_sheds(
    settings: GatewaySettings, held: F.Fakes, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("GATEWAY_MAX_IN_FLIGHT", "1")
    monkeypatch.setenv("GATEWAY_MAX_QUEUED", "1")
    monkeypatch.setenv("GATEWAY_QUEUE_WAIT_SECONDS", "0.3")
    projects = held.projects
    assert isinstance(projects, HeldProjects)
    async with await _app_client(settings, held) as client:
        first = asyncio.create_task(client.get(BOARD))
        await asyncio.wait_for(projects.entered.wait(), 10)
        # Queued, but the slot stays taken past the queue's wait: shed.
        timed_out = await client.get(BOARD)
        assert timed_out.status_code == 503
        assert timed_out.headers["retry-after"] == "1"
        # Queued while the slot frees: served.
        queued = asyncio.create_task(client.get(BOARD))
        await asyncio.sleep(0.05)
        projects.release.set()
        assert (await first).status_code == 200
        assert (await queued).status_code == 200


def test_limits_come_from_the_environment():
    assert limits_from_env({}) == {"max_in_flight": 64, "max_queued": 128, "queue_wait_s": 2.0}
    assert limits_from_env({"GATEWAY_MAX_IN_FLIGHT": "3", "GATEWAY_MAX_QUEUED": "0"}) == {
        "max_in_flight": 3,
        "max_queued": 0,
        "queue_wait_s": 2.0,
    }
