"""Gateway tests need no other process: a target nobody listens on stands in
for a service that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from deploy.infra import free_port
from gateway.settings import GatewaySettings


@pytest.fixture
def settings(keypair: tuple[str, str]) -> GatewaySettings:
    nobody = f"127.0.0.1:{free_port()}"
    return GatewaySettings(
        _env_file=None,
        environment="test",
        base_domain="localhost",
        identity_target=nobody,
        projects_target=nobody,
        notifications_target=nobody,
        principal_private_key=keypair[0],
        rpc_timeout_seconds=2.0,
    )


@asynccontextmanager
async def client_for(app: FastAPI, *, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan and hands each request its state, as uvicorn does."""
    async with app.router.lifespan_context(app) as state:

        async def served(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
            yield client


@asynccontextmanager
async def client_without_lifespan(app: FastAPI, *, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """For requests that must be answered before any service could be asked."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
        yield client
