"""The gateway in front of a test's own fake changeorders service (and the
project fakes for identity and projects), signed in as the session given; and
the page it renders, opened in headless Chromium at a phone's and a desktop's
width with only the page and its stylesheets served."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from portal.changeorders.v1 import changeorders_pb2 as pb
from portal.changeorders.v1 import changeorders_pb2_grpc
from portal.identity.v1 import identity_pb2

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.browser.conftest import CHROMIUM
from tests.gateway import project_fakes as F
from tests.gateway.conftest import acme, client_with_tenant
from tests.grpc_service import serve_fake, service_name

WIDTHS = (390, 1280)  # a phone, a desktop


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


@asynccontextmanager
async def in_chromium(client: httpx.AsyncClient, path: str) -> AsyncIterator[list[tuple[int, Any]]]:
    """The page at `path` as the gateway renders it, open at each of WIDTHS."""
    from playwright.async_api import async_playwright

    html = (await client.get(path)).text
    css = {
        href: (await client.get(href)).content
        for href in re.findall(r'href="(/static/[^"]+\.css[^"]*)"', html)
    }

    async def serve(route):
        asked = route.request.url.partition("://acme.localhost")[2]
        if asked in css:
            await route.fulfill(body=css[asked], content_type="text/css")
        elif asked == path:
            await route.fulfill(body=html, content_type="text/html")
        else:
            await route.abort()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            pages = []
            for width in WIDTHS:
                page = await browser.new_page(viewport={"width": width, "height": 900})
                await page.route("**/*", serve)
                await page.goto(f"http://acme.localhost{path}")
                pages.append((width, page))
            yield pages
        finally:
            await browser.close()
