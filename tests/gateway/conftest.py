"""Gateway tests need no other process: a target nobody listens on stands in
for a service that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from portal.identity.v1 import identity_pb2
from starlette.types import Receive, Scope, Send

from deploy.infra import free_port
from gateway.settings import GatewaySettings
from gateway.tenancy import Tenant


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
async def client_with_tenant(
    app: FastAPI, tenant: Tenant, *, cookies: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with `tenant` already in its tenant cache, as after a lookup:
    what needs no further call to identity can be exercised without it."""
    async with app.router.lifespan_context(app) as state:
        assert state is not None
        state["tenants"].put(tenant.slug, tenant)

        async def served(scope: Scope, receive: Receive, send: Send) -> None:
            await app({**scope, "state": dict(state)}, receive, send)

        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{tenant.slug}.localhost", cookies=cookies
        ) as client:
            yield client


def acme(**branding: str) -> Tenant:
    return Tenant(
        id="5f0c5e0e-1c52-4b7e-9c55-8c1d2f0b7e11",
        slug="acme",
        display_name="Acme Home Cinema",
        branding=identity_pb2.Branding(
            **{
                "headline": "Your home cinema, built right.",
                "accent_color": "#b4442b",
                "support_email": "studio@acme.example",
                **branding,
            }
        ),
        time_zone="America/New_York",
        currency="USD",
        region="US",
    )


@asynccontextmanager
async def client_without_lifespan(app: FastAPI, *, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """For requests that must be answered before any service could be asked."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as client:
        yield client
