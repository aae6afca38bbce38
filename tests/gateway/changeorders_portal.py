"""The gateway in front of a test's own fake changeorders service (and the
project fakes for identity and projects), signed in as the session given.
`in_chromium` (tests/gateway/chromium_pages.py) opens the page it renders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.identity.v1 import identity_pb2

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant
from tests.grpc_service import serve_fake, service_name


@asynccontextmanager
async def signed_in(
    fake: Any, keypair: tuple[str, str], settings: GatewaySettings, session: identity_pb2.Session
) -> AsyncIterator[httpx.AsyncClient]:
    """`fake` served as the ChangeOrdersService; the client signed in as `session`."""
    async with (
        serve_fake(
            lambda srv: changeorders_pb2_grpc.add_ChangeOrdersServiceServicer_to_server(fake, srv),
            service_name(pb, "ChangeOrdersService"),
            keypair[1],
        ) as target,
        F.fake_services(keypair[1]) as fakes,
    ):
        fakes.identity.session = session
        app = create_app(
            settings.model_copy(
                update={
                    "identity_target": fakes.identity_target,
                    "projects_target": fakes.projects_target,
                    "changeorders_target": target,
                }
            )
        )
        async with client_with_tenant(
            app, acme(), cookies={"portal_session": "good-session"}
        ) as client:
            yield client
