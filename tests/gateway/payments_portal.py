"""The gateway in front of a test's own fake payments service (and the
project fakes for identity and projects), shared by the pay-page and
console tests that drive payments' pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from portal.payments.v1 import payments_pb2 as pb
from portal.payments.v1 import payments_pb2_grpc

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant
from tests.grpc_service import serve_fake, service_name

Services = tuple[F.Fakes, Any, str]  # the fakes, the test's FakePayments, its target


@asynccontextmanager
async def serving(fake: Any, public_key: str) -> AsyncIterator[Services]:
    """`fake` served as the PaymentsService, beside identity's and projects' fakes."""
    async with (
        serve_fake(
            lambda srv: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(fake, srv),
            service_name(pb, "PaymentsService"),
            public_key,
        ) as target,
        F.fake_services(public_key) as fakes,
    ):
        yield fakes, fake, target


@asynccontextmanager
async def signed_in(
    settings: GatewaySettings, services: Services, *, payments: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway with the session the identity fake was given."""
    fakes, _, target = services
    app = create_app(
        settings.model_copy(
            update={
                "identity_target": fakes.identity_target,
                "projects_target": fakes.projects_target,
                "payments_target": target if payments else "",
            }
        )
    )
    async with client_with_tenant(app, acme(), cookies={"portal_session": "good-session"}) as c:
        yield c
