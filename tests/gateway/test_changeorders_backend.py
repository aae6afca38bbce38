"""The gateway's changeorders backend: opened from GATEWAY_CHANGEORDERS_TARGET,
and without it the dependency routes use answers 503 with a stable code."""

from __future__ import annotations

import pytest

from gateway.backends import open_backends
from gateway.deps import changeorders_remote
from gateway.problems import ProblemError
from gateway.settings import GatewaySettings


def settings(keypair: tuple[str, str], **kw: str) -> GatewaySettings:
    # Channels connect lazily: nothing needs to listen on these ports.
    return GatewaySettings(
        identity_target="127.0.0.1:1",
        projects_target="127.0.0.1:1",
        notifications_target="127.0.0.1:1",
        principal_private_key=keypair[0],
        **kw,
    )


async def test_a_target_opens_the_changeorders_backend(keypair: tuple[str, str]) -> None:
    async with open_backends(settings(keypair, changeorders_target="127.0.0.1:2")) as backends:
        assert backends.changeorders is not None
        assert backends.changeorders.name == "changeorders"
        assert await changeorders_remote(backends) is backends.changeorders


async def test_without_a_target_change_orders_are_unavailable(keypair: tuple[str, str]) -> None:
    async with open_backends(settings(keypair)) as backends:
        assert backends.changeorders is None
        with pytest.raises(ProblemError) as err:
            await changeorders_remote(backends)
    assert (err.value.problem.status, err.value.problem.code) == (503, "changeorders_unavailable")
